#!/usr/bin/env bash
# Start the action server, the bot and the staff console; stop them all on Ctrl-C.
# Used by `make run`.
# With "shell" as second argument, chat in the terminal (`rasa shell`) instead.
set -euo pipefail
model=${1:?usage: scripts/run.sh MODEL [shell]}
mode=${2:-server}
bot_port=${BOT_PORT:-5005}
actions_port=${ACTIONS_PORT:-5055}
console_port=${CONSOLE_PORT:-5006}
endpoints=${ENDPOINTS:-endpoints.yml}
mkdir -p var
if [ "$actions_port" != 5055 ]; then
  # endpoints.yml names the default action server port; point a copy at the chosen one.
  sed "s#localhost:5055/#localhost:$actions_port/#" "$endpoints" > var/endpoints.run.yml
  endpoints=var/endpoints.run.yml
fi

pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_for() {
  for _ in $(seq 1 180); do
    if curl -fsS "$1" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[@]}" 2>/dev/null; then echo "A server failed to start." >&2; exit 1; fi
    sleep 1
  done
  echo "Timed out waiting for $1" >&2
  exit 1
}

.venv/bin/rasa run actions --port "$actions_port" --actions actions &
pids+=($!)
wait_for "http://localhost:$actions_port/health"

if [ "$mode" = shell ]; then
  .venv/bin/rasa shell --model "$model" --endpoints "$endpoints" --port "$bot_port"
  exit
fi

.venv/bin/rasa run --model "$model" --port "$bot_port" --endpoints "$endpoints" \
  --credentials credentials.yml &
pids+=($!)
CONSOLE_PORT=$console_port ENDPOINTS=$endpoints .venv/bin/python -m console &
pids+=($!)
wait_for "http://localhost:$bot_port/"
wait_for "http://localhost:$console_port/health"

cat <<MSG

The bot is ready on http://localhost:$bot_port (actions on port $actions_port).
Demo page with the chat widget: http://localhost:$bot_port/webhooks/widget/demo/
Staff console: http://localhost:$console_port (create an account: make user NAME=... ROLE=admin)
Or ask the bot over REST:
  curl -s -X POST http://localhost:$bot_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "me", "message": "Who issues ISO 9001 certificates?"}'
Conversations are kept in var/conversations.db. Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
