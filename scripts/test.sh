#!/usr/bin/env bash
# Runs the whole test suite: installs the pinned emulator if needed, then `cargo test`.
# Every test starts its own emulator on a free 127.0.0.1 port.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/install-emulator.sh"
cargo test --all-targets "$@"
