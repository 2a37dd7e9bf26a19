#!/usr/bin/env bash
# Start N bot instances on the production endpoints profile (PostgreSQL tracker store, Redis
# lock store), one action server, the staff console and, if nginx is installed, a
# round-robin load balancer in front of them. Ctrl-C stops them all; a server that dies is
# named and restarted (scripts/supervise.sh). See docs/deploy.md.
#
#   scripts/scale.sh N [MODEL]        (make scale N=2)
#
# Settings come from the environment (defaults suit one machine with local services):
#   DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD      PostgreSQL (127.0.0.1 5432 certbot postgres "")
#   REDIS_HOST REDIS_PORT REDIS_DB REDIS_PASSWORD    Redis (127.0.0.1 6379 1 "")
#   RABBITMQ_HOST [RABBITMQ_PORT RABBITMQ_USER RABBITMQ_PASSWORD]  publish events (optional)
#   MODEL_PULL_TOKEN   pull the live model from the console instead of loading MODEL
#   SANIC_WORKERS      worker processes per instance (each loads its own model)
#   BOT_PORT_BASE (5101) ACTIONS_PORT (5055) CONSOLE_PORT (5006) LB_PORT (8080)
#   TLS_CERT TLS_KEY   certificate and key: the balancer then speaks HTTPS
set -euo pipefail
count=${1:?usage: scripts/scale.sh N [MODEL]}
model=${2:-models/certbot.tar.gz}
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive number, not '$count'" >&2; exit 2; }

export DB_HOST=${DB_HOST:-127.0.0.1} DB_PORT=${DB_PORT:-5432} DB_NAME=${DB_NAME:-certbot}
export DB_USER=${DB_USER:-postgres} DB_PASSWORD=${DB_PASSWORD:-}
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379} REDIS_DB=${REDIS_DB:-1}
export REDIS_PASSWORD=${REDIS_PASSWORD:-}
export RABBITMQ_PORT=${RABBITMQ_PORT:-5672} RABBITMQ_USER=${RABBITMQ_USER:-guest}
export RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-guest}
bot_port_base=${BOT_PORT_BASE:-5101}
actions_port=${ACTIONS_PORT:-5055}
console_port=${CONSOLE_PORT:-5006}
lb_port=${LB_PORT:-8080}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$actions_port/webhook}
export CONSOLE_URL=${CONSOLE_URL:-http://127.0.0.1:$console_port}
# The bots take the client's address from the balancer's X-Forwarded-For (rate limits).
export SANIC_PROXIES_COUNT=${SANIC_PROXIES_COUNT:-1}

state=var/scale
mkdir -p "$state"
endpoints=$state/endpoints.yml
if [ -n "${MODEL_PULL_TOKEN:-}" ]; then
  cp deploy/endpoints.prod.yml "$endpoints"
  model_args=()
else
  # No token: every instance loads MODEL; drop the model-server section.
  awk '/^[a-z_]+:/ { skip = ($1 == "models:") } !skip' deploy/endpoints.prod.yml > "$endpoints"
  [ -f "$model" ] || { echo "$model not found: run make train" >&2; exit 1; }
  model_args=(--model "$model")
fi
cp credentials.yml "$state/credentials.yml"
if [ -n "${RABBITMQ_HOST:-}" ]; then
  { echo; cat deploy/event-broker.yml; } >> "$endpoints"
fi

if ! psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>/dev/null | grep -q 1; then
  createdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$DB_NAME" \
    || { echo "Cannot reach PostgreSQL or create database $DB_NAME" >&2; exit 1; }
fi

LOGS="$state/*.log"
source "$(dirname "$0")/supervise.sh"

# Command lines from the one launcher (certbot/launch.py): the bot through its entry point.
launch=(.venv/bin/python -m certbot.launch command)
mapfile -d '' -t actions < <("${launch[@]}" actions --port "$actions_port")
keep "action server" "$state/actions.log" "${actions[@]}"
# Staff reach the console through nginx on this machine: trust its X-Forwarded-For.
keep "staff console" "$state/console.log" \
  env CONSOLE_TRUSTED_PROXIES="${CONSOLE_TRUSTED_PROXIES:-127.0.0.1}" \
  CONSOLE_PORT="$console_port" ENDPOINTS="$endpoints" .venv/bin/python -m console

servers=""
ports=()
for i in $(seq 0 $((count - 1))); do
  port=$((bot_port_base + i))
  ports+=("$port")
  servers+="    server 127.0.0.1:$port max_fails=3 fail_timeout=10s;"$'\n'
  mapfile -d '' -t bot < <("${launch[@]}" bot --port "$port" --dir "$state" \
    --interface 127.0.0.1 "${model_args[@]}")
  keep "bot on port $port" "$state/bot-$port.log" "${bot[@]}"
done
wait_for "http://127.0.0.1:$actions_port/health"
wait_for "http://127.0.0.1:$console_port/health"
for port in "${ports[@]}"; do wait_for "http://127.0.0.1:$port/"; done

entry="http://127.0.0.1:${ports[0]}"
if command -v nginx >/dev/null 2>&1; then
  prefix=$(cd "$state" && pwd)
  if [ -n "${TLS_CERT:-}" ]; then
    listen="listen $lb_port ssl; ssl_certificate $TLS_CERT; ssl_certificate_key $TLS_KEY;"
    console_listen="listen $((lb_port + 1)) ssl; ssl_certificate $TLS_CERT; ssl_certificate_key $TLS_KEY;"
    scheme=https
  else
    listen="listen $lb_port;" console_listen="listen $((lb_port + 1));" scheme=http
  fi
  BOT_SERVERS=${servers%$'\n'} PREFIX=$prefix LISTEN=$listen CONSOLE_LISTEN=$console_listen \
    CONSOLE_ADDRESS=127.0.0.1:$console_port awk '{
      while (match($0, /@[A-Z_]+@/)) {
        name = substr($0, RSTART + 1, RLENGTH - 2)
        $0 = substr($0, 1, RSTART - 1) ENVIRON[name] substr($0, RSTART + RLENGTH)
      }
      print
    }' deploy/nginx.conf.template > "$state/nginx.conf"
  nginx -p "$prefix" -c "$prefix/nginx.conf" -g "daemon off;" &
  pids+=($!)
  wait_for "$scheme://127.0.0.1:$lb_port/health"
  entry="$scheme://127.0.0.1:$lb_port"
  echo "Load balancer (nginx, round-robin over $count instances): $entry"
  echo "Staff console through nginx: $scheme://127.0.0.1:$((lb_port + 1))"
else
  echo "nginx not found: no load balancer; the instances answer on ports ${ports[*]}."
fi
cat <<MSG

$count bot instance(s) on ports ${ports[*]} (logs in $state/), actions on $actions_port,
staff console on $console_port. Conversations in PostgreSQL $DB_HOST:$DB_PORT/$DB_NAME,
locks in Redis $REDIS_HOST:$REDIS_PORT. Try:
  curl -s -X POST $entry/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{"sender": "me", "message": "Who issues ISO 9001 certificates?"}'
Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
