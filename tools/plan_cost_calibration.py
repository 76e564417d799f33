"""What does Snakemake's plan cost per job and per declared file? Times `snakemake -n` on
three generated workflows of N trials that do nothing (shell `touch`), so only
Snakemake's own work is measured:

    python tools/plan_cost_calibration.py [--trials 1000] [--files 20] [--batch 20]
                                          [--output results/benchmarks/plan_cost.csv]

- `files`: retrorun's layout when this was written. Three jobs per trial (motion, SO,
  analysis) as rules trial_motion, static_optimization_chunk and trial_analysis (now a
  trial is one job, rule trial, where nothing runs between its motion and its analysis,
  else two, trial_motion and trial_analysis, with SO's chunks as jobs between them where
  SO is split); each declares its trial's files one by one (--files outputs per chain,
  the next chain reads them), and a study table reads 6 files of every trial.
- `manifest`: the same three jobs per trial, each declaring one file (a manifest of what
  it wrote) and reading the manifests before it; the study table reads one per trial.
- `batch`: one job per chain for --batch trials of a subject, each declaring one manifest.

The difference between `files` and `manifest` is the cost of the declared files, the
one between `manifest` and `batch` the cost of the jobs (docs/performance.md, "Planning a
large study"). Each layout is planned twice in a fresh folder (`first`, `again`); the
wall and CPU seconds of the Snakemake process are printed and written to --output.
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """
N, F, B = {trials}, {files}, {batch}
LAYOUT = "{layout}"
TRIALS = [f"t{{i:05d}}" for i in range(N)]
UNITS = TRIALS if LAYOUT != "batch" else [f"b{{j:05d}}" for j in range((N + B - 1) // B)]


def files(unit, chain, n):
    return [f"trials/{{unit}}/{{chain}}{{k}}.csv" for k in range(n)]


def produced(unit, chain, n=F):
    return files(unit, chain, n) if LAYOUT == "files" else [f"trials/{{unit}}/{{chain}}.json"]


rule all:
    input:
        "study/table.csv",


rule table:
    input:
        [f for unit in UNITS for f in produced(unit, "analysis", 6)],
    output:
        "study/table.csv",
    shell:
        "touch {{output}}"


rule motion:
    input:
        "data/{{unit}}.trc",
    output:
        produced("{{unit}}", "motion"),
    shell:
        "touch {{output}}"


rule so:
    input:
        produced("{{unit}}", "motion"),
    output:
        produced("{{unit}}", "so", 4),
    shell:
        "touch {{output}}"


rule analysis:
    input:
        produced("{{unit}}", "motion") + produced("{{unit}}", "so", 4),
    output:
        produced("{{unit}}", "analysis"),
    shell:
        "touch {{output}}"
"""


def write_workflow(folder: Path, *, layout: str, trials: int, files: int, batch: int) -> None:
    folder.mkdir(parents=True)
    (folder / "Snakefile").write_text(SNAKEFILE.format(layout=layout, trials=trials, files=files, batch=batch))
    units = trials if layout != "batch" else -(-trials // batch)
    data = folder / "data"
    data.mkdir()
    prefix = "t" if layout != "batch" else "b"
    for i in range(units):
        (data / f"{prefix}{i:05d}.trc").touch()


def timed_plan(folder: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, jobs) of `snakemake -n` in ``folder``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1"], cwd=folder, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"snakemake -n failed in {folder}:\n{result.stderr[-3000:]}")
    total = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("total")]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(total[0]) if total else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--files", type=int, default=20, help="files a chain declares per trial in layout `files`")
    parser.add_argument("--batch", type=int, default=20, help="trials per job in layout `batch`")
    parser.add_argument("--output", type=Path, default=Path("results/benchmarks/plan_cost.csv"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="retrorun-plan-cost-") as scratch:
        for layout in ("files", "manifest", "batch"):
            folder = Path(scratch) / layout
            write_workflow(folder, layout=layout, trials=args.trials, files=args.files, batch=args.batch)
            for run in ("first", "again"):
                wall, cpu, jobs = timed_plan(folder)
                rows.append(
                    {"layout": layout, "trials": args.trials, "run": run, "jobs": jobs}
                    | {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
                )
                print(f"{layout:9s} {run:6s} {jobs:6d} jobs  {wall:6.1f} s wall  {cpu:6.1f} s CPU", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
