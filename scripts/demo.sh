#!/usr/bin/env bash
# Runs the EduGlobal runbook end to end against a local AWS emulator on 127.0.0.1: installs
# the emulator, starts it, creates a source instance and the records bucket, runs the
# runbook and prints what each partner can now launch.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/install-emulator.sh"
source "$root/scripts/emulator-env.sh"

cargo build --quiet --bin amirun --example provision
bin="${CARGO_TARGET_DIR:-target}/debug"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
work="$(mktemp -d)"
"$root/.emulator/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    curl --silent --output /dev/null "$endpoint/moto-api/" && break
    sleep 0.1
done

instance="$("$bin/examples/provision" "$endpoint")"
echo "emulator at $endpoint; source instance $instance; bucket mylearning-compliance-records" >&2

echo; echo "== amirun plan" >&2
"$bin/amirun" --endpoint-url "$endpoint" plan runbooks/eduglobal.rhai --param "source_instance=$instance"
echo; echo "== amirun run" >&2
"$bin/amirun" --endpoint-url "$endpoint" run runbooks/eduglobal.rhai \
    --param "source_instance=$instance" --state-dir "$work/state" --poll-interval 0.2
echo; echo "== what each partner can launch, from the emulator's state" >&2
"$bin/examples/provision" "$endpoint" --report
