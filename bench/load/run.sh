#!/usr/bin/env bash
# Production-like load run: 2 web workers (round robin by locust users), sockets on ASGI,
# Celery worker, PostgreSQL database audotics_load, Redis db 9; locust headless, CSV out.
#   [SPAWN_RATE=users/s] bench/load/run.sh LAYOUT USERS DURATION [RUNS]
#   LAYOUT=asgi: REST and sockets on 2 uvicorn workers
#   LAYOUT=wsgi: REST on 2 granian instances (WSGI_WORKERS workers each, one request thread);
#                sockets on 1 uvicorn worker
#   LAYOUT=gunicorn: the same with gunicorn sync workers (what deploy/ used before granian)
set -euo pipefail
cd "$(dirname "$0")/../.."
LAYOUT=${1:-asgi}; USERS=${2:-50}; DURATION=${3:-60s}; RUNS=${4:-1}
BIN=.venv/bin
OUT=bench/out/load; mkdir -p "$OUT"
export DATABASE_URL=${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/audotics_load}
export REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/9}
export AUDOTICS_HOME=${AUDOTICS_HOME:-/tmp/audotics-load-home}
mkdir -p "$AUDOTICS_HOME"
# Keys are made once and kept: the seeded rows are encrypted with them.
if [ ! -f "$AUDOTICS_HOME/load.env" ]; then
  {
    echo "export SECRET_KEY=$(python3 -c 'import secrets;print(secrets.token_urlsafe(40))')"
    echo "export FIELD_ENCRYPTION_KEYS=k1:$(python3 -c 'import base64,secrets;print(base64.b64encode(secrets.token_bytes(32)).decode())')"
    echo "export FIELD_HMAC_KEY=$(python3 -c 'import secrets;print(secrets.token_urlsafe(32))')"
  } >"$AUDOTICS_HOME/load.env"
fi
. "$AUDOTICS_HOME/load.env"
export ALLOWED_HOSTS=127.0.0.1,localhost TRUSTED_PROXY_COUNT=1 LOG_LEVEL=WARNING
export DB_CONN_MAX_AGE=${DB_CONN_MAX_AGE:-60}

psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='audotics_load'" \
  | grep -q 1 || createdb -h 127.0.0.1 -U postgres audotics_load
$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py seed_demo --if-empty --tracks "${LOAD_TRACKS:-5000}" --users "${LOAD_DEMO_USERS:-50}"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
start() { setsid "$@" >>"$OUT/servers.log" 2>&1 & PIDS+=($!); }
P1=18501; P2=18502; PW=18503
if [ "$LAYOUT" = wsgi ] || [ "$LAYOUT" = gunicorn ]; then
  for port in $P1 $P2; do
    if [ "$LAYOUT" = wsgi ]; then
      start $BIN/granian --interface wsgi --host 127.0.0.1 --port $port --workers "${WSGI_WORKERS:-3}" \
        --blocking-threads 1 --log-level warning audotics.wsgi:application
    else
      start $BIN/gunicorn -b 127.0.0.1:$port -w "${WSGI_WORKERS:-3}" --log-level warning audotics.wsgi
    fi
  done
  start $BIN/uvicorn --host 127.0.0.1 --port $PW --log-level warning audotics.asgi:application
  WS=http://127.0.0.1:$PW
else
  start $BIN/uvicorn --host 127.0.0.1 --port $P1 --log-level warning audotics.asgi:application
  start $BIN/uvicorn --host 127.0.0.1 --port $P2 --log-level warning audotics.asgi:application
  WS=http://127.0.0.1:$P1
fi
start $BIN/celery -A audotics worker --pool=solo --loglevel WARNING
for port in $P1 $P2 ${PW:+$PW}; do
  [ "$LAYOUT" = asgi ] && [ "$port" = $PW ] && continue
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
done

for run in $(seq "$RUNS"); do
  redis-cli -u "$REDIS_URL" flushdb >/dev/null   # fresh rate-limit counters (db 9 is ours)
  echo "== $LAYOUT users=$USERS duration=$DURATION run=$run  uptime: $(uptime)"
  PREFIX="$OUT/${LAYOUT}_u${USERS}_r${run}"
  LOAD_HOSTS="http://127.0.0.1:$P1,http://127.0.0.1:$P2" LOAD_WS_HOST=$WS \
    $BIN/locust -f bench/load/locustfile.py --headless -u "$USERS" -r "${SPAWN_RATE:-$USERS}" -t "$DURATION" \
    --csv "$PREFIX" --only-summary --loglevel WARNING >"$PREFIX.log" 2>&1 || true
  $BIN/python bench/load/summary.py "${PREFIX}_stats.csv"
done
