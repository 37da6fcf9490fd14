#!/bin/sh
# npm start: a first run of the berth CLI on the process runtime, in a scratch state dir.
# A daemon serves the commands while `berth events --follow` prints the journal as it happens.
set -eu
CLI="node dist/cli/main.js"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/berth-first-run-XXXXXX")
berth() { $CLI --state-dir "$STATE" "$@"; }
DAEMON=''
FOLLOW=''
cleanup() {
  if [ -n "$FOLLOW" ]; then kill "$FOLLOW" 2>/dev/null || true; fi
  if [ -n "$DAEMON" ]; then kill "$DAEMON" 2>/dev/null || true; wait "$DAEMON" 2>/dev/null || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT

$CLI --state-dir "$STATE" --log-level error daemon &
DAEMON=$!
while [ ! -S "$STATE/berth.sock" ]; do sleep 0.05; done
echo "berth daemon serves $STATE/berth.sock; \`berth events --follow\` prints the journal as it happens"
$CLI --state-dir "$STATE" events --follow &
FOLLOW=$!
sleep 0.3

step() { sleep 0.3; echo; echo "\$ berth $*"; }
step run --rm hello -- sh -c "'echo hello from berth'"
berth run --rm hello -- sh -c 'echo hello from berth'
step run --detach --label app=web web -- sh -c "'trap \"exit 0\" TERM; while :; do sleep 0.1; done'"
berth run --detach --label app=web web -- sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
step exec --exec-id greet web -- sh -c "'echo hi from an exec; exit 3'"
berth exec --exec-id greet web -- sh -c 'echo hi from an exec; exit 3' || echo "(exit status $?)"
step exec --detach --exec-id forever web -- sleep 3600
berth exec --detach --exec-id forever web -- sleep 3600
step ps
berth ps
step "stop web      # init ends; 'forever' is killed (137), and its exit is journaled before init's"
berth stop web
step delete web
berth delete web
sleep 0.3
