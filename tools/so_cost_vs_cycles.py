"""SO cost against the number of analysed cycles, on the Hamner running example.

    python tools/so_cost_vs_cycles.py [workdir] [--cycles all 1] [--solver fast]

Runs the example (config/examples/hamner-run, no window: the cycles choose where SO
runs) once per analysis.cycles value, up to the trial's SO activations, in workdir
(default: a temporary folder), and prints per setting: the cycles used, the frames SO
solved, the CPU seconds (user + sys) of SO and its merge (Snakemake's start-up
subtracted), the figure to compare on a loaded machine, and SO's wall seconds from
Snakemake's benchmark file.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "examples" / "hamner-run" / "config.yaml"
TRIAL = "results/hamner-run/trials/subject02/run"


def snakemake(workdir: Path, cycles: str, solver: str, *args: str) -> float:
    """Run Snakemake; return the CPU seconds (user + sys) it and its jobs used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the targets first: --configfile and --config would take them as their values
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *args,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "1",
            "--configfile",
            str(CONFIG),
            "--config",
            f"analysis={{cycles: {cycles}}}",
            f"static_optimization={{solver: {solver}}}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(workdir: Path, cycles: str, solver: str) -> dict:
    trial = workdir / TRIAL
    # everything SO needs first, then SO alone; Snakemake's own start-up (a dry run) is
    # subtracted from the SO call
    # (a trial's chain is asked for by its manifest: the files it lists are not targets)
    snakemake(workdir, cycles, solver, f"{TRIAL}/.trial_motion.manifest")
    start_up = snakemake(workdir, cycles, solver, "-n", f"{TRIAL}/.trial_analysis.manifest")
    so_cpu = snakemake(workdir, cycles, solver, f"{TRIAL}/.trial_analysis.manifest") - start_up
    span = json.loads((trial / "analysis_span.json").read_text())
    frames = len(pd.read_csv(trial / "so_activations.csv"))
    bench = pd.concat(
        [
            pd.read_csv(p, sep="\t")
            for p in (workdir / "results/hamner-run/benchmarks/static_optimization_chunk").rglob("*.tsv")
        ]
    )
    return {
        "solver": solver,
        "cycles": cycles,
        "cycles_used": span["n_used"],
        "so_span_s": f"{span['so_start_s']:.3f}-{span['so_end_s']:.3f}",
        "so_frames": frames,
        "so_cpu_s": round(so_cpu, 1),
        "so_cpu_ms_per_frame": round(1000 * so_cpu / frames),
        "so_wall_s": round(float(bench["s"].sum()), 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", nargs="?")
    parser.add_argument("--cycles", nargs="+", default=["all", "1"])
    parser.add_argument("--solver", nargs="+", default=["fast"], help="static_optimization.solver value(s)")
    args = parser.parse_args()
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="so_cost_"))
    rows = [run(base / f"{solver}-cycles-{value}", value, solver) for solver in args.solver for value in args.cycles]
    print(pd.DataFrame(rows).to_string(index=False))
