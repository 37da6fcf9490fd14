#!/bin/sh
# npm start: a first run of the berth CLI on the process runtime, in a scratch state dir.
set -eu
berth() { node dist/cli/main.js --state-dir "$STATE" "$@"; }
STATE=$(mktemp -d "${TMPDIR:-/tmp}/berth-first-run-XXXXXX")
trap 'rm -rf "$STATE"' EXIT

echo '$ berth run --rm hello -- sh -c "echo hello from berth"'
berth run --rm hello -- sh -c 'echo hello from berth'

echo '$ berth run --detach --label app=web web -- sh -c "sleep 1"'
berth run --detach --label app=web web -- sh -c 'sleep 1'
echo '$ berth exec --exec-id greet web -- sh -c "echo hi from an exec; exit 3"   (exits with 3)'
berth exec --exec-id greet web -- sh -c 'echo hi from an exec; exit 3' || echo "(exit status $?)"
echo '$ berth exec --detach --exec-id forever web -- sleep 3600'
berth exec --detach --exec-id forever web -- sleep 3600
echo '$ berth ps'
berth ps
echo '$ berth stop web'
berth stop web
echo '$ berth events   (the exec killed when init exited is published before init)'
berth events
berth delete web
