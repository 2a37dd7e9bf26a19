# Shared by scripts/run.sh and scripts/scale.sh (sourced): the started servers' pids, all
# stopped together on exit or Ctrl-C, and wait_for URL, which waits until URL answers.
# LOGS (optional) tells where to look when a server fails to start.
pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

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
