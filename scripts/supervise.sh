# Shared by scripts/run.sh and scripts/scale.sh (sourced): the started servers' pids, all
# stopped together on exit or Ctrl-C; wait_for URL, which waits until URL answers; and
# keep NAME LOG COMMAND..., which runs a server with its output in LOG and restarts it when
# it dies, saying which one died.
# LOGS (optional) tells where to look when a server fails to start.
pids=()
# A server that dies this many times in a row within KEEP_FAST_SECONDS of its start is
# given up (it cannot start: a port in use, a broken model), which stops everything.
KEEP_RETRIES=${KEEP_RETRIES:-3}
KEEP_FAST_SECONDS=${KEEP_FAST_SECONDS:-30}
# A log grown past LOG_MAX_BYTES is moved to LOG.1 (LOG.2, LOG.3 the older ones).
LOG_MAX_BYTES=${LOG_MAX_BYTES:-10000000}
LOG_CHECK_SECONDS=${LOG_CHECK_SECONDS:-30}

stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

say() {
  echo "$(date +%H:%M:%S) $*" >&2
}

rotate() {
  local log=$1
  [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt "$LOG_MAX_BYTES" ] || return 0
  mv -f "$log.2" "$log.3" 2>/dev/null || true
  mv -f "$log.1" "$log.2" 2>/dev/null || true
  # Copy, then truncate: the server keeps writing (appending) to the same file.
  cp "$log" "$log.1" && : > "$log"
}

keep() {
  local name=$1 log=$2
  shift 2
  mkdir -p "$(dirname "$log")"
  (
    child="" nap=""
    trap 'kill $child $nap 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM
    fast=0
    while true; do
      rotate "$log"
      started=$(date +%s)
      "$@" >> "$log" 2>&1 &
      child=$!
      # Every LOG_CHECK_SECONDS while the server runs, its log is rotated if too big.
      while sleep "$LOG_CHECK_SECONDS" & nap=$!; wait -n "$child" "$nap" 2>/dev/null
        kill -0 "$child" 2>/dev/null; do
        rotate "$log"
      done
      kill "$nap" 2>/dev/null
      status=0
      wait "$child" 2>/dev/null || status=$?  # no "Killed" job notice: say() tells
      if [ $(( $(date +%s) - started )) -lt "$KEEP_FAST_SECONDS" ]; then
        fast=$((fast + 1))
      else
        fast=0
      fi
      if [ "$fast" -ge "$KEEP_RETRIES" ]; then
        say "$name stopped (exit status $status) $fast times in a row: giving up, see $log"
        tail -n 5 "$log" >&2
        exit 1
      fi
      say "$name stopped (exit status $status): restarting it, see $log"
      sleep 1
    done
  ) &
  pids+=($!)
}

wait_for() {
  for _ in $(seq 1 300); do
    if curl -fsSk "$1" >/dev/null 2>&1; then return 0; fi  # -k: readiness only
    if ! kill -0 "${pids[@]}" 2>/dev/null; then
      echo "A server failed to start${LOGS:+: see $LOGS}." >&2
      exit 1
    fi
    sleep 1
  done
  echo "Timed out waiting for $1" >&2
  exit 1
}
