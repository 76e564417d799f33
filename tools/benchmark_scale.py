"""How long does Snakemake take to plan a big study? Times `snakemake -n` on generated
studies of N trials, for one or more checkouts of retrorun side by side.

    python tools/benchmark_scale.py [--trials 2 100 1000] [--repo /path/to/other/checkout ...]
                                    [--output results/benchmarks/scale.csv] [--data DIR] [--emg]
                                    [--run-trials K] [--more-trials M] [--run-seconds S]
                                    [--rerun KEY=VALUE]
                                    [--cluster [--cluster-runs N] [--cluster-whole-demo]] [--demo]
                                    [--study-steps N]

Each study is the Hamner et al. 2010 running recording (subject02: static trial, running
trial and its ground reaction forces, from the OpenSim example data) linked under many
subject and trial names in a temporary folder: 20 trials per subject at most, half of
them labelled forward and half backward, so every subject has both compared conditions.
For each checkout and N it runs, in a fresh working directory, `snakemake -n` twice:
`first` (nothing cached: what a user waits for on a new study) and `again` (the same
dry run repeated on the unchanged study, as after editing one config key). Each checkout
plans with its own code first on PYTHONPATH. The figures (wall and CPU seconds of the
Snakemake process and its children) are printed as a table and written to --output as CSV.
With --run-trials K (K >= 2, even), each checkout also runs a K-trial study of the first
S seconds of the recording (--run-seconds, default 5: every cycle analysed, residual
reduction `none`, QC gate `include`, as the 1000-trial figures of issue 23 were measured) to the end with
`--cores 2`, and reports CPU per trial: the whole run (the Snakemake process and every
job, start-up included) and, per rule, the CPU its benchmark files record (rules without
a `benchmark:` run inside Snakemake's process and are in the remainder). Written beside
--output as `<name>_stages.csv`. With --more-trials M (M > K, even), each checkout also
runs an M-trial study and reports the CPU per added trial, (CPU of M - CPU of K) / (M - K):
what each trial of a big study costs, without the study-level jobs (tables, figures,
report) and the subject's scaling that a K-trial study spreads over few trials.
With --rerun KEY=VALUE (needs --run-trials; a dotted config key and a YAML value, e.g.
analysis.weighting=max_isometric_force), each checkout then reruns that study with the
one key changed, as a researcher does after editing one setting, and reports the rerun's
wall and CPU per trial in the same table: what a job layout costs the most common rerun,
beside what it saves a full run.
With --cluster, each checkout also runs the demo study (2 subjects; its QC and comparison
tables, as tests/test_cluster.py) from nothing twice (--cluster-runs N times each, the
checkouts taking turns; the targets then take the median ratio): locally with `--cores 2`, and through
the SLURM that answers `sinfo` (start one with tools/slurm/start_local_cluster.sh) with the
checkout's own profile, its partition and account set to the cluster's defaults and status
polls from 5 s (tools/slurm/demo_profile.py, shared with the test); it reports both wall
times, their ratio and the SLURM jobs (sacct).
Written beside --output as `<name>_cluster.csv`. With --cluster-whole-demo, the cluster runs
are of the whole built-in demo instead (8 subjects, every target: validation, figures, report,
as a new user runs it), and each round also compares the two runs' tables
(tools/compare_study_results.py): the issue's "identical tables". With --demo, each checkout also runs the
whole built-in demo (its config/config.yaml) from nothing with `--cores 2`, as a new user
does, and reports wall and CPU seconds (`<name>_demo.csv`; tools/time_demo.py breaks one
run down by stage). With --study-steps N, each checkout also runs the study-level steps
(QC table, study tables, figures, report) of an N-trial study without running its trials:
a 2-trial study (5 s trials as above) is run, the N trials are hard links of its two, marked
up to date with `--touch`, and the steps' wall time (from their logs) and peak memory
(their benchmark files) are written to `<name>_study_steps.csv`, with the wall and CPU
seconds of one more `snakemake` on the finished study (a no-op rerun: nothing to do). Every figure any option
measured is then summarised against issue 23's targets, one column per checkout.
`--trials` with no number skips planning. With --emg the planned studies have EMG: each
trial an envelope file (one generated file spanning the recording, linked under each
trial's name) and the config two channels.
Timings on a shared machine vary; run on an otherwise idle machine to compare checkouts.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# loaded by path: this file is run as a script and imported by tests/test_planning_cost.py
_SPEC = importlib.util.spec_from_file_location("demo_profile", REPO / "tools" / "slurm" / "demo_profile.py")
demo_profile = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(demo_profile)
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


# with --emg: envelopes of two channels (an electrode on each side of the thigh), the
# recording's clock at 1000 Hz
EMG_CONFIG = (
    "emg:\n  signal: envelope\n  channels:\n    vastus_lateralis: [vas_lat_r]\n    biceps_femoris: [bifemlh_r]\n"
)


def write_emg(path: Path, markers: Path) -> None:
    """An EMG file (CSV: time_s, one envelope per EMG_CONFIG channel) spanning the TRC's time."""
    sys.path.insert(0, str(REPO))
    from retrorun.formats import read_trc_times

    time_s = read_trc_times(markers).time_s
    times = [time_s[0] + i / 1000 for i in range(int((time_s[-1] - time_s[0]) * 1000) + 1)]
    rows = [f"{t:.4f},{0.5 + 0.4 * math.sin(7 * t):.4f},{0.5 + 0.4 * math.cos(7 * t):.4f}" for t in times]
    path.write_text("time_s,vastus_lateralis,biceps_femoris\n" + "\n".join(rows) + "\n")


def write_study(
    folder: Path, n_trials: int, data: Path, *, end_s: float | None = None, extra: str = "", emg: bool = False
) -> Path:
    """A study of n_trials running trials (symbolic links to one recording), each ending at
    end_s when given; its config path. ``extra`` is appended to the config. ``emg``: each
    trial has an EMG file too (links to one, write_emg) and the config EMG_CONFIG."""
    files = folder / "data"
    files.mkdir(parents=True)
    subjects = ["subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s"]
    trials = ["subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s" + ("\temg" if emg else "")]
    if emg:
        write_emg(files / "emg.csv", data / RECORDING_FILES[1])
        extra += EMG_CONFIG
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
        row = f"{subject}\t{trial}\t{condition}\t{markers}\t{grf}\t\t{'' if end_s is None else end_s}"
        if emg:
            (files / f"{subject}_{trial}_emg.csv").symlink_to(files / "emg.csv")
            row += f"\t{files / f'{subject}_{trial}_emg.csv'}"
        trials.append(row)
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
        "sides: {r: _r, l: _l}\nanalysis:\n  compare: [forward, backward]\n" + extra
    )
    return config


def config_with(config: Path, setting: str) -> Path:
    """A copy of the study's config beside it with one dotted key set: KEY=VALUE, the value
    read as YAML. Same study name, so a run with it reuses (and reruns) the first run's results."""
    key, equals, value = setting.partition("=")
    if not (key and equals):
        raise SystemExit(f"--rerun {setting!r}: give KEY=VALUE, e.g. analysis.weighting=max_isometric_force")
    study = yaml.safe_load(config.read_text())
    *parents, last = key.split(".")
    node = study
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = yaml.safe_load(value)
    changed = config.with_name(f"{config.stem}_{re.sub(r'[^A-Za-z0-9_.-]', '_', setting)}.yaml")
    changed.write_text(yaml.safe_dump(study, sort_keys=False))
    return changed


def write_rows(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def timed_snakemake(repo: Path, workdir: Path, config: Path, *extra: str) -> tuple[float, float, str]:
    """(wall s, CPU s of Snakemake and its children, its output) of one Snakemake run of
    ``repo``'s workflow on ``config``, with its own code first on PYTHONPATH."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile")]
    command += ["--directory", str(workdir), "--configfile", str(config), *extra]
    env = dict(os.environ, PYTHONPATH=str(repo))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(extra)} failed in {repo}:\n{(run.stdout + run.stderr)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, run.stdout + run.stderr


def timed_dry_run(repo: Path, workdir: Path, config: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the process and its children, planned jobs) of one `snakemake -n`."""
    wall, cpu, output = timed_snakemake(repo, workdir, config, "--cores", "2", "-n")
    jobs = next((line.split()[1] for line in output.splitlines() if line.startswith("total ")), "0")
    return wall, cpu, int(jobs)


def read_benchmark(path: Path) -> dict[str, float]:
    """A Snakemake benchmark file's CPU seconds and peak memory (MB): NaN where it has none."""
    with open(path) as handle:
        row = next(csv.DictReader(handle, delimiter="\t"))
    return {
        key: float(row[key]) if row.get(key) not in (None, "", "NA") else float("nan")
        for key in ("cpu_time", "max_rss")
    }


def timed_run(repo: Path, workdir: Path, config: Path, study: str) -> dict:
    """CPU s of a whole run (Snakemake and every job) and CPU s per rule from its benchmarks."""
    wall, total_cpu, _ = timed_snakemake(repo, workdir, config, "--cores", "2", "--keep-going")
    per_rule: dict[str, list[float]] = {}
    for path in (workdir / "results" / study / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(workdir / "results" / study / "benchmarks").parts[0]
        figures = read_benchmark(path)
        per_rule.setdefault(rule, []).append(figures["cpu_time"])
        per_rule.setdefault(f"{rule} max_rss_mb", []).append(figures["max_rss"])
    return {"wall_s": wall, "cpu_s": total_cpu, "per_rule": per_rule}


def run_stages(
    repos: list[Path],
    scratch: Path,
    data: Path,
    n_trials: int,
    seconds: float,
    output: Path,
    rerun: str | None,
    more_trials: int = 0,
) -> list[dict]:
    # the recording fails Hicks et al.'s limits (config/examples/hamner-run): the gate is
    # opened so that every stage runs, as on data that pass
    extra = "  qc_gate: include\nresidual_reduction:\n  method: none\n"
    config = write_study(scratch / f"run-study-{n_trials}", n_trials, data, end_s=seconds, extra=extra)
    if more_trials:
        bigger = write_study(scratch / f"run-study-{more_trials}", more_trials, data, end_s=seconds, extra=extra)
    rows = []
    for index, repo in enumerate(repos):
        workdir = scratch / f"full-{index}"
        workdir.mkdir()
        result = timed_run(repo, workdir, config, f"scale-{n_trials}")
        rows.append({"repo": str(repo), "what": "whole run, per trial", "cpu_s": result["cpu_s"] / n_trials})
        rows.append({"repo": str(repo), "what": "whole run, wall (all trials)", "cpu_s": result["wall_s"]})
        accounted = 0.0
        for rule, values in sorted(result["per_rule"].items()):
            if rule.endswith("max_rss_mb"):
                rows.append({"repo": str(repo), "what": f"{rule} (peak)", "cpu_s": max(values)})
                continue
            rows.append({"repo": str(repo), "what": f"{rule}, per trial", "cpu_s": sum(values) / n_trials})
            accounted += sum(values)
        rows.append(
            {
                "repo": str(repo),
                "what": "rest (light jobs in Snakemake's process, start-up), per trial",
                "cpu_s": (result["cpu_s"] - accounted) / n_trials,
            }
        )
        if more_trials:
            # what a big study pays per trial: the study-level jobs (tables, figures, report)
            # and the subject's scaling, spread over only a few trials above, cancel out
            bigger_dir = scratch / f"full-{index}-{more_trials}"
            bigger_dir.mkdir()
            more = timed_run(repo, bigger_dir, bigger, f"scale-{more_trials}")
            added = (more["cpu_s"] - result["cpu_s"]) / (more_trials - n_trials)
            rows.append(
                {"repo": str(repo), "what": f"per added trial ({n_trials} to {more_trials} trials)", "cpu_s": added}
            )
        if rerun:
            wall, cpu, _ = timed_snakemake(repo, workdir, config_with(config, rerun), "--cores", "2", "--keep-going")
            rows.append({"repo": str(repo), "what": f"rerun after {rerun}, per trial", "cpu_s": cpu / n_trials})
            rows.append({"repo": str(repo), "what": f"rerun after {rerun}, wall (all trials)", "cpu_s": wall})
    stages = output.with_name(output.stem + "_stages.csv")
    write_rows(stages, rows)
    print(f"\nCPU s per trial of a {n_trials}-trial study, {seconds:g} s per trial, to the end; written to {stages}")
    whats = list(dict.fromkeys(row["what"] for row in rows))
    print(f"{'':<66}" + "".join(f"  {str(repo)[-20:]:>20}" for repo in repos))
    for what in whats:
        cells = [f"{r['cpu_s']:.1f}" for repo in repos for r in rows if r["repo"] == str(repo) and r["what"] == what]
        print(f"{what[:66]:<66}" + "".join(f"  {cell:>20}" for cell in cells))
    return rows


def run_cluster(repos: list[Path], scratch: Path, output: Path, runs: int = 1, whole: bool = False) -> list[dict]:
    """``runs`` rounds of (local, cluster) per checkout, the checkouts taking turns within
    a round, so that a drift of the machine's speed falls on all of them. ``whole``: the
    whole demo, its tables compared between the two runs."""
    rows = []
    for run, (index, repo) in itertools.product(range(1, runs + 1), enumerate(repos)):
        config = repo / "config" / "config.yaml"
        demo = () if whole else ("--config", demo_profile.DEMO_CONFIG_OVERRIDE, "--", *demo_profile.DEMO_TARGETS)
        local_dir, cluster_dir = scratch / f"local-{index}-{run}", scratch / f"cluster-{index}-{run}"
        local_dir.mkdir()
        cluster_dir.mkdir()
        local_s, _, _ = timed_snakemake(repo, local_dir, config, "--cores", "2", *demo)
        shipped = repo / "workflow" / "profiles" / "slurm" / "config.yaml"
        profile = demo_profile.write_profile(shipped, scratch / f"profile-{index}-{run}")
        cluster_s, _, log = timed_snakemake(repo, cluster_dir, config, "--profile", str(profile), *demo)
        slurm_ids = sorted(set(re.findall(r"submitted with SLURM jobid (\d+)", log)))
        states = subprocess.run(
            ["sacct", "-n", "-P", "-X", "-j", ",".join(slurm_ids), "-o", "State"], capture_output=True, text=True
        ).stdout.split()
        row = {"repo": str(repo), "run": run, "local_wall_s": round(local_s, 1), "cluster_wall_s": round(cluster_s, 1)}
        row |= {"cluster_over_local": round(cluster_s / local_s, 2), "slurm_jobs": len(slurm_ids)}
        row["slurm_completed"] = sum(state == "COMPLETED" for state in states)
        if whole:
            compared = subprocess.run(
                [sys.executable, str(REPO / "tools" / "compare_study_results.py")]
                + [str(folder / "results" / "demo") for folder in (local_dir, cluster_dir)],
                capture_output=True,
                text=True,
            ).stdout.strip()
            row["tables_compared"] = compared.splitlines()[-1] if compared else "comparison failed"
        rows.append(row)
        ratio = cluster_s / local_s
        print(
            f"{repo} (round {run}): local {local_s:.1f} s, SLURM {cluster_s:.1f} s ({ratio:.2f}x), "
            f"{len(slurm_ids)} SLURM jobs, {row['slurm_completed']} COMPLETED"
            + (f"; local vs SLURM: {row['tables_compared']}" if whole else "")
        )
    table = output.with_name(output.stem + "_cluster.csv")
    write_rows(table, rows)
    what = "the whole demo" if whole else "the demo (2 subjects)"
    print(f"\n{what} locally on 2 cores and through SLURM; written to {table}")
    return rows


def run_demo(repos: list[Path], scratch: Path, output: Path) -> list[dict]:
    rows = []
    for index, repo in enumerate(repos):
        workdir = scratch / f"demo-{index}"
        workdir.mkdir()
        wall, cpu, _ = timed_snakemake(repo, workdir, repo / "config" / "config.yaml", "--cores", "2")
        rows.append({"repo": str(repo), "demo_wall_s": round(wall, 1), "demo_cpu_s": round(cpu, 1)})
        print(f"{repo}: the demo from nothing, 2 cores: {wall:.1f} s wall, {cpu:.1f} s CPU")
    table = output.with_name(output.stem + "_demo.csv")
    write_rows(table, rows)
    print(f"\nthe built-in demo from nothing on 2 cores; written to {table}")
    return rows


# the study-level steps: the rules that read every trial (tools/stage_times.py lists their benchmarks)
STUDY_STEPS = (
    "aggregate_qc",
    "analysis_tables",
    "analysis_figures",
    "report_front_page",
    "methods_text",
    "hypotheses",
    "model_chains",
)


def run_study_steps(
    repos: list[Path], scratch: Path, data: Path, n_trials: int, seconds: float, output: Path
) -> list[dict]:
    """The study-level steps of an n_trials study, without running its trials: each
    checkout runs a 2-trial study (a forward and a backward trial of one subject), whose
    trial and subject folders the big study then takes as hard links (each trial's
    qc.json rewritten with its own name), marked up to date (`--touch`); Snakemake then
    runs only the study-level steps. Wall s from each step's log, peak memory from its
    benchmark file (where the checkout writes one)."""
    extra = "  qc_gate: include\nresidual_reduction:\n  method: none\n"
    small = write_study(scratch / "study-2", 2, data, end_s=seconds, extra=extra)
    big = write_study(scratch / f"study-{n_trials}", n_trials, data, end_s=seconds, extra=extra)
    rows = []
    for index, repo in enumerate(repos):
        small_dir, big_dir = scratch / f"small-{index}", scratch / f"big-{index}"
        small_dir.mkdir()
        timed_snakemake(repo, small_dir, small, "--cores", "2")
        source, target = small_dir / "results" / "scale-2", big_dir / "results" / f"scale-{n_trials}"
        with open(big.parent / "trials.tsv") as handle:
            for trial in csv.DictReader(handle, delimiter="\t"):
                folder = target / "trials" / trial["subject"] / trial["trial"]
                folder.parent.mkdir(parents=True, exist_ok=True)
                origin = source / "trials" / "s000" / f"{trial['condition']}01"
                shutil.copytree(origin, folder, copy_function=os.link)
                qc = json.loads((origin / "qc.json").read_text())
                (folder / "qc.json").unlink()
                (folder / "qc.json").write_text(json.dumps(qc | {"subject": trial["subject"], "trial": trial["trial"]}))
                if not (target / "subjects" / trial["subject"]).exists():
                    shutil.copytree(
                        source / "subjects" / "s000", target / "subjects" / trial["subject"], copy_function=os.link
                    )
        timed_snakemake(repo, big_dir, big, "--cores", "2", "--touch")
        wall, cpu, _ = timed_snakemake(repo, big_dir, big, "--cores", "2")
        row = {"repo": str(repo), "trials": n_trials, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
        # the study is now complete: a rerun has nothing to do but plan and find every file up to date
        noop_wall, noop_cpu, said = timed_snakemake(repo, big_dir, big, "--cores", "2")
        if "Nothing to be done" not in said:
            raise SystemExit(f"the rerun of the finished {n_trials}-trial study ran jobs ({repo}):\n{said[-3000:]}")
        row |= {"noop_rerun_wall_s": round(noop_wall, 1), "noop_rerun_cpu_s": round(noop_cpu, 1)}
        for rule in STUDY_STEPS:
            log = (target / "logs" / rule / "all.log").read_text()
            done = re.findall(r"done in ([0-9.]+) s", log)
            row[f"{rule}_s"] = float(done[-1]) if done else float("nan")
            benchmark = target / "benchmarks" / rule / "all.tsv"
            if benchmark.is_file():
                row[f"{rule}_max_rss_mb"] = read_benchmark(benchmark)["max_rss"]
        rows.append(row)
    table = output.with_name(output.stem + "_study_steps.csv")
    write_rows(table, rows)
    print(f"\nthe study-level steps of a {n_trials}-trial study (its trials taken as done); written to {table}")
    for what in [key for key in rows[0] if key not in ("repo", "trials")]:
        cells = [f"{row.get(what, float('nan')):.1f}" for row in rows]
        print(f"{what:<40}" + "".join(f"  {cell:>20}" for cell in cells))
    return rows


# Issue 23's targets: (the figure, at most this)
TARGETS = [
    ("`snakemake -n`, 1000 trials, first (s)", 10.0),
    ("`snakemake -n`, 1000 trials, again (s)", 10.0),
    ("`snakemake`, 1000 trials done, no-op rerun (s)", 10.0),
    ("CPU per trial, whole run (s)", 10.0),
    # issue 23's figure is per trial of a 1000-trial study: this one, without a small study's fixed costs
    ("CPU per added trial (s)", 10.0),
    ("the demo, 2 cores, wall (s)", 90.0),
    ("demo cluster / local wall", 1.5),
    ("whole demo cluster / local wall", 1.5),
    ("peak memory of any stage (MB)", 1000.0),
    ("peak memory of a study-level step, 1000 trials (MB)", 1000.0),
]


def write_targets(figures: dict[str, dict[str, float]], repos: list[Path], output: Path) -> None:
    """figures: {label: {repo: value}} for the labels of TARGETS that were measured."""
    measured = [(label, target) for label, target in TARGETS if label in figures]
    if not measured:
        return
    rows = [
        {"target": label, "limit": target, **{str(repo): figures[label].get(str(repo), "") for repo in repos}}
        for label, target in measured
    ]
    table = output.with_name(output.stem + "_targets.csv")
    write_rows(table, rows)
    print(f"\nissue 23's targets (at most the limit); written to {table}")
    width = max(len(row["target"]) for row in rows) + 2
    print(f"{'':<{width}}{'limit':>8}" + "".join(f"  {str(repo)[-20:]:>20}" for repo in repos))
    for row in rows:
        cells = [row[str(repo)] for repo in repos]
        text = [f"{c:.2f}" if isinstance(c, float) else str(c) for c in cells]
        print(f"{row['target']:<{width}}{row['limit']:>8g}" + "".join(f"  {t:>20}" for t in text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="*", default=[2, 100, 1000])
    parser.add_argument(
        "--repo", type=Path, action="append", default=[], help="another checkout to time too (repeatable)"
    )
    parser.add_argument("--output", type=Path, default=Path("results/benchmarks/scale.csv"))
    parser.add_argument("--data", type=Path, help="folder with the Hamner files (default: the example's)")
    parser.add_argument("--run-trials", type=int, default=0, help="also run a study of this many trials to the end")
    parser.add_argument("--run-seconds", type=float, default=5.0, help="seconds of the recording per trial run")
    parser.add_argument(
        "--more-trials",
        type=int,
        default=0,
        help="with --run-trials K: also run a study of M > K trials and report the CPU per added trial",
    )
    parser.add_argument(
        "--rerun", metavar="KEY=VALUE", help="with --run-trials: then rerun with this one config key changed"
    )
    parser.add_argument(
        "--emg", action="store_true", help="the planned studies have EMG (a generated envelope file per trial)"
    )
    parser.add_argument("--cluster", action="store_true", help="also time the demo locally and through SLURM")
    parser.add_argument(
        "--cluster-runs",
        type=int,
        default=1,
        help="with --cluster: this many rounds (the cluster run varies by 10 s with where status checks fall); "
        "the targets take each checkout's median ratio",
    )
    parser.add_argument(
        "--cluster-whole-demo",
        action="store_true",
        help="with --cluster: the whole demo (every target), not its 2-subject comparison; tables compared",
    )
    parser.add_argument("--demo", action="store_true", help="also run the whole built-in demo from nothing")
    parser.add_argument(
        "--study-steps",
        type=int,
        default=0,
        metavar="N",
        help="also time the study-level steps (tables, figures, report) of an N-trial study, its trials taken as done",
    )
    args = parser.parse_args()
    if args.run_trials and (args.run_trials < 2 or args.run_trials % 2):
        raise SystemExit("--run-trials must be even and at least 2 (forward and backward trials of a subject)")
    if args.more_trials and (args.more_trials <= args.run_trials or args.more_trials % 2):
        raise SystemExit("--more-trials must be even and more than --run-trials")
    if args.cluster_whole_demo and not args.cluster:
        raise SystemExit("--cluster-whole-demo is a kind of --cluster run: give --cluster too")
    if args.cluster_runs < 1:
        raise SystemExit("--cluster-runs must be at least 1")
    if args.rerun and not args.run_trials:
        raise SystemExit("--rerun reruns the --run-trials study: give --run-trials too")
    data = (args.data or default_data_dir()).resolve()
    missing = [name for name in (*RECORDING_FILES, *MODEL_FILES.values()) if not (data / name).is_file()]
    if missing:
        raise SystemExit(f"{data} lacks {', '.join(missing)}: give --data, the folder of the Hamner running files")
    repos = [REPO] + [repo.resolve() for repo in args.repo]
    rows = []
    with tempfile.TemporaryDirectory(prefix="retrorun-scale-") as scratch:
        for n_trials in args.trials:
            config = write_study(Path(scratch) / f"study-{n_trials}", n_trials, data, emg=args.emg)
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
    figures: dict[str, dict[str, float]] = {}
    if args.cluster:
        with tempfile.TemporaryDirectory(prefix="retrorun-cluster-") as scratch:
            ratios: dict[str, list[float]] = {}
            runs = run_cluster(repos, Path(scratch), args.output, args.cluster_runs, args.cluster_whole_demo)
            for row in runs:
                ratios.setdefault(row["repo"], []).append(row["cluster_over_local"])
            label = "whole demo cluster / local wall" if args.cluster_whole_demo else "demo cluster / local wall"
            for repo, values in ratios.items():
                figures.setdefault(label, {})[repo] = round(statistics.median(values), 2)
    if rows:
        write_planning(rows, repos, args.trials, args.output)
        for row in rows:
            if row["trials"] == 1000:
                label = f"`snakemake -n`, 1000 trials, {row['run']} (s)"
                figures.setdefault(label, {})[row["repo"]] = row["wall_s"]
    if args.run_trials:
        with tempfile.TemporaryDirectory(prefix="retrorun-run-") as scratch:
            rows_run = run_stages(
                repos,
                Path(scratch),
                data,
                args.run_trials,
                args.run_seconds,
                args.output,
                args.rerun,
                args.more_trials,
            )
            for row in rows_run:
                if row["what"] == "whole run, per trial":
                    figures.setdefault("CPU per trial, whole run (s)", {})[row["repo"]] = round(row["cpu_s"], 1)
                elif row["what"].startswith("per added trial"):
                    figures.setdefault("CPU per added trial (s)", {})[row["repo"]] = round(row["cpu_s"], 1)
                elif row["what"].endswith("max_rss_mb (peak)"):
                    peaks = figures.setdefault("peak memory of any stage (MB)", {})
                    peaks[row["repo"]] = round(max(peaks.get(row["repo"], 0.0), row["cpu_s"]), 1)
    if args.demo:
        with tempfile.TemporaryDirectory(prefix="retrorun-demo-") as scratch:
            for row in run_demo(repos, Path(scratch), args.output):
                figures.setdefault("the demo, 2 cores, wall (s)", {})[row["repo"]] = row["demo_wall_s"]
    if args.study_steps:
        with tempfile.TemporaryDirectory(prefix="retrorun-study-steps-") as scratch:
            for row in run_study_steps(repos, Path(scratch), data, args.study_steps, args.run_seconds, args.output):
                peaks = [value for key, value in row.items() if key.endswith("_max_rss_mb")]
                if args.study_steps == 1000 and peaks:
                    figures.setdefault("peak memory of a study-level step, 1000 trials (MB)", {})[row["repo"]] = max(
                        peaks
                    )
                if args.study_steps == 1000:
                    label = "`snakemake`, 1000 trials done, no-op rerun (s)"
                    figures.setdefault(label, {})[row["repo"]] = row["noop_rerun_wall_s"]
    write_targets(figures, repos, args.output)


def write_planning(rows: list[dict], repos: list[Path], trial_counts: list[int], output: Path) -> None:
    write_rows(output, rows)
    print(f"\n`snakemake -n` of an N-trial study (wall s / CPU s); written to {output}")
    print(f"{'trials':>7}  {'run':<6}" + "".join(f"  {str(repo)[-28:]:>28}" for repo in repos))
    for n_trials in trial_counts:
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
