"""Time the built-in demo from nothing, as a new user runs it.

    python tools/time_demo.py [--cores 2] [--keep DIR]

Runs `snakemake --cores N` with config/config.yaml in a fresh scratch directory, then
prints the total wall time, the CPU time (user + system of Snakemake and all its jobs)
and each stage's summed and longest job wall time (from Snakemake's benchmark files).
Issue 3 asks for <= 10 minutes on 2 cores. On a machine shared with other work the wall
time says little; CPU time / cores is the wall time an idle machine would need if the
jobs kept every core busy (a lower bound; the job graph's serial parts add to it).
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from stage_times import stage_times  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="run in this directory (kept) instead of a temporary one")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="retrorun-demo-"))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        str(args.cores),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--quiet",
        "rules",
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall_s = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = usage.ru_utime + usage.ru_stime
    if result.returncode != 0:
        sys.exit(f"the demo failed after {wall_s:.0f} s:\n{result.stderr[-4000:]}")
    table = stage_times(workdir / "results" / "demo")
    summary = table.groupby("rule")["wall_s"].agg(jobs="count", total_s="sum", longest_s="max").sort_values("total_s")
    print(summary.round(1).to_string())
    print(f"\ndemo wall time with --cores {args.cores}: {wall_s:.0f} s ({wall_s / 60:.1f} min); results in {workdir}")
    print(
        f"CPU time (user + system, all jobs): {cpu_s:.0f} s; / {args.cores} cores = {cpu_s / args.cores:.0f} s "
        f"({cpu_s / args.cores / 60:.1f} min) on an idle machine at best"
    )


if __name__ == "__main__":
    main()
