"""SO cost against the number of analysed cycles, on the Hamner running example.

    python tools/so_cost_vs_cycles.py [workdir] [--cycles all 1] [--solver fast]

Runs the example (config/examples/hamner-run, no window: the cycles choose where SO
runs) once per analysis.cycles value, to the trial's qc.json (its one job, rule trial,
or its jobs where the layout has several), in workdir (default: a temporary folder), and
prints per setting: the cycles used, the frames SO solved, the CPU seconds (user + sys)
of SO and its merge, the figure to compare on a loaded machine, and their wall seconds.
Both from the stages' benchmark files (benchmarks/static_optimization_chunk/ and
benchmarks/static_optimization/), as scripts/run_stages.py writes them for a stage of a
chain: the stage alone, no start-up of Snakemake or of the job. (With chunks > 1 a chunk
is a job of its own: Snakemake's benchmark, the job's start-up included.)
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "examples" / "hamner-run" / "config.yaml"
STUDY = "results/hamner-run"
SUBJECT, TRIAL_NAME = "subject02", "run"
TRIAL = f"{STUDY}/trials/{SUBJECT}/{TRIAL_NAME}"


def snakemake(workdir: Path, cycles: str, solver: str, *args: str) -> None:
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


def so_benchmarks(workdir: Path) -> pd.DataFrame:
    """The trial's benchmark rows of SO's chunk(s) and of their merge."""
    benchmarks = workdir / STUDY / "benchmarks"
    paths = [
        *(benchmarks / "static_optimization_chunk" / SUBJECT / TRIAL_NAME).glob("*.tsv"),
        benchmarks / "static_optimization" / SUBJECT / f"{TRIAL_NAME}.tsv",
    ]
    return pd.concat([pd.read_csv(p, sep="\t") for p in paths])


def run(workdir: Path, cycles: str, solver: str) -> dict:
    trial = workdir / TRIAL
    # qc.json is declared by every layout of a trial's jobs (one, rule trial, or
    # trial_motion and trial_analysis, with SO's chunks between them)
    snakemake(workdir, cycles, solver, f"{TRIAL}/qc.json")
    span = json.loads((trial / "analysis_span.json").read_text())
    frames = len(pd.read_csv(trial / "so_activations.csv"))
    bench = so_benchmarks(workdir)
    so_cpu = float(bench["cpu_time"].sum())
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
