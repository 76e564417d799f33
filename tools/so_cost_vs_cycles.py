"""SO cost against the number of analysed cycles, on the Hamner running example.

    python tools/so_cost_vs_cycles.py [workdir] [--cycles all 1]

Runs the example (config/examples/hamner-run, no window: the cycles choose where SO
runs) once per analysis.cycles value, up to the trial's SO activations, in workdir
(default: a temporary folder), and prints per setting: the cycles used, the frames SO
solved, and the SO job's wall and CPU seconds from Snakemake's benchmark file (CPU is
the figure to compare on a loaded machine).
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
TRIAL = "results/hamner-run/trials/subject02/run"


def run(workdir: Path, cycles: str) -> dict:
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                    str(workdir), "--cores", "2", "--configfile", str(CONFIG), "--config", f"analysis={{cycles: {cycles}}}",
                    "--keep-going", f"{TRIAL}/so_activations.csv"], check=True, capture_output=True, text=True)
    trial = workdir / TRIAL
    span = json.loads((trial / "analysis_span.json").read_text())
    frames = len(pd.read_csv(trial / "so_activations.csv"))
    bench = pd.concat([pd.read_csv(p, sep="\t") for p in
                       (workdir / "results/hamner-run/benchmarks/static_optimization_chunk").rglob("*.tsv")])
    return {"cycles": cycles, "cycles_used": span["n_used"], "so_span_s": f"{span['so_start_s']:.3f}-{span['so_end_s']:.3f}",
            "so_frames": frames, "so_wall_s": float(bench["s"].sum()), "so_cpu_s": float(bench["cpu_time"].sum())}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", nargs="?")
    parser.add_argument("--cycles", nargs="+", default=["all", "1"])
    args = parser.parse_args()
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="so_cost_"))
    rows = [run(base / f"cycles-{value}", value) for value in args.cycles]
    print(pd.DataFrame(rows).to_string(index=False))
