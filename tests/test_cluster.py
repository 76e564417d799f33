"""The demo study through a real SLURM cluster gives the same tables as a local run.

Uses the SLURM that answers `sinfo`, or starts a one-node cluster with
tools/slurm/start_local_cluster.sh (root and apt-get needed: CI has both) and stops it
afterwards. Skipped, saying why, when neither is possible.

The demo runs with 2 subjects instead of 4: the smallest study with a paired
forward/backward comparison, and half the CI time. Each subject's trials run as one
SLURM group job (their chains join at the EMG normalisation), with the demo's truth of
each trial: 2 SLURM jobs (8 while the truth and scaling were SLURM jobs of their own, 40
before the trial chains were grouped). Scaling and the demo's synthesis, standing for a
lab's recordings, are local rules.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

START = REPO / "tools" / "slurm" / "start_local_cluster.sh"
STOP = REPO / "tools" / "slurm" / "stop_local_cluster.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"
_SPEC = importlib.util.spec_from_file_location("demo_profile", REPO / "tools" / "slurm" / "demo_profile.py")
DEMO_PROFILE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(DEMO_PROFILE)
CONFIG = REPO / "config" / "config.yaml"
STUDY = "demo"
CONFIG_OVERRIDE = DEMO_PROFILE.DEMO_CONFIG_OVERRIDE
# The study's answer (QC and the comparison, and every per-trial file they need), not the
# demo's own validation against its truth (error budget, ground-truth tables: run by
# tests/test_demo.py): what a lab's study runs on a cluster.
TARGETS = DEMO_PROFILE.DEMO_TARGETS
# seconds; measured on a 2-vCPU machine (python tools/benchmark_scale.py --trials
# --cluster): cluster run 167-203 s, local run 108 s (299 s / 96 s before the trial
# chains were grouped): several times that, to spare CI
CLUSTER_TIMEOUT_S = 1800
LOCAL_TIMEOUT_S = 1200
SETUP_TIMEOUT_S = 600  # apt-get install (about 30 s from the mirror) and daemon start
# qc.csv columns that hold how long something took, not a result: not compared
TIMING_COLUMN = re.compile(r"(wall|elapsed|runtime|duration|cpu)", re.IGNORECASE)


def _run(command: list[str], timeout_s: int, **kwargs) -> subprocess.CompletedProcess:
    # `timeout -k` kills the whole process group (snakemake ignores SIGTERM while it
    # waits on a status command that never answers); Python's own timeout is a backstop
    bounded = ["timeout", "-k", "30", str(timeout_s), *command]
    return subprocess.run(bounded, capture_output=True, text=True, timeout=timeout_s + 60, **kwargs)


def _slurm_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    return result.returncode == 0 and any(s.startswith(("idle", "mixed", "allocated")) for s in result.stdout.split())


@pytest.fixture(scope="module")
def slurm():
    """A SLURM that accepts jobs: the running one, or one started here (and stopped)."""
    if _slurm_answers():
        yield
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(
            "no SLURM answers `sinfo`, and one cannot be started here: "
            f"{START.relative_to(REPO)} needs root and apt-get (Debian/Ubuntu); CI has both"
        )
    started = _run(["bash", str(START)], SETUP_TIMEOUT_S)
    try:
        assert started.returncode == 0, f"{START.name} failed:\n{started.stdout}\n{started.stderr}"
        yield
    finally:
        _run(["bash", str(STOP)], 300)


def user_profile(folder: Path) -> Path:
    """The shipped profile with partition and account set, as the README tells a user."""
    return DEMO_PROFILE.write_profile(PROFILE, folder)


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(CONFIG),
        "--config",
        CONFIG_OVERRIDE,
        *args,
        "--",
        *TARGETS,
    ]


def sacct_jobs(workdir: Path, since: str) -> pd.DataFrame:
    """SLURM's accounting records of the jobs run in ``workdir`` since ``since``."""
    result = subprocess.run(
        ["sacct", "-n", "-P", "-X", "-S", since, "-o", "JobID,State,ExitCode,WorkDir,Comment"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("|") for line in result.stdout.splitlines() if line.strip()]
    jobs = pd.DataFrame(rows, columns=["job_id", "state", "exit_code", "workdir", "comment"])
    return jobs[jobs["workdir"] == str(workdir)]


def cancel_leftovers(workdir: Path) -> None:
    """Cancel this test's jobs still queued or running (after a timeout), no others."""
    queue = subprocess.run(["squeue", "-h", "-o", "%i %Z"], capture_output=True, text=True)
    ids = [line.split()[0] for line in queue.stdout.splitlines() if line.split()[1:] == [str(workdir)]]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True)


def result_tables(workdir: Path) -> dict[str, pd.DataFrame]:
    """Every CSV the study wrote (benchmarks and logs aside: they hold times, not results)."""
    study = workdir / "results" / STUDY
    tables = {}
    for path in sorted(study.rglob("*.csv")):
        relative = path.relative_to(study)
        if relative.parts[0] in ("benchmarks", "logs"):
            continue
        table = pd.read_csv(path)
        if relative.as_posix() == "qc.csv":
            table = table[[c for c in table.columns if not TIMING_COLUMN.search(c)]]
        tables[relative.as_posix()] = table
    return tables


def test_demo_on_slurm_matches_local_run(slurm, tmp_path):
    assert CONFIG.is_file(), f"the demo study's config {CONFIG} is missing"
    cluster_dir, local_dir = tmp_path / "cluster", tmp_path / "local"
    cluster_dir.mkdir()
    local_dir.mkdir()
    profile = user_profile(tmp_path / "profile")
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 5))

    started = time.monotonic()
    try:
        cluster = _run(snakemake_command(cluster_dir, "--profile", str(profile)), CLUSTER_TIMEOUT_S, cwd=cluster_dir)
    finally:
        cancel_leftovers(cluster_dir)
    cluster_s = time.monotonic() - started
    assert cluster.returncode == 0, (
        f"cluster run failed (exit {cluster.returncode}; 124 = timed out after "
        f"{CLUSTER_TIMEOUT_S} s):\n{cluster.stdout[-3000:]}\n{cluster.stderr[-8000:]}"
    )

    # every SLURM job snakemake submitted ran once and completed: one per group job (a
    # trial's chains, or a subject's where the EMG normalisation joins its trials) and none
    # outside the groups (scaling and the demo's synthesis are local rules)
    log = cluster.stdout + cluster.stderr
    submitted = set(re.findall(r"submitted with SLURM jobid (\d+)", log))
    group_jobs = re.findall(r"Group job trial \(jobs in lexicogr\. order\):", log)
    jobs = sacct_jobs(cluster_dir, since)
    assert set(jobs["job_id"]) == submitted, (
        f"sacct knows jobs {sorted(jobs['job_id'])}, snakemake submitted {sorted(submitted)}"
    )
    assert (jobs["state"] == "COMPLETED").all(), jobs[jobs["state"] != "COMPLETED"].to_string()
    ran = [re.sub(r"_wildcards_.*$", "", c).removeprefix("rule_") for c in jobs["comment"]]
    # a group job's comment is rule_trial_<its rules>; the others' rule_<rule>
    in_groups = [name for name in ran if name.startswith("trial_")]
    assert len(in_groups) == len(group_jobs) == 2, f"group jobs: {len(group_jobs)} planned, SLURM ran {ran}"
    # the group jobs' members are listed indented under their heading: every trial's
    # OpenSim stages, in the job of its subject (the demo has EMG: SUBJECT_IN_ONE_JOB,
    # workflow/rules/common.smk), which runs its trials' chains and its EMG normalisation
    grouped = re.findall(r"^ +rule (\w+):", log, flags=re.MULTILINE)
    assert sorted(grouped) == ["subject_S01", "subject_S02"], f"the group jobs ran {grouped}"
    alone = set(ran) - set(in_groups)
    assert not alone, f"jobs outside the groups: {sorted(alone)}"

    started = time.monotonic()
    local = _run(snakemake_command(local_dir, "--cores", "2"), LOCAL_TIMEOUT_S, cwd=local_dir)
    local_s = time.monotonic() - started
    assert local.returncode == 0, f"local run failed:\n{local.stdout[-3000:]}\n{local.stderr[-8000:]}"

    on_cluster, here = result_tables(cluster_dir), result_tables(local_dir)
    assert sorted(on_cluster) == sorted(here), "the two runs wrote different sets of CSV files"
    assert "qc.csv" in here and any(name.endswith("so_activations.csv") for name in here)
    for name, table in here.items():
        pd.testing.assert_frame_equal(on_cluster[name], table, check_exact=True, obj=f"results/{STUDY}/{name}")

    summary = {
        "slurm_jobs": len(jobs),
        "cluster_wall_s": round(cluster_s, 1),
        "local_wall_s": round(local_s, 1),
        "tables_compared": len(here),
    }
    (tmp_path / "cluster_vs_local.json").write_text(json.dumps(summary))
    print(f"\ncluster vs local: {json.dumps(summary)}")
