#!/usr/bin/env bash
# Start the action server, the staff console and the bot; stop them all on Ctrl-C.
# Used by `make run`. The bot pulls the live model from the console (Rasa's model server
# protocol, docs/retraining.md), so the console starts first. A models/certbot.tar.gz that
# `make train` made from other inputs than the live model's is registered first and goes
# live only when it passes the evaluation gate (retrain/make.py).
# With "shell" as second argument, chat in the terminal (`rasa shell`) with MODEL instead.
# Each server writes to its own log in var/log/ (rotated at 10 MB); one that dies is named
# and restarted (scripts/supervise.sh).
set -euo pipefail
model=${1:?usage: scripts/run.sh MODEL [shell]}
mode=${2:-server}
bot_port=${BOT_PORT:-5005}
actions_port=${ACTIONS_PORT:-5055}
console_port=${CONSOLE_PORT:-5006}
endpoints=${ENDPOINTS:-endpoints.yml}
mkdir -p var
launch=(.venv/bin/python -m certbot.launch)
# The bot's endpoints (the chosen ones, its action server's port and, unless chatting in
# the terminal, the console as model server) and credentials, written to var/run/ by the
# one launcher (certbot/launch.py).
pull=(--model-server "http://localhost:$console_port/api/models/live")
[ "$mode" = shell ] && pull=()
"${launch[@]}" files var/run --endpoints "$endpoints" --actions-port "$actions_port" "${pull[@]}"
mapfile -d '' -t actions < <("${launch[@]}" command actions --port "$actions_port")
mapfile -d '' -t bot < <("${launch[@]}" command bot --port "$bot_port" --dir var/run)

LOGS="var/log/*.log"
source "$(dirname "$0")/supervise.sh"

keep "action server" var/log/actions.log env SANIC_HOST=127.0.0.1 "${actions[@]}"
wait_for "http://localhost:$actions_port/health"

if [ "$mode" = shell ]; then
  .venv/bin/python -m certbot.serve shell --model "$model" --endpoints var/run/endpoints.yml \
    --port "$bot_port"
  exit
fi

# A newly trained model goes live only through the gate, as a console retrain does.
.venv/bin/python -m retrain.make register "$model" \
  || { echo "No model is live, so the bot has nothing to serve." >&2; exit 1; }

# The token the bot shows the console's model endpoint (created once in var/).
MODEL_PULL_TOKEN=${MODEL_PULL_TOKEN:-$(.venv/bin/python -c \
  'from console.settings import MODEL_TOKEN_FILE as f; from certbot.secret_files import persistent_secret as s; print(s(f))')}
export MODEL_PULL_TOKEN
keep "staff console" var/log/console.log \
  env CONSOLE_PORT="$console_port" ENDPOINTS="$endpoints" .venv/bin/python -m console
wait_for "http://localhost:$console_port/health"

keep bot var/log/bot.log "${bot[@]}"
wait_for "http://localhost:$bot_port/"

cat <<MSG

The bot is ready on http://localhost:$bot_port (actions on port $actions_port).
Demo page with the chat widget: http://localhost:$bot_port/webhooks/widget/demo/
Staff console: http://localhost:$console_port (create an account: make user NAME=... ROLE=admin)
Retrain from reviewed annotations on its Models page, or with make retrain.
Or ask the bot over REST:
  curl -s -X POST http://localhost:$bot_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "me", "message": "Who issues ISO 9001 certificates?"}'
Conversations are kept in var/conversations.db; logs in var/log/ (bot, actions, console).
A server that stops is restarted and named here. Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
