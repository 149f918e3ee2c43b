"""The benchmark still works: a quick run measures every row and writes its JSON; no time is asserted.

Also proves the scale row's checker can fail: it must flag torn, stale and
failed reads in made-up traces, or its "0 errors, 0 torn, 0 stale" means nothing.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ROW_KEYS = (
    "cold_start",
    "warm_get_token",
    "idle_rss",
    "token_cli",
    "token_cli_env",
    "complete_signon",
    "first_signon",
    "import_pyticktick",
)
#: Measured only where the VS Code extension is built (node, `npm run build && npm run package`).
OPTIONAL_ROW_KEYS = ("vscode_activation",)


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_run", BENCHMARKS / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_measures_every_row_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    runs = report["config"]["runs"]
    assert runs >= 3
    assert set(ROW_KEYS) <= set(report["rows"]) <= set(ROW_KEYS) | set(OPTIONAL_ROW_KEYS)
    assert ("vscode_activation" in report["rows"]) == (report["vscode_not_measured"] is None)
    for key, row in report["rows"].items():
        for side in ("project", "floor"):
            samples = row[side]["samples"]
            assert len(samples) == runs, key
            assert all(math.isfinite(x) and x > 0 for x in samples), (key, side, samples)
        assert math.isfinite(row["ratio_median_of_runs"]) and row["ratio_median_of_runs"] > 0
        assert row["met"] in (True, False) if row["target"] else row["met"] is None
    scale = report["scale"]
    helpers, calls = report["config"]["scale"]["helpers"], report["config"]["scale"]["calls"]
    assert scale["calls"] == helpers * calls
    assert scale["writes"] == report["config"]["scale"]["writes"]
    assert (scale["errors"], scale["torn"], scale["stale"]) == (0, 0, 0), scale
    assert scale["calls_per_second"] > 0
    idle = report["idle_cpu"]
    assert idle["seconds"] > 0 and idle["project_ms"] >= 0 and idle["floor_ms"] >= 0 and idle["ok"] in (True, False)
    propagation = report["propagation"]
    latencies = propagation["latencies_ms"]
    assert len(latencies) == propagation["helpers"] * propagation["logins"] and propagation["helpers"] == 8
    assert all(math.isfinite(x) for x in latencies) and propagation["worst_ms"] == max(latencies)
    assert "idle CPU:" in done.stdout and "propagation:" in done.stdout
    # One table on stdout, a line per row.
    assert done.stdout.count("\n| ") >= len(ROW_KEYS) + 1
    assert "scale:" in done.stdout


def _trace(reads: list[list[Any]]) -> dict[str, Any]:
    return {"reads": reads, "started": 0, "finished": 10_000, "exit": 0}


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    return load_runner()


def test_scale_checker_passes_a_consistent_trace(runner: ModuleType) -> None:
    base = runner.BASE_EXPIRES_AT
    writes = [[1, "t1", 100], [2, "t2", 200]]
    reads = [
        [50, "t0", base, None],
        [150, "t1", base + 1, None],
        [150, "t2", base + 2, None],
        [250, "t2", base + 2, None],
    ]
    result = runner.check_scale([_trace(reads)], writes, "t0", 2)
    assert result["ok"] and result["distinct_tokens_seen"] == 3


@pytest.mark.parametrize(
    ("read", "field"),
    [
        ([250, "t1", "+1", None], "stale"),  # write 2 had completed before this read was sent
        ([250, "t0", "+0", None], "stale"),
        ([150, "zz", "+1", None], "torn"),  # a token nobody wrote
        ([150, "t1", "+2", None], "torn"),  # one write's token with another's expiry
        ([150, None, None, -32008], "errors"),
    ],
)
def test_scale_checker_flags_bad_reads(runner: ModuleType, read: list[Any], field: str) -> None:
    base = runner.BASE_EXPIRES_AT
    if read[2] is not None:
        read = [read[0], read[1], base + int(read[2]), read[3]]
    writes = [[1, "t1", 100], [2, "t2", 200]]
    result = runner.check_scale([_trace([read])], writes, "t0", 2)
    assert result[field] == 1 and not result["ok"], result


def test_scale_checker_flags_a_reader_going_back(runner: ModuleType) -> None:
    base = runner.BASE_EXPIRES_AT
    writes = [[1, "t1", 100], [2, "t2", 200]]
    reads = [[150, "t2", base + 2, None], [160, "t1", base + 1, None]]  # saw 2, then 1
    result = runner.check_scale([_trace(reads)], writes, "t0", 2)
    assert result["stale_went_back"] == 1 and not result["ok"]
