#!/usr/bin/env bash
# Back up Palimpsest into a new folder DEST/palimpsest-<date>: the database (pg_dump, custom
# format) and the stored files (uploaded files and page images), from the storage folder or,
# with PALIMPSEST_STORAGE_URL=s3://…, copied out of the bucket (each verified by its
# SHA-256) into the same storage.tar. Restore with
# scripts/restore.sh. Safe while the service runs: pg_dump reads one consistent snapshot,
# and stored files never change once written, so copying them after the dump keeps every
# file the dump refers to (avoid deleting documents while it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PALIMPSEST_BIN:-.venv/bin}
dest_root=${1:?usage: scripts/backup.sh DEST_DIR}

# The same settings the service uses (PALIMPSEST_* variables, .env).
mapfile -t conf < <("$BIN/python" -c '
from service.config import get_settings
s = get_settings()
print(s.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1))
from service.storage import LocalStore, open_storage
store = open_storage(s)
print(store.root if isinstance(store, LocalStore) else "")
print(store.url)')
db_url=${conf[0]}
storage=${conf[1]}
location=${conf[2]}

dest="$dest_root/palimpsest-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$dest"
chmod 700 "$dest"  # the backup holds the archive's scans and texts
pg_dump --format=custom --no-owner --no-privileges --file "$dest/database.dump" "$db_url"
if [ -z "$storage" ]; then  # object storage: the bucket's blobs, copied out and checked
  "$BIN/palimpsest" --log-level warning storage migrate --to "file://$dest/storage" --no-switch >/dev/null
  tar -C "$dest/storage" -cf "$dest/storage.tar" .
  rm -rf "$dest/storage"
  echo "$location" >"$dest/storage-url.txt"
elif [ -d "$storage" ]; then
  tar -C "$storage" -cf "$dest/storage.tar" .
else
  tar -cf "$dest/storage.tar" -T /dev/null
fi
"$BIN/alembic" -c migrations/alembic.ini current 2>/dev/null | tail -n 1 >"$dest/schema-revision.txt" || true
echo "backup written to $dest"
