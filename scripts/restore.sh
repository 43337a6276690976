#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into the configured database, which must exist
# and be empty (createdb), and the configured storage folder, which must be empty or absent;
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
print(s.storage_path)')
db_url=${conf[0]}
storage=${conf[1]}

tables=$(psql "$db_url" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "the database is not empty ($tables tables): restore into a new one (createdb)" >&2; exit 2
fi
if [ -d "$storage" ] && [ -n "$(ls -A "$storage")" ]; then
  echo "the storage folder $storage is not empty: restore into a new one" >&2; exit 2
fi

pg_restore --no-owner --no-privileges --exit-on-error --dbname "$db_url" "$src/database.dump"
mkdir -p "$storage"
chmod 700 "$storage"
tar -C "$storage" -xf "$src/storage.tar"
"$BIN/palimpsest" migrate
echo "restored $src into $storage and the configured database"
