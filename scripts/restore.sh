#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into the configured database, which must exist
# and be empty (createdb), and the configured storage folder, which must be empty or absent
# (or, with PALIMPSEST_STORAGE_URL=s3://…, the bucket and prefix, which must hold no blob);
# then bring the schema up to this version of Palimpsest. Stop the service while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PALIMPSEST_BIN:-.venv/bin}
src=${1:?usage: scripts/restore.sh BACKUP_DIR   (a folder palimpsest-<date> made by backup.sh)}
[ -f "$src/database.dump" ] && [ -f "$src/storage.tar" ] || {
  echo "$src is not a Palimpsest backup (database.dump and storage.tar expected)" >&2; exit 2; }

mapfile -t conf < <("$BIN/python" -c '
from service.config import get_settings
s = get_settings()
print(s.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1))
from service.storage import LocalStore, open_storage
store = open_storage(s)
print(store.root if isinstance(store, LocalStore) else "")
print(store.url)
print("empty" if next(store.digests(), None) is None else "blobs")')
db_url=${conf[0]}
storage=${conf[1]}
location=${conf[2]}
holds=${conf[3]}

tables=$(psql "$db_url" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "the database is not empty ($tables tables): restore into a new one (createdb)" >&2; exit 2
fi
if [ -z "$storage" ] && [ "$holds" != "empty" ]; then
  echo "the object store $location already holds files: restore into a new prefix" >&2; exit 2
fi
if [ -n "$storage" ] && [ -d "$storage" ] && [ -n "$(ls -A "$storage")" ]; then
  echo "the storage folder $storage is not empty: restore into a new one" >&2; exit 2
fi

pg_restore --no-owner --no-privileges --exit-on-error --dbname "$db_url" "$src/database.dump"
if [ -z "$storage" ]; then  # into the bucket: unpacked aside, then copied and checked
  unpacked=$(mktemp -d)
  trap 'rm -rf "$unpacked"' EXIT
  tar -C "$unpacked" -xf "$src/storage.tar"
  "$BIN/palimpsest" --log-level warning storage migrate --from "file://$unpacked" --to "$location" >/dev/null
  storage=$location
else
  mkdir -p "$storage"
  chmod 700 "$storage"
  tar -C "$storage" -xf "$src/storage.tar"
fi
"$BIN/palimpsest" migrate
echo "restored $src into $storage and the configured database"
