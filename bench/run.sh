#!/usr/bin/env bash
# Builds amirun in release mode, and the shaping proxy and the provision example in debug
# mode: a release build of the examples compiles the AWS SDK crates a second time, which
# took more than ten minutes on 2 cores. Then it installs the emulator if needed and runs
# the benchmark (bench/run.py) with the emulator's Python, which has boto3. Arguments go
# to bench/run.py, such as `--repeat 3`. It is not part of the test suite: it measures
# time, and one repeat takes about seven minutes.
#
# With AMIRUN_MOTO_SERVER set, that emulator and the Python beside it are used instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -n "${AMIRUN_MOTO_SERVER:-}" ]; then
    python="$(dirname "$AMIRUN_MOTO_SERVER")/python"
else
    "$root/scripts/install-emulator.sh"
    python="$root/.emulator/venv/bin/python"
fi
cargo build --release --quiet --bin amirun
cargo build --quiet --example shaping_proxy --example provision
exec "$python" "$root/bench/run.py" "$@"
