"""How long does Snakemake take to plan a big study? Times `snakemake -n` on generated
studies of N trials, for one or more checkouts of retrorun side by side.

    python tools/benchmark_scale.py [--trials 2 100 1000] [--repo /path/to/other/checkout ...]
                                    [--output results/benchmarks/scale.csv] [--data DIR]

Each study is the Hamner et al. 2010 running recording (subject02: static trial, running
trial and its ground reaction forces, from the OpenSim example data) linked under many
subject and trial names in a temporary folder: 20 trials per subject at most, half of
them labelled forward and half backward, so every subject has both compared conditions.
For each checkout and N it runs, in a fresh working directory, `snakemake -n` twice:
`first` (nothing cached: what a user waits for on a new study) and `again` (the same
dry run repeated on the unchanged study, as after editing one config key). Each checkout
plans with its own code first on PYTHONPATH. The figures (wall and CPU seconds of the
Snakemake process and its children) are printed as a table and written to --output as CSV.
Timings on a shared machine vary; run on an otherwise idle machine to compare checkouts.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "examples" / "hamner-run"
TRIALS_PER_SUBJECT = 20
RECORDING_FILES = ("subject02_static.trc", "subject02_running.trc", "subject02_running_grf.mot")
MODEL_FILES = {
    "osim": "FullBodyModel_Hamner2010_v2_0.osim",
    "scale_setup": "Setup_Scale.xml",
    "ik_tasks": "Tasks_IK.xml",
    "external_loads": "External_Loads.xml",
}


def default_data_dir() -> Path:
    """The folder of the Hamner files the example study (config/examples/hamner-run) names."""
    for line in (EXAMPLE / "config.yaml").read_text().splitlines():
        if line.strip().startswith("osim:"):
            return (EXAMPLE / line.split(":", 1)[1].split("#")[0].strip()).resolve().parent
    raise SystemExit(f"no model.osim in {EXAMPLE / 'config.yaml'}: give --data")


def write_study(folder: Path, n_trials: int, data: Path) -> Path:
    """A study of n_trials running trials (symbolic links to one recording); its config path."""
    files = folder / "data"
    files.mkdir(parents=True)
    subjects = ["subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s"]
    trials = ["subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s"]
    n_subjects = math.ceil(n_trials / TRIALS_PER_SUBJECT)
    for index in range(n_trials):
        subject = f"s{index % n_subjects:03d}"
        number = index // n_subjects
        if number == 0:
            static = files / f"{subject}_static.trc"
            static.symlink_to(data / RECORDING_FILES[0])
            subjects.append(f"{subject}\t65.9\t1.83\t{static}\t\t")
        condition = ("forward", "backward")[number % 2]
        trial = f"{condition}{number // 2 + 1:02d}"
        markers, grf = files / f"{subject}_{trial}.trc", files / f"{subject}_{trial}_grf.mot"
        markers.symlink_to(data / RECORDING_FILES[1])
        grf.symlink_to(data / RECORDING_FILES[2])
        trials.append(f"{subject}\t{trial}\t{condition}\t{markers}\t{grf}\t\t")
    (folder / "subjects.tsv").write_text("\n".join(subjects) + "\n")
    (folder / "trials.tsv").write_text("\n".join(trials) + "\n")
    model = "\n".join(f"  {key}: {data / name}" for key, name in MODEL_FILES.items())
    config = folder / "config.yaml"
    config.write_text(
        f"study: scale-{n_trials}\nsubjects: subjects.tsv\ntrials: trials.tsv\nmodel:\n{model}\n"
        "filter_hz: 12\n"
        "static_optimization:\n  max_isometric_force_scale: 3\n  reserve_optimal_force: 1\n"
        "  activation_exponent: 2\n"
        "muscle_groups:\n  quadriceps: [rect_fem, vas_med, vas_int, vas_lat]\n"
        "  hamstrings: [semimem, semiten, bifemlh, bifemsh]\n"
        "sides: {r: _r, l: _l}\nanalysis:\n  compare: [forward, backward]\n"
    )
    return config


def timed_dry_run(repo: Path, workdir: Path, config: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the process and its children, planned jobs) of one `snakemake -n`."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile")]
    command += ["--directory", str(workdir), "--configfile", str(config), "--cores", "2", "-n"]
    env = dict(os.environ, PYTHONPATH=str(repo))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"snakemake -n failed in {repo}:\n{(run.stdout + run.stderr)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    jobs = next((line.split()[1] for line in run.stdout.splitlines() if line.startswith("total ")), "0")
    return wall, cpu, int(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="+", default=[2, 100, 1000])
    parser.add_argument(
        "--repo", type=Path, action="append", default=[], help="another checkout to time too (repeatable)"
    )
    parser.add_argument("--output", type=Path, default=Path("results/benchmarks/scale.csv"))
    parser.add_argument("--data", type=Path, help="folder with the Hamner files (default: the example's)")
    args = parser.parse_args()
    data = (args.data or default_data_dir()).resolve()
    missing = [name for name in (*RECORDING_FILES, *MODEL_FILES.values()) if not (data / name).is_file()]
    if missing:
        raise SystemExit(f"{data} lacks {', '.join(missing)}: give --data, the folder of the Hamner running files")
    repos = [REPO] + [repo.resolve() for repo in args.repo]
    rows = []
    with tempfile.TemporaryDirectory(prefix="retrorun-scale-") as scratch:
        for n_trials in args.trials:
            config = write_study(Path(scratch) / f"study-{n_trials}", n_trials, data)
            for repo in repos:
                workdir = Path(scratch) / f"run-{n_trials}-{len(rows)}"
                workdir.mkdir()
                for run in ("first", "again"):
                    wall, cpu, jobs = timed_dry_run(repo, workdir, config)
                    row = {"repo": str(repo), "trials": n_trials, "run": run, "jobs": jobs}
                    row |= {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
                    rows.append(row)
                    print(f"{repo} {n_trials:>5} trials {run:<5} {jobs:>6} jobs  {wall:7.1f} s wall  {cpu:7.1f} s CPU")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\n`snakemake -n` of an N-trial study (wall s / CPU s); written to {args.output}")
    print(f"{'trials':>7}  {'run':<6}" + "".join(f"  {str(repo)[-28:]:>28}" for repo in repos))
    for n_trials in args.trials:
        for run in ("first", "again"):
            cells = [
                f"{r['wall_s']:.1f} / {r['cpu_s']:.1f}"
                for repo in repos
                for r in rows
                if r["repo"] == str(repo) and r["trials"] == n_trials and r["run"] == run
            ]
            print(f"{n_trials:>7}  {run:<6}" + "".join(f"  {cell:>28}" for cell in cells))


if __name__ == "__main__":
    main()
