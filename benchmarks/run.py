"""The side-by-side benchmark: the helper and its CLI against their floors, interleaved, in one run.

    python benchmarks/run.py            # the full table (>= 15 runs per row)
    python benchmarks/run.py --quick    # a smoke run: every row, few iterations

Each run measures every row once, the project and its floor back to back (the
order flips every run), so a load spike on a shared machine hits both sides of
a pair. A row's verdict uses the median of the per-run ratios; mins and medians
of both sides are printed too. Prints one Markdown table and writes JSON
(default benchmarks/results/latest.json). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ticktick_signon  # noqa: E402
import vscode_bench  # noqa: E402
from scale_worker import BASE_EXPIRES_AT, PROFILE, write_token  # noqa: E402
from stdio_client import StdioServer  # noqa: E402
from ticktick_signon.cache.store import TokenStore  # noqa: E402

SANDBOX_ID, SANDBOX_SECRET = "sandbox-client", "sandbox-secret"
SCOPE = "tasks:read tasks:write"

#: (key, what is measured, project side, floor side, target ratio or None, unit)
ROWS: list[tuple[str, str, str, str, float | None, str]] = [
    (
        "cold_start",
        "cold start: spawn, first `getToken` reply (token cached)",
        "`ticktick-signon serve`",
        "bare pygls `JsonRPCServer` (`benchmarks/floor_server.py`)",
        1.10,
        "ms",
    ),
    (
        "warm_get_token",
        "warm `getToken` round trip ({calls} calls, per call)",
        "helper",
        "same floor server",
        1.10,
        "us",
    ),
    ("idle_rss", "idle memory (RSS after the first reply)", "helper", "same floor server", 1.10, "MiB"),
    (
        "token_cli",
        "`ticktick-signon token` as a whole process (default cache folder)",
        "CLI",
        "`python -c pass`",
        2.5,
        "ms",
    ),
    (
        "token_cli_env",
        "the same with `TICKTICK_SIGNON_CONFIG_DIR` set (no platformdirs import)",
        "CLI",
        "`python -c pass`",
        2.5,
        "ms",
    ),
    (
        "complete_signon",
        "`completeSignon` against the sandbox, exchange included",
        "helper",
        "one bare httpx POST of the same form",
        1.20,
        "ms",
    ),
    (
        "first_signon",
        "first sign-in: the first `completeSignon` of a fresh helper, {browser:.0f} s after `startSignon`",
        "fresh helper",
        "one bare httpx POST in a warm process",
        1.25,
        "ms",
    ),
    (
        "import_pyticktick",
        'reference: `python -c "import pyticktick"`',
        "`import pyticktick`",
        "`python -c pass`",
        None,
        "ms",
    ),
    (
        "vscode_activation",
        "VS Code: extension activation to the first status-bar text, bundled helper",
        "extension",
        "the bundled helper alone (spawn, first `getStatus` reply)",
        1.15,
        "ms",
    ),
]
#: Issue 10: one .vsix for every platform, helper included.
VSIX_MAX_BYTES = 4 * 1024 * 1024
SCALE = {"helpers": 8, "calls": 2000, "writes": 100}
#: The propagation row: helpers told of each CLI login, and its target for the worst arrival.
PROPAGATION = {"helpers": 8, "logins": 10, "target_worst_ms": 1000.0}
#: The idle row: seconds of idleness measured, and what counts as near zero (share of one core).
IDLE = {"seconds": 60.0, "target_share": 0.002}
#: Seconds a person spends on TickTick's page between startSignon and the redirect, at the quickest:
#: the page loads and they click Allow. The helper warms its HTTP imports meanwhile.
BROWSER_SECONDS = 2.0


# -- set-up ----------------------------------------------------------------------------


CLI: list[str] = []


def helper_argv() -> list[str]:
    """``ticktick-signon`` as installed next to this interpreter (what editors spawn), else ``-m``."""
    if CLI:
        return list(CLI)
    script = Path(sys.executable).with_name("ticktick-signon")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ticktick_signon"]


def stale_script_warning(argv: list[str]) -> str | None:
    """Say so if the console script imports another entry point than pyproject.toml declares.

    An editable install keeps the script it was installed with; after the entry
    point moves, the benchmark would time the old path until ``pip install -e .``.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10: skip the check
        return None
    pyproject = HERE.parent / "pyproject.toml"
    if len(argv) != 1 or not pyproject.exists():
        return None
    declared = tomllib.loads(pyproject.read_text())["project"]["scripts"]["ticktick-signon"]
    module, _, func = declared.partition(":")
    text = Path(argv[0]).read_text(errors="replace")
    if f"from {module} import {func}" in text:
        return None
    return (
        f"{argv[0]} does not import {declared} as pyproject.toml declares: it predates the current entry point; "
        "re-run `pip install -e .` (or pass --cli) to time what a fresh install runs."
    )


def platform_config_dir(env: dict[str, str]) -> Path:
    """Where the CLI looks by default (platformdirs, under this env): the row users actually run."""
    code = "import platformdirs; print(platformdirs.user_config_dir('ticktick-signon', appauthor=False))"
    return Path(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    )


def base_env(config_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTICKTICK_", "TICKTICK_SIGNON_"))}
    env["TICKTICK_SIGNON_CONFIG_DIR"] = str(config_dir)
    env["NO_PROXY"] = "*"
    return env


def precompile() -> None:
    """Write the bytecode an installed package has, so no side pays for compiling.

    (A wheel install compiles at install time; an editable one on first import,
    unless PYTHONDONTWRITEBYTECODE is set, as it is in some sandboxes.)
    """
    compileall.compile_dir(str(Path(ticktick_signon.__file__).parent), quiet=1)
    compileall.compile_dir(str(HERE), quiet=1, maxlevels=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sandbox:
    """``ticktick-signon sandbox --auto-approve`` in its own process, like a remote provider."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*helper_argv(), "sandbox", "--port", str(self.port), "--auto-approve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox provider did not start") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- one sample of each row --------------------------------------------------------------


GET_TOKEN = {"profile": PROFILE}


def server_sample(argv: list[str], env: dict[str, str], calls: int) -> dict[str, float]:
    """Spawn a server: time to the first reply, RSS then, then ``calls`` warm round trips."""
    server = StdioServer(argv, env)
    try:
        server.call("getToken", GET_TOKEN)
        cold = time.perf_counter() - server.started
        rss = server.rss_kib() / 1024
        t = time.perf_counter()
        for _ in range(calls):
            server.call("getToken", GET_TOKEN)
        warm = (time.perf_counter() - t) / calls
    finally:
        if server.close() != 0:
            raise RuntimeError(f"{argv} did not exit cleanly when its stdin closed")
    return {"cold_start": cold * 1e3, "idle_rss": rss, "warm_get_token": warm * 1e6}


def process_ms(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - t
    if done.returncode != expect:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed * 1e3


class SignonBench:
    """completeSignon through a warm helper vs a bare httpx POST, each with a fresh single-use code."""

    def __init__(self, sandbox: Sandbox, env: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.redirect = f"http://127.0.0.1:{free_port()}/callback"
        self.helper = StdioServer([*helper_argv(), "serve"], dict(env, TICKTICK_SIGNON_AUTH_URL=sandbox.base_url))
        self.browser = httpx.Client(follow_redirects=False, timeout=20)
        t = time.perf_counter()
        self.helper.call("completeSignon", {"redirectUrl": self._authorized_redirect()})
        #: Sent at once after startSignon, this one waits for the HTTP imports; reported, not in a ratio.
        self.first_ms = (time.perf_counter() - t) * 1e3

    def _authorized_redirect(self) -> str:
        started = self.helper.call(
            "startSignon",
            {
                "clientId": SANDBOX_ID,
                "clientSecret": SANDBOX_SECRET,
                "redirectUrl": self.redirect,
                "profile": "bench",
                "listen": False,
            },
        )
        answer = self.browser.get(started["authorizeUrl"])
        if answer.status_code != 302:
            raise RuntimeError(f"the sandbox did not approve (HTTP {answer.status_code})")
        return answer.headers["location"]

    def helper_ms(self) -> float:
        redirect = self._authorized_redirect()
        t = time.perf_counter()
        result = self.helper.call("completeSignon", {"redirectUrl": redirect})
        elapsed = time.perf_counter() - t
        assert result["accessToken"]
        return elapsed * 1e3

    def first_ms_sample(self, env: dict[str, str]) -> float:
        """A fresh helper: startSignon, the browser's time on the page, then its first completeSignon."""
        helper = StdioServer([*helper_argv(), "serve"], dict(env, TICKTICK_SIGNON_AUTH_URL=self.sandbox.base_url))
        try:
            helper.call("getStatus", {})
            started = helper.call(
                "startSignon",
                {
                    "clientId": SANDBOX_ID,
                    "clientSecret": SANDBOX_SECRET,
                    "redirectUrl": self.redirect,
                    "profile": "first",
                    "listen": False,
                },
            )
            shown = time.perf_counter()
            answer = self.browser.get(started["authorizeUrl"])
            if answer.status_code != 302:
                raise RuntimeError(f"the sandbox did not approve (HTTP {answer.status_code})")
            time.sleep(max(0.0, BROWSER_SECONDS - (time.perf_counter() - shown)))
            t = time.perf_counter()
            result = helper.call("completeSignon", {"redirectUrl": answer.headers["location"]})
            elapsed = time.perf_counter() - t
            assert result["accessToken"]
        finally:
            helper.close()
        return elapsed * 1e3

    def floor_ms(self) -> float:
        code = parse_qs(urlsplit(self._authorized_redirect()).query)["code"][0]
        form = {"code": code, "grant_type": "authorization_code", "scope": SCOPE, "redirect_uri": self.redirect}
        t = time.perf_counter()
        answer = httpx.post(
            f"{self.sandbox.base_url}/oauth/token",
            data=form,
            auth=(SANDBOX_ID, SANDBOX_SECRET),
            headers={"Accept": "application/json"},
            timeout=20,
        )
        elapsed = time.perf_counter() - t
        if answer.status_code != 200 or "access_token" not in answer.json():
            raise RuntimeError(f"the bare POST failed (HTTP {answer.status_code})")
        return elapsed * 1e3

    def close(self) -> None:
        self.browser.close()
        self.helper.close()


def paired(project: Callable[[], Any], floor: Callable[[], Any], project_first: bool) -> tuple[Any, Any]:
    if project_first:
        a = project()
        return a, floor()
    b = floor()
    return project(), b


# -- the scale row --------------------------------------------------------------------------


def run_scale(
    env: dict[str, str], config_dir: Path, helpers: int, calls: int, writes: int, call_us: float
) -> dict[str, Any]:
    """``helpers`` readers (each its own helper) against one writer; check every read."""
    initial = str(uuid.uuid4())
    write_token(TokenStore(config_dir), initial, 0)
    # Spread the writes over about the time the reads take (all helpers share the cores).
    cores = os.cpu_count() or 1
    expected = helpers * calls * call_us * 1e-6 * 3 / min(cores, helpers)
    interval = max(0.001, expected / max(writes, 1))
    worker = [sys.executable, str(HERE / "scale_worker.py")]
    procs = [
        subprocess.Popen(
            [*worker, "client", "--calls", str(calls), "--helper", json.dumps([*helper_argv(), "serve"])],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(helpers)
    ]
    procs.append(
        subprocess.Popen(
            [*worker, "writer", "--writes", str(writes), "--interval", f"{interval:.6f}"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    )
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
            raise RuntimeError("a scale worker failed to start")
    for proc in procs:
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    outputs = []
    for proc in procs:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if proc.wait(timeout=600) != 0 or not line:
            raise RuntimeError("a scale worker failed")
        outputs.append(json.loads(line))
    return check_scale(outputs[:-1], outputs[-1]["writes"], initial, writes)


def check_scale(clients: list[dict[str, Any]], writes: list[list[Any]], initial: str, planned: int) -> dict[str, Any]:
    """Count errors, torn reads and stale reads.

    A read is *torn* if its token is none the writer wrote, or its expiry belongs
    to another write; *stale* if it returned a write older than the last write
    that had completed before the read was sent, or older than what the same
    reader saw before.
    """
    import bisect

    seq_of = {initial: 0, **{token: seq for seq, token, _ in writes}}
    done_at = [t for _, _, t in writes]  # completion times, in write order
    errors = torn = stale = went_back = 0
    seen: set[int] = set()
    during = 0
    reads = 0
    for client in clients:
        last = -1
        if client["exit"] != 0:
            errors += 1
        for started, token, expires_at, error in client["reads"]:
            reads += 1
            if error is not None:
                errors += 1
                continue
            seq = seq_of.get(token)
            if seq is None or expires_at != BASE_EXPIRES_AT + seq:
                torn += 1
                continue
            seen.add(seq)
            completed_before = bisect.bisect_left(done_at, started)  # writes 1..n done before this read
            if seq < completed_before:
                stale += 1
            if seq < last:
                went_back += 1
            last = max(last, seq)
            if done_at and done_at[0] <= started <= done_at[-1]:
                during += 1
    span = (max(c["finished"] for c in clients) - min(c["started"] for c in clients)) / 1e9
    return {
        "helpers": len(clients),
        "calls": reads,
        "seconds": span,
        "calls_per_second": reads / span if span else 0.0,
        "writes": len(writes),
        "writes_planned": planned,
        "errors": errors,
        "torn": torn,
        "stale": stale + went_back,
        "stale_older_than_completed_write": stale,
        "stale_went_back": went_back,
        "distinct_tokens_seen": len(seen),
        "reads_while_writing": during,
        "ok": errors == 0 and torn == 0 and stale == 0 and went_back == 0 and len(writes) == planned,
    }


# -- propagation and idle CPU -----------------------------------------------------------------


class Listener:
    """A helper whose notifications a thread timestamps as they arrive (``time.time()``)."""

    def __init__(self, env: dict[str, str]) -> None:
        import queue
        import threading

        self.server = StdioServer([*helper_argv(), "serve"], env)
        self.server.call("getStatus", {})  # up, watching, its baseline taken
        self.arrivals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while (message := self.server.read_message()) is not None:
            if message.get("method"):
                self.arrivals.put((time.time(), message))

    def arrival(self, method: str, profile: str, timeout: float = 15) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, message = self.arrivals.get(timeout=max(0.01, deadline - time.monotonic()))
            if message["method"] == method and message["params"]["profile"] == profile:
                return at


def run_propagation(env: dict[str, str], config_dir: Path, helpers: int, logins: int) -> dict[str, Any]:
    """CLI logins while ``helpers`` helpers watch: from each token save to its ``tokenChanged`` at every helper.

    The save's moment is the cache file's mtime once the login has exited (its
    last write is the token), on the same real-time clock the arrivals use.
    """
    listeners = [Listener(env) for _ in range(helpers)]
    latencies: list[float] = []
    try:
        for n in range(logins):
            profile = f"propagation-{n}"
            subprocess.run(
                [*helper_argv(), "login", "--sandbox", "--profile", profile],
                env=env,
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            saved_at = os.stat(config_dir / "config.json").st_mtime_ns / 1e9
            latencies += [(listener.arrival("tokenChanged", profile) - saved_at) * 1e3 for listener in listeners]
    finally:
        for listener in listeners:
            listener.server.close()
    return {
        "helpers": helpers,
        "logins": logins,
        "latencies_ms": latencies,
        "median_ms": statistics.median(latencies),
        "worst_ms": max(latencies),
        "target_worst_ms": PROPAGATION["target_worst_ms"],
        "ok": max(latencies) <= PROPAGATION["target_worst_ms"],
    }


def run_idle(env: dict[str, str], seconds: float) -> dict[str, Any]:
    """CPU time of an idle helper (watching the cache) and of the idle floor server, over the same seconds."""
    servers = {
        "project": StdioServer([*helper_argv(), "serve"], env),
        "floor": StdioServer([sys.executable, str(HERE / "floor_server.py")], env),
    }
    try:
        for server in servers.values():
            server.call("getToken", GET_TOKEN)
        time.sleep(1.0)  # let start-up work settle
        before = {side: server.cpu_seconds() for side, server in servers.items()}
        time.sleep(seconds)
        used = {side: (server.cpu_seconds() - before[side]) * 1e3 for side, server in servers.items()}
    finally:
        for server in servers.values():
            server.close()
    share = used["project"] / 1e3 / seconds
    return {
        "seconds": seconds,
        "project_ms": used["project"],
        "floor_ms": used["floor"],
        "project_share_of_a_core": share,
        "target_share": IDLE["target_share"],
        "ok": share <= IDLE["target_share"],
    }


# -- report --------------------------------------------------------------------------------


def summarize(project: list[float], floor: list[float], target: float | None) -> dict[str, Any]:
    ratios = [p / f for p, f in zip(project, floor, strict=True)]
    ratio = statistics.median(ratios)
    return {
        "project": {"min": min(project), "median": statistics.median(project), "samples": project},
        "floor": {"min": min(floor), "median": statistics.median(floor), "samples": floor},
        "ratio_median_of_runs": ratio,
        "ratio_of_mins": min(project) / min(floor),
        "target": target,
        "met": None if target is None else ratio <= target,
    }


def fmt(value: float, unit: str) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    calls = report["config"]["warm_calls"]
    lines = [
        "| row | this project (min / median) | floor (min / median) | ratio (median of runs) | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for key, what, project, floor, _, unit in ROWS:
        row = report["rows"].get(key)
        if row is None:
            continue
        p, f = row["project"], row["floor"]
        target = row["target"]
        verdict = "reference" if target is None else ("met" if row["met"] else "**missed**")
        lines.append(
            f"| {what.format(calls=f'{calls:,}', browser=BROWSER_SECONDS)}"
            f" | {project}: {fmt(p['min'], unit)} / {fmt(p['median'], unit)} {unit}"
            f" | {floor}: {fmt(f['min'], unit)} / {fmt(f['median'], unit)} {unit}"
            f" | {row['ratio_median_of_runs']:.2f} | {'-' if target is None else f'<= {target:.2f}'} | {verdict} |"
        )
    size = report.get("vsix_bytes")
    if size is not None:
        lines.append(
            f"| .vsix size (one for every platform, helper included) | {size / 2**20:.2f} MiB | - | - |"
            f" < {VSIX_MAX_BYTES / 2**20:.0f} MiB | {'met' if size < VSIX_MAX_BYTES else '**missed**'} |"
        )
    idle = report.get("idle_cpu")
    if idle is not None:
        lines.append(
            f"| idle CPU: a helper watching the cache, {idle['seconds']:.0f} s | {idle['project_ms']:.0f} ms"
            f" ({idle['project_share_of_a_core'] * 100:.3f}% of a core) | bare pygls server: {idle['floor_ms']:.0f} ms"
            f" | - | <= {idle['target_share'] * 100:.1f}% of a core | {'met' if idle['ok'] else '**missed**'} |"
        )
    prop = report.get("propagation")
    if prop is not None:
        lines.append(
            f"| propagation: CLI `login` saved to `tokenChanged` at {prop['helpers']} helpers"
            f" ({prop['logins']} logins)"
            f" | median {prop['median_ms']:.0f} ms, worst {prop['worst_ms']:.0f} ms | - | - |"
            f" worst <= {prop['target_worst_ms']:.0f} ms | {'met' if prop['ok'] else '**missed**'} |"
        )
    s = report["scale"]
    if s is None:
        return "\n".join(lines)
    lines.append(
        f"| scale: {s['helpers']} helpers x {s['calls'] // max(s['helpers'], 1):,} `getToken` calls,"
        f" a 9th process rewriting the token {s['writes']} times | {s['calls_per_second']:,.0f} calls/s in total;"
        f" {s['errors']} errors, {s['torn']} torn, {s['stale']} stale"
        f" ({s['distinct_tokens_seen']} distinct tokens seen)"
        f" | - | - | 0 errors / torn / stale | {'met' if s['ok'] else '**missed**'} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 runs, few calls, a small scale row")
    parser.add_argument("--runs", type=int, help="runs per row (default 15; 3 with --quick)")
    parser.add_argument("--calls", type=int, help="warm getToken calls per run (default 5000; 200 with --quick)")
    parser.add_argument("--cli", help="the ticktick-signon executable to time (default: the one next to python)")
    parser.add_argument("--rows", help="comma-separated row keys to measure (default: all), for perf work")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where to write the JSON")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 15)
    calls = args.calls or (200 if args.quick else 5000)
    scale = {"helpers": 8, "calls": 250, "writes": 10} if args.quick else dict(SCALE)
    logins = 2 if args.quick else PROPAGATION["logins"]
    idle_seconds = 3.0 if args.quick else IDLE["seconds"]

    all_keys = [row[0] for row in ROWS] + ["scale", "idle_cpu", "propagation"]
    wanted = set(args.rows.split(",")) if args.rows else set(all_keys)
    if wanted - set(all_keys):
        parser.error(f"unknown rows {sorted(wanted - set(all_keys))}; choose from {', '.join(all_keys)}")
    precompile()
    if args.cli:
        CLI[:] = [str(Path(args.cli).resolve())]
    cli = helper_argv()
    stale = stale_script_warning(cli)
    if stale:
        print(f"WARNING: {stale}", file=sys.stderr)
    helper = [*cli, "serve"]
    floor = [sys.executable, str(HERE / "floor_server.py")]
    samples: dict[str, tuple[list[float], list[float]]] = {row[0]: ([], []) for row in ROWS}
    with tempfile.TemporaryDirectory(prefix="ticktick-signon-bench-") as tmp:
        config_dir = Path(tmp) / "config"
        env = base_env(config_dir)
        write_token(TokenStore(config_dir), str(uuid.uuid4()), 0)
        # The token row as users run it: no override, the platform's config folder (under a temp XDG home).
        home_env = {k: v for k, v in env.items() if k != "TICKTICK_SIGNON_CONFIG_DIR"}
        home_env["XDG_CONFIG_HOME"] = str(Path(tmp) / "xdg")
        write_token(TokenStore(platform_config_dir(home_env)), str(uuid.uuid4()), 0)
        vscode_missing = vscode_bench.missing() if "vscode_activation" in wanted else "not asked for"
        if "vscode_activation" in wanted and vscode_missing:
            print(f"NOTE: the VS Code row is not measured: {vscode_missing}", file=sys.stderr)
        sandbox = signon = None
        if wanted & {"complete_signon", "first_signon"}:
            sandbox = Sandbox(base_env(Path(tmp) / "sandbox"))
            signon = SignonBench(sandbox, base_env(Path(tmp) / "signon"))
        try:
            # One untimed round of everything: page cache, bytecode, first-import effects.
            server_sample(helper, env, 10), server_sample(floor, env, 10)
            process_ms([*cli, "token"], home_env), process_ms([sys.executable, "-c", "pass"], env)
            process_ms([sys.executable, "-c", "import pyticktick"], env)
            if not vscode_missing:
                vscode_bench.sample("extension", env), vscode_bench.sample("bare", env)
            for run in range(runs):
                first = run % 2 == 0
                print(f"run {run + 1}/{runs}", file=sys.stderr, flush=True)
                if wanted & {"cold_start", "warm_get_token", "idle_rss"}:
                    p, f = paired(
                        lambda: server_sample(helper, env, calls), lambda: server_sample(floor, env, calls), first
                    )
                    for key in ("cold_start", "warm_get_token", "idle_rss"):
                        samples[key][0].append(p[key])
                        samples[key][1].append(f[key])
                bare = lambda: process_ms([sys.executable, "-c", "pass"], env)  # noqa: E731
                if "token_cli" in wanted:
                    p, f = paired(lambda: process_ms([*cli, "token"], home_env), bare, first)
                    samples["token_cli"][0].append(p)
                    samples["token_cli"][1].append(f)
                if "token_cli_env" in wanted:
                    p, f = paired(lambda: process_ms([*cli, "token"], env), bare, first)
                    samples["token_cli_env"][0].append(p)
                    samples["token_cli_env"][1].append(f)
                if "import_pyticktick" in wanted:
                    p, f = paired(lambda: process_ms([sys.executable, "-c", "import pyticktick"], env), bare, first)
                    samples["import_pyticktick"][0].append(p)
                    samples["import_pyticktick"][1].append(f)
                if not vscode_missing:
                    p, f = paired(
                        lambda: vscode_bench.sample("extension", env), lambda: vscode_bench.sample("bare", env), first
                    )
                    samples["vscode_activation"][0].append(p)
                    samples["vscode_activation"][1].append(f)
                if signon is not None and "complete_signon" in wanted:
                    p, f = paired(signon.helper_ms, signon.floor_ms, first)
                    samples["complete_signon"][0].append(p)
                    samples["complete_signon"][1].append(f)
                if signon is not None and "first_signon" in wanted:
                    p, f = paired(
                        lambda: signon.first_ms_sample(base_env(Path(tmp) / "signon")), signon.floor_ms, first
                    )
                    samples["first_signon"][0].append(p)
                    samples["first_signon"][1].append(f)
            first_complete_ms = signon.first_ms if signon else None
        finally:
            if signon is not None:
                signon.close()
            if sandbox is not None:
                sandbox.close()
        scale_result = None
        if "scale" in wanted:
            print("scale row", file=sys.stderr, flush=True)
            call_us = statistics.median(samples["warm_get_token"][0] or [100.0])
            scale_result = run_scale(env, config_dir, scale["helpers"], scale["calls"], scale["writes"], call_us)
        idle_result = None
        if "idle_cpu" in wanted:
            print(f"idle CPU row ({idle_seconds:.0f} s)", file=sys.stderr, flush=True)
            idle_result = run_idle(env, idle_seconds)
        propagation_result = None
        if "propagation" in wanted:
            print("propagation row", file=sys.stderr, flush=True)
            prop_dir = Path(tmp) / "propagation"
            propagation_result = run_propagation(base_env(prop_dir), prop_dir, PROPAGATION["helpers"], logins)

    rows = {key: summarize(*samples[key], target) for key, _, _, _, target, _ in ROWS if samples[key][0]}
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },  # none on Windows
        "config": {"runs": runs, "warm_calls": calls, "quick": args.quick, "scale": scale, "helper": helper},
        "stale_console_script": stale,
        "units": {key: unit for key, *_, unit in ROWS},
        "rows": rows,
        "first_complete_signon_ms": first_complete_ms,
        "scale": scale_result,
        "vsix_bytes": vscode_bench.vsix_bytes(),
        "vscode_not_measured": vscode_missing if "vscode_activation" in wanted else None,
        "idle_cpu": idle_result,
        "propagation": propagation_result,
        "browser_seconds": BROWSER_SECONDS,
        "all_targets_met": all(r["met"] in (True, None) for r in rows.values())
        and all(part is not None and part["ok"] for part in (scale_result, idle_result, propagation_result))
        and len(rows) == len(ROWS),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    if first_complete_ms is not None:
        print(
            f"\nA fresh helper's first completeSignon sent right after startSignon (no time in the browser, so it"
            f" waits for the HTTP imports startSignon began): {first_complete_ms:.0f} ms."
        )
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
