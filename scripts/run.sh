#!/usr/bin/env bash
# Start the action server and the bot; stop both on Ctrl-C. Used by `make run`.
set -euo pipefail
model=${1:?usage: scripts/run.sh MODEL}
bot_port=${BOT_PORT:-5005}
actions_port=${ACTIONS_PORT:-5055}
endpoints=${ENDPOINTS:-endpoints.yml}
mkdir -p var

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/rasa run actions --port "$actions_port" --actions actions &
pids+=($!)
.venv/bin/rasa run --model "$model" --port "$bot_port" --endpoints "$endpoints" \
  --credentials credentials.yml &
pids+=($!)

for _ in $(seq 1 180); do
  if curl -fsS "http://localhost:$bot_port/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[@]}" 2>/dev/null; then echo "A server failed to start." >&2; exit 1; fi
  sleep 1
done

cat <<MSG

The bot is ready on http://localhost:$bot_port (actions on port $actions_port).
Ask it something:
  curl -s -X POST http://localhost:$bot_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "me", "message": "Who issues ISO 9001 certificates?"}'
Conversations are kept in var/conversations.db. Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
