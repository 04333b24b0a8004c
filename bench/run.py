#!/usr/bin/env python3
"""Benchmark amirun against the Python prototype's flow on a local emulator.

For each scenario and tool it starts a fresh emulator (moto's server) on a free 127.0.0.1
port and puts the shaping proxy in front of it. The proxy keeps new images `pending` for a
set time and delays every call. The script then creates a source instance and the records
bucket and runs the tool through the proxy, so amirun and the prototype each get their own
emulator. It records the
wall time of the tool's process and the calls the proxy forwarded, by operation, then
reads the emulator's state to see what each tool left shared.

It also times `amirun --version` and `amirun check runbooks/eduglobal.rhai` with hyperfine
when it is installed, else with a loop of 20 runs.

Run it through bench/run.sh, which builds the binaries first. Nothing here talks to any
address but 127.0.0.1, every wait has a time limit, and every process it starts is
stopped before it returns.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
OWNER_ACCOUNT = "210987654321"
SOURCE_REGION = "ap-south-1"
BASE_IMAGE_NAME = "amirun-test-base"
VERSION = "2023.09.1"
# Partner regions of the scaled scenarios. The first two are EduGlobal's.
REGIONS = [
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-2",
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
]
EMULATOR_START_LIMIT = 30.0
PROXY_START_LIMIT = 10.0
PROCESS_STOP_LIMIT = 10.0
# Upper bounds of one tool run. The slowest expected run, the prototype with 40 partners,
# took about 3 minutes on 2 cores.
AMIRUN_LIMIT = 600.0
PROTOTYPE_LIMIT = 1200.0


# ---- scenarios ----

def read_partner_script(path):
    """Read the partner maps of a Rhai partner script made only of string fields."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*", "", text)
    partners = []
    for body in re.findall(r"#\{(.*?)\}", text, flags=re.S):
        fields = dict(re.findall(r'(\w+)\s*:\s*"([^"]*)"', body))
        missing = {"name", "country", "account", "region"} - fields.keys()
        if missing:
            raise SystemExit(f"{path}: a partner lacks {sorted(missing)}; the benchmark needs name, country, account and region")
        partners.append(fields)
    if not partners:
        raise SystemExit(f"{path}: no partner maps found")
    return partners


def generated_partners(count, regions):
    """Make `count` partners spread round-robin over `regions`, with distinct accounts."""
    partners = []
    for index in range(count):
        number = index + 1
        partners.append({
            "name": f"Partner {number:02d}",
            "country": f"partner{number:02d}",
            "account": f"{300000000000 + number:012d}",
            "region": regions[index % len(regions)],
        })
    return partners


def scenarios():
    eduglobal = read_partner_script(ROOT / "runbooks/partners/eduglobal.rhai")
    return {
        "eduglobal": {
            "title": "EduGlobal: 4 partners, 2 regions",
            "partners": eduglobal,
            # amirun reads the runbook's own partner script, not a generated one.
            "runbook_partners": True,
            "tools": ["amirun", "prototype"],
        },
        "partners12": {
            "title": "12 partners, 2 regions",
            "partners": generated_partners(12, REGIONS[:2]),
            "tools": ["amirun", "prototype"],
        },
        "partners40": {
            "title": "40 partners, 8 regions",
            "partners": generated_partners(40, REGIONS),
            "tools": ["amirun", "prototype"],
        },
        "chain": {
            "title": "longest single chain: 1 partner, 1 region",
            "partners": generated_partners(1, REGIONS[:1]),
            "tools": ["amirun"],
        },
    }


def write_partner_files(name, partners, folder):
    """Write the partners as a Rhai script for amirun and as JSON for the prototype."""
    lines = [f"// Partners of the benchmark's `{name}` scenario, written by bench/run.py.", "["]
    for partner in partners:
        fields = ", ".join(f'{key}: "{partner[key]}"' for key in ("name", "country", "account", "region"))
        lines.append(f"    #{{ {fields} }},")
    lines.append("]")
    script = folder / f"{name}.rhai"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    listing = folder / f"{name}.json"
    listing.write_text(json.dumps(partners, indent=2) + "\n", encoding="utf-8")
    return script, listing


# ---- processes ----

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process):
    """Stop a process this script started: SIGTERM, then SIGKILL after the limit."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=PROCESS_STOP_LIMIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=PROCESS_STOP_LIMIT)


@contextmanager
def emulator(server, log_path):
    """Start moto's server on a free port (three tries, since another process may take the
    port first) and yield its URL."""
    env = dict(os.environ, MOTO_ACCOUNT_ID=OWNER_ACCOUNT)
    for _ in range(3):
        port = free_port()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [server, "-H", "127.0.0.1", "-p", str(port)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + EMULATOR_START_LIMIT
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                stop(process)
                continue
            yield f"http://127.0.0.1:{port}", port
            return
        finally:
            stop(process)
    raise SystemExit(f"the emulator {server} did not start; see {log_path}")


@contextmanager
def shaping_proxy(binary, port, settings, counts_path, log_path):
    """Start the shaping proxy in front of the emulator's port and yield its URL. On exit
    its standard input is closed, which makes it write the counts and stop."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                binary,
                "--upstream", f"127.0.0.1:{port}",
                "--latency-ms", str(settings.latency_ms),
                "--pending-ms", str(settings.pending_ms),
                "--counts", str(counts_path),
                "--stop-on-eof",
                "--max-seconds", str(int(PROTOTYPE_LIMIT + 120)),
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
        )
    try:
        url = read_line_within(process.stdout, PROXY_START_LIMIT)
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the shaping proxy printed {url!r} instead of its URL; see {log_path}")
        yield url
        process.stdin.close()
        process.wait(timeout=PROCESS_STOP_LIMIT)
    finally:
        stop(process)


def read_line_within(stream, limit):
    """Read one line from `stream`, or fail after `limit` seconds."""
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(limit)
    if not result:
        raise SystemExit(f"no line on the proxy's stdout within {limit} s")
    return result[0].decode().strip()


def aws_env():
    """Build the environment of a tool run: no AWS or amirun settings from the caller, and
    the placeholder keys that the emulator accepts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMIRUN_"))}
    env.update({
        "AWS_ACCESS_KEY_ID": "emulator",
        "AWS_SECRET_ACCESS_KEY": "emulator",
        "AWS_REGION": SOURCE_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    })
    return env


def timed(command, limit, stdout_path, stderr_path):
    """Run `command` from the repository root, and return its exit status and wall time."""
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=aws_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            status = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            stop(process)
            raise SystemExit(f"{command[0]} ran longer than {limit} s; see {stderr_path}")
        return status, time.monotonic() - started


# ---- one trial ----

def run_trial(tool, scenario, files, settings, folder):
    """Run one tool for one scenario on a fresh emulator and proxy, and return its measurements."""
    folder.mkdir(parents=True, exist_ok=True)
    counts_path = folder / "proxy-counts.json"
    with emulator(settings.moto_server, folder / "emulator.log") as (emulator_url, port):
        instance = subprocess.run(
            [settings.provision, emulator_url], cwd=ROOT, env=aws_env(),
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()
        with shaping_proxy(settings.proxy, port, settings, counts_path, folder / "proxy.log") as proxy_url:
            if tool == "amirun":
                status, wall, polls = run_amirun(proxy_url, instance, files, settings, folder)
            else:
                status, wall, polls = run_prototype(proxy_url, instance, files, settings, folder)
        state = emulator_state(emulator_url, scenario["partners"])
    if not counts_path.exists():
        raise SystemExit(f"the shaping proxy wrote no counts to {counts_path}; see {folder / 'proxy.log'}")
    counts = json.loads(counts_path.read_text(encoding="utf-8"))
    if status != 0:
        raise SystemExit(f"{tool} failed with exit status {status} in {folder}; see its stderr there")
    operations = counts["operations"]
    return {
        "tool": tool,
        "wall_s": wall,
        "operations": operations,
        "total_calls": counts["total"],
        "polling_describe_images": polls,
        "non_polling_calls": counts["total"] - polls,
        "copies": operations.get("CopyImage", 0),
        "state": state,
    }


def run_amirun(proxy_url, instance, files, settings, folder):
    state_dir = folder / "state"
    command = [
        settings.amirun,
        "--endpoint-url", proxy_url,
        "--region", SOURCE_REGION,
        "run", "runbooks/eduglobal.rhai",
        "--poll-interval", str(settings.poll_interval),
        "--state-dir", str(state_dir),
        "--param", f"source_instance={instance}",
        "--param", f"version={VERSION}",
    ]
    if files["script"] is not None:
        command += ["--param", f"partners={files['script']}"]
    status, wall = timed(command, AMIRUN_LIMIT, folder / "stdout.txt", folder / "stderr.txt")
    return status, wall, amirun_polls(state_dir)


def amirun_polls(state_dir):
    """Count amirun's waiting calls from its audit trail: DescribeImages by image ID. Its
    other DescribeImages calls, the lookups before each create and copy, filter by tag or
    name instead."""
    polls = 0
    for path in (state_dir / "audit").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("operation") == "DescribeImages" and "image_ids" in record.get("parameters", {}):
                polls += 1
    return polls


def run_prototype(proxy_url, instance, files, settings, folder):
    stats = folder / "prototype-stats.json"
    command = [
        settings.python, str(ROOT / "bench/prototype.py"),
        "--endpoint", proxy_url,
        "--instance", instance,
        "--partners", str(files["listing"]),
        "--poll-interval", str(settings.poll_interval),
        "--stats", str(stats),
    ]
    status, wall = timed(command, PROTOTYPE_LIMIT, folder / "stdout.txt", folder / "stderr.txt")
    polls = 0
    if stats.exists():
        polls = json.loads(stats.read_text(encoding="utf-8"))["waiter_calls"].get("DescribeImages", 0)
    return status, wall, polls


def emulator_state(endpoint, partners):
    """Read, straight from the emulator, which partner can launch an image in its region and
    which copies have their snapshots shared with all of their region's partners."""
    regions = sorted({p["region"] for p in partners})
    launchable = set()
    copies = 0
    copies_with_snapshots_shared = 0
    for region in regions:
        client = boto3.client(
            "ec2", region_name=region, endpoint_url=endpoint,
            aws_access_key_id="emulator", aws_secret_access_key="emulator",
        )
        expected = {p["account"] for p in partners if p["region"] == region}
        for image in client.describe_images(Owners=["self"])["Images"]:
            if image.get("Name") == BASE_IMAGE_NAME:
                continue
            copies += 1
            launch = client.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")
            accounts = {p["UserId"] for p in launch.get("LaunchPermissions", []) if "UserId" in p}
            launchable |= {(a, region) for a in accounts & expected}
            snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "SnapshotId" in m.get("Ebs", {})]
            shared = bool(snapshot_ids)
            for snapshot in snapshot_ids:
                try:
                    attribute = client.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
                except client.exceptions.ClientError:
                    shared = False
                    continue
                users = {p["UserId"] for p in attribute.get("CreateVolumePermissions", []) if "UserId" in p}
                shared = shared and expected <= users
            copies_with_snapshots_shared += shared
    return {
        "partners_launchable": len(launchable),
        "partners": len(partners),
        "images_in_partner_regions": copies,
        "copies_with_snapshots_shared": copies_with_snapshots_shared,
    }


# ---- startup timings ----

def startup_timings(settings, folder):
    commands = {
        "amirun --version": [settings.amirun, "--version"],
        "amirun check runbooks/eduglobal.rhai": [settings.amirun, "check", "runbooks/eduglobal.rhai"],
    }
    hyperfine = shutil.which("hyperfine")
    results = {}
    for label, command in commands.items():
        if hyperfine:
            export = folder / f"hyperfine-{len(results)}.json"
            subprocess.run(
                [hyperfine, "--warmup", "3", "--runs", "20", "--shell=none", "--export-json", str(export),
                 " ".join(command)],
                cwd=ROOT, env=aws_env(), check=True, timeout=300, stdout=subprocess.DEVNULL,
            )
            measured = json.loads(export.read_text(encoding="utf-8"))["results"][0]
            results[label] = {"tool": "hyperfine", "mean_ms": measured["mean"] * 1000,
                              "stddev_ms": measured["stddev"] * 1000, "max_ms": measured["max"] * 1000}
        else:
            times = []
            for _ in range(20):
                started = time.perf_counter()
                subprocess.run(command, cwd=ROOT, env=aws_env(), check=True, timeout=30,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times.append(time.perf_counter() - started)
            results[label] = {"tool": "loop of 20", "mean_ms": statistics.mean(times) * 1000,
                              "stddev_ms": statistics.stdev(times) * 1000, "max_ms": max(times) * 1000}
    return results


# ---- summary ----

def median_trial(trials):
    """Pick the trial with the median wall time (the lower middle one for an even count)."""
    ordered = sorted(trials, key=lambda t: t["wall_s"])
    return ordered[(len(ordered) - 1) // 2]


def summarise(results):
    """Compute the ratios and check the targets. Returns the median trial of each scenario
    and tool, and the checks as dicts of target, measured and passed."""
    pick = {name: {tool: median_trial(trials) for tool, trials in tools.items()} for name, tools in results["scenarios"].items()}
    checks = []

    def check(target, measured, passed):
        checks.append({"target": target, "measured": measured, "passed": bool(passed)})

    edu = pick.get("eduglobal")
    if edu:
        a, p = edu["amirun"], edu["prototype"]
        ratio = a["wall_s"] / p["wall_s"]
        check("EduGlobal wall time <= 40% of the prototype's", f"{a['wall_s']:.2f} s / {p['wall_s']:.2f} s = {ratio:.0%}", ratio <= 0.40)
        check("EduGlobal calls other than polling <= the prototype's",
              f"{a['non_polling_calls']} vs {p['non_polling_calls']}", a["non_polling_calls"] <= p["non_polling_calls"])
        check("EduGlobal does strictly more: the copies' snapshots shared",
              f"copies with snapshots shared: {a['state']['copies_with_snapshots_shared']} vs {p['state']['copies_with_snapshots_shared']}",
              a["state"]["copies_with_snapshots_shared"] > p["state"]["copies_with_snapshots_shared"])
        check("EduGlobal makes exactly 2 copies", f"{a['copies']} CopyImage calls", a["copies"] == 2)
    twelve = pick.get("partners12")
    if twelve:
        a, p = twelve["amirun"], twelve["prototype"]
        ratio = a["wall_s"] / p["wall_s"]
        check("12 partners wall time <= 25% of the prototype's", f"{a['wall_s']:.2f} s / {p['wall_s']:.2f} s = {ratio:.0%}", ratio <= 0.25)
    forty, chain = pick.get("partners40"), pick.get("chain")
    if forty and chain:
        a, c = forty["amirun"], chain["amirun"]
        ratio = a["wall_s"] / c["wall_s"]
        check("40 partners / 8 regions wall time <= 1.5x the longest single chain",
              f"{a['wall_s']:.2f} s / {c['wall_s']:.2f} s = {ratio:.2f}x", ratio <= 1.5)
    if forty and twelve:
        a40, a12 = forty["amirun"]["non_polling_calls"], twelve["amirun"]["non_polling_calls"]
        sum_ratio = (40 + 8) / (12 + 2)
        product_ratio = (40 * 8) / (12 * 2)
        check("calls grow with regions plus partners, not their product",
              f"non-polling calls {a40} (40/8) vs {a12} (12/2): x{a40 / a12:.2f}; "
              f"regions+partners grow x{sum_ratio:.2f}, regions*partners x{product_ratio:.2f}",
              a40 / a12 <= sum_ratio)
    for label, timing in results.get("startup", {}).items():
        check(f"`{label}` < 50 ms", f"mean {timing['mean_ms']:.1f} ms, max {timing['max_ms']:.1f} ms ({timing['tool']})", timing["mean_ms"] < 50)
    return pick, checks


def markdown(results, pick, checks):
    lines = ["| scenario | tool | wall time (s) | calls | DescribeImages polls | other calls | CopyImage | ModifyImageAttribute | ModifySnapshotAttribute | partners who can launch | copies with snapshots shared |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, tools in pick.items():
        title = results["titles"][name]
        for tool, trial in tools.items():
            walls = [t["wall_s"] for t in results["scenarios"][name][tool]]
            wall = f"{trial['wall_s']:.2f}" + (f" ({min(walls):.2f}-{max(walls):.2f})" if len(walls) > 1 else "")
            ops = trial["operations"]
            state = trial["state"]
            lines.append(
                f"| {title} | {tool} | {wall} | {trial['total_calls']} | {trial['polling_describe_images']} | "
                f"{trial['non_polling_calls']} | {ops.get('CopyImage', 0)} | {ops.get('ModifyImageAttribute', 0)} | "
                f"{ops.get('ModifySnapshotAttribute', 0)} | {state['partners_launchable']}/{state['partners']} | "
                f"{state['copies_with_snapshots_shared']} of {state['images_in_partner_regions']} |"
            )
    lines += ["", "| target | measured | result |", "|---|---|---|"]
    for item in checks:
        lines.append(f"| {item['target']} | {item['measured']} | {'pass' if item['passed'] else '**FAIL**'} |")
    lines += ["", "Calls by operation (median-time trial):", ""]
    for name, tools in pick.items():
        for tool, trial in tools.items():
            ops = ", ".join(f"{op} {n}" for op, n in sorted(trial["operations"].items()))
            lines.append(f"- {results['titles'][name]}, {tool}: {ops}")
    return "\n".join(lines) + "\n"


def parse_args(argv):
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amirun", default=str(target / "release/amirun"), help="amirun binary (default: the release build)")
    parser.add_argument("--proxy", default=str(target / "debug/examples/shaping_proxy"), help="shaping proxy binary (default: the debug build)")
    parser.add_argument("--provision", default=str(target / "debug/examples/provision"), help="provision example binary (default: the debug build)")
    parser.add_argument("--moto-server", default=os.environ.get("AMIRUN_MOTO_SERVER", str(ROOT / ".emulator/venv/bin/moto_server")),
                        help="moto's server (default: AMIRUN_MOTO_SERVER, else the one scripts/install-emulator.sh installs)")
    parser.add_argument("--python", default=sys.executable, help="Python with boto3 for the prototype (default: this one)")
    parser.add_argument("--scenarios", default="eduglobal,partners12,partners40,chain", help="comma-separated scenario names")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool per scenario; the median wall time is reported")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls of both tools; amirun backs off after 30 s of a wait")
    parser.add_argument("--latency-ms", type=int, default=20, help="delay the proxy adds to each call")
    parser.add_argument("--pending-ms", type=int, default=4000, help="how long new images stay pending")
    parser.add_argument("--out", default=str(target / "bench"), help="folder for logs and results")
    parser.add_argument("--skip-startup", action="store_true", help="do not time --version and check")
    return parser.parse_args(argv)


def main(argv=None):
    settings = parse_args(argv)
    for path in (settings.amirun, settings.proxy, settings.provision, settings.moto_server):
        if not Path(path).exists():
            raise SystemExit(f"{path} not found; run bench/run.sh, which builds it, or pass its path")
    if not 1 <= settings.repeat <= 10:
        raise SystemExit(f"--repeat {settings.repeat} is out of range; pass 1 to 10")
    available = scenarios()
    chosen = [name.strip() for name in settings.scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise SystemExit(f"unknown scenario {unknown}; choose from {sorted(available)}")

    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=out))
    results = {"settings": {k: v for k, v in vars(settings).items()}, "titles": {}, "scenarios": {}}
    for name in chosen:
        scenario = available[name]
        script, listing = write_partner_files(name, scenario["partners"], work)
        files = {"script": None if scenario.get("runbook_partners") else script, "listing": listing}
        results["titles"][name] = scenario["title"]
        results["scenarios"][name] = {}
        for tool in scenario["tools"]:
            trials = []
            for attempt in range(settings.repeat):
                folder = work / name / f"{tool}-{attempt + 1}"
                print(f"{scenario['title']}: {tool}, run {attempt + 1} of {settings.repeat}", file=sys.stderr, flush=True)
                trial = run_trial(tool, scenario, files, settings, folder)
                print(f"  {trial['wall_s']:.2f} s, {trial['total_calls']} calls", file=sys.stderr, flush=True)
                trials.append(trial)
            results["scenarios"][name][tool] = trials
    if not settings.skip_startup:
        results["startup"] = startup_timings(settings, work)

    pick, checks = summarise(results)
    results["checks"] = checks
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = markdown(results, pick, checks)
    if results.get("startup"):
        table += "\nStartup:\n\n" + "\n".join(
            f"- `{label}`: mean {t['mean_ms']:.1f} ms ± {t['stddev_ms']:.1f}, max {t['max_ms']:.1f} ms ({t['tool']})"
            for label, t in results["startup"].items()) + "\n"
    (work / "results.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"logs and results: {work}", file=sys.stderr)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
