"""Chunked static optimization: speedup and agreement on a long running trial.

    python tools/benchmark_so_chunks.py [--chunks 2] [--end 3.7] [--cores 2]

Runs the Hamner running trial (../shared/data) with an SO window of 0.7 s to --end,
once unsplit and once in --chunks chunks, each from scratch in its own scratch folder
on --cores cores, and prints for both the wall and CPU seconds of SO and the rest of
the trial's analysis (its residual step, SO's merge, metrics, gait geometry, QC: the
stages of rule trial_analysis), the load average around each run (other work on the
machine slows both, so compare runs made under similar load), and the largest absolute
difference between the merged and the unsplit activations.

Unsplit, a trial is one job (rule trial: its motion, SO and analysis): its figures are
the sum of those stages' benchmark files (scripts/run_stages.py), no start-up. In chunks
(jobs of their own between rules trial_motion and trial_analysis) the motion runs first
and the rest is timed as one Snakemake run: its and its jobs' start-up included, a cost
of the chunks as jobs (a few seconds), so the speedup printed is if anything low.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "examples" / "hamner-run"
# the stages of rule trial_analysis in one chunk, by their benchmark file in
# results/bench/benchmarks/ (benchmark_path, trial_benchmark: workflow/rules/common.smk)
ANALYSIS_BENCHMARKS = [
    "reduce_residuals/trials/subject02/run.tsv",
    "static_optimization_chunk/subject02/run/0-of-1.tsv",
    "static_optimization/subject02/run.tsv",
    "analyse_trial/subject02/run.tsv",
    "gait_geometry/subject02/run.tsv",
    "trial_qc/subject02/run.tsv",
]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workdir: Path, *, chunks: int, end: float, cores: int) -> tuple[dict, pd.DataFrame]:
    config = yaml.safe_load((EXAMPLE / "config.yaml").read_text())
    config["model"] = {k: str((EXAMPLE / v).resolve()) for k, v in config["model"].items()}
    config["static_optimization"]["chunks"] = chunks
    config["study"] = "bench"
    trials = pd.read_csv(EXAMPLE / "trials.tsv", sep="\t")
    subjects = pd.read_csv(EXAMPLE / "subjects.tsv", sep="\t")
    for table, columns in ((trials, ["markers", "grf"]), (subjects, ["static_markers"])):
        for column in columns:
            table[column] = [str((EXAMPLE / p).resolve()) for p in table[column]]
    trials["end_s"] = end
    workdir.mkdir(parents=True)
    trials.to_csv(workdir / "trials.tsv", sep="\t", index=False)
    subjects.to_csv(workdir / "subjects.tsv", sep="\t", index=False)
    config["subjects"], config["trials"] = "subjects.tsv", "trials.tsv"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    base = [
        sys.executable,
        "-m",
        "snakemake",
        # first: --quiet takes the words after it as its values, up to the next option
        "--quiet",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        str(cores),
    ]
    trial = "results/bench/trials/subject02/run"
    # the layout of the trial's jobs: static_optimization.chunks is the only key here that
    # changes it (TRIAL_IN_ONE_JOB, workflow/rules/common.smk)
    rules = subprocess.run(base + ["--list-rules"], check=True, capture_output=True, text=True).stdout.split()
    load_before = os.getloadavg()[0]
    if "trial_motion" in rules:
        # two jobs, SO's chunks between them: the motion chain (IK, ID) first, then timed
        # the run of SO's chunk jobs and trial_analysis (the stages after SO), Snakemake's
        # and its jobs' start-up included
        subprocess.run(base + ["--until", "trial_motion"], check=True, capture_output=True)
        cpu_before, started = _children_cpu_s(), time.time()
        subprocess.run(base + [f"{trial}/qc.json"], check=True, capture_output=True)
        timing = {"wall_s": time.time() - started, "cpu_s": _children_cpu_s() - cpu_before, "from": "timed run"}
    else:
        # one job (rule trial): SO is a stage of it, so its seconds and those of the other
        # stages trial_analysis would run are summed from their benchmark files, no start-up
        subprocess.run(base + [f"{trial}/qc.json"], check=True, capture_output=True)
        bench = pd.concat(pd.read_csv(workdir / "results/bench/benchmarks" / p, sep="\t") for p in ANALYSIS_BENCHMARKS)
        timing = {"wall_s": bench["s"].sum(), "cpu_s": bench["cpu_time"].sum(), "from": "stage benchmarks"}
    timing["load"] = (load_before, os.getloadavg()[0])
    return timing, pd.read_csv(workdir / trial / "so_activations.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=2)
    parser.add_argument("--end", type=float, default=3.7)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--keep", type=Path, help="run in this folder and keep it (logs, benchmarks) instead of a temporary one"
    )
    args = parser.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="so-chunks-"))
    try:
        whole_t, whole = run(scratch / "whole", chunks=1, end=args.end, cores=args.cores)
        split_t, split = run(scratch / "split", chunks=args.chunks, end=args.end, cores=args.cores)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    assert len(whole) == len(split) and (whole["time_s"] - split["time_s"]).abs().max() < 1e-9, "frames differ"
    difference = (whole.drop(columns="time_s") - split.drop(columns="time_s")).abs().to_numpy().max()
    print(f"SO frames: {len(whole)} (0.7-{args.end} s), cores: {args.cores}")
    for label, t in (("unsplit", whole_t), (f"{args.chunks} chunks", split_t)):
        print(
            f"{label} SO and after: {t['wall_s']:.1f} s wall, {t['cpu_s']:.1f} s CPU ({t['from']}), "
            f"load average {t['load'][0]:.1f} -> {t['load'][1]:.1f}"
        )
    print(f"wall-time speedup {whole_t['wall_s'] / split_t['wall_s']:.2f}x")
    print(f"max |activation difference|: {difference:.4f}")


if __name__ == "__main__":
    main()
