"""Before and after a change, side by side in one run: cold start, the round trip and the ``token`` path.

    git worktree add /tmp/before <commit>        # the tree to compare against
    python benchmarks/before_after.py --before /tmp/before [--after .] [--runs 15]

Both trees are run by this interpreter, each from its own ``server/`` folder on
``PYTHONPATH``, launched the way the console script launches the package
(``from ticktick_signon.entry import main``), so the only difference between
the two sides is the package's code. Runs alternate which side goes first, as
in ``run.py``; every row reports both sides' min and median and the median of
the per-run ratios (after / before). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import base_env, paired, process_ms, server_sample  # noqa: E402
from scale_worker import write_token  # noqa: E402
from ticktick_signon.cache.store import TokenStore  # noqa: E402

#: What the console script does, without depending on which tree installed it.
LAUNCH = "import sys; from ticktick_signon.entry import main; sys.exit(main())"


def side(tree: Path, config_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The argv prefix and environment that run ``tree``'s package."""
    env = base_env(config_dir)
    env["PYTHONPATH"] = str(tree / "server")
    compileall.compile_dir(str(tree / "server" / "ticktick_signon"), quiet=1)
    return [sys.executable, "-c", LAUNCH], env


def measure(before: Path, after: Path, runs: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Return ``{row: {"before": [...], "after": [...]}}`` from ``runs`` interleaved runs."""
    rows: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        config_dir = Path(folder)
        write_token(TokenStore(config_dir), "benchmark-token", 0)
        sides = {"before": side(before, config_dir), "after": side(after, config_dir)}

        def sample(name: str) -> dict[str, float]:
            argv, env = sides[name]
            got = server_sample([*argv, "serve"], env, calls)
            got["token_process"] = process_ms([*argv, "token"], env)
            return got

        for run in range(runs):
            after_first = run % 2 == 0
            after_sample, before_sample = paired(lambda: sample("after"), lambda: sample("before"), after_first)
            for key in after_sample:
                row = rows.setdefault(key, {"before": [], "after": []})
                row["before"].append(before_sample[key])
                row["after"].append(after_sample[key])
    return rows


UNITS = {"cold_start": "ms", "warm_get_token": "us", "idle_rss": "MiB", "token_process": "ms"}
LABELS = {
    "cold_start": "cold start: spawn, first `getToken` reply",
    "warm_get_token": "warm `getToken` round trip (per call)",
    "idle_rss": "idle memory (RSS after the first reply)",
    "token_process": "`ticktick-signon token` as a whole process",
}


def render(rows: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "| row | before (min / median) | after (min / median) | after / before (median of runs) |",
        "|---|---|---|---|",
    ]
    for key, got in rows.items():
        unit = UNITS[key]
        ratio = statistics.median(a / b for a, b in zip(got["after"], got["before"], strict=True))
        b, a = got["before"], got["after"]
        lines.append(
            f"| {LABELS[key]} | {min(b):.3g} / {statistics.median(b):.3g} {unit} "
            f"| {min(a):.3g} / {statistics.median(a):.3g} {unit} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the source tree to compare against")
    parser.add_argument("--after", type=Path, default=HERE.parent, help="the source tree measured (default: this one)")
    parser.add_argument("--runs", type=int, default=15, help="interleaved runs (default 15)")
    parser.add_argument("--calls", type=int, default=2000, help="warm getToken calls per run (default 2000)")
    args = parser.parse_args(argv)
    for tree in (args.before, args.after):
        if not (tree / "server" / "ticktick_signon" / "entry.py").is_file():
            parser.error(f"{tree} is not a ticktick-signon source tree (no server/ticktick_signon/entry.py)")
    print(render(measure(args.before.resolve(), args.after.resolve(), args.runs, args.calls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
