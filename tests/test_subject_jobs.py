"""A subject as one job (SUBJECT_IN_ONE_JOB in workflow/rules/common.smk,
scripts/run_subject.py): where a subject's trials wait for each other anyway (EMG
normalised over them), its trials' chains and its normalisation run in one job instead of
two jobs per trial and one for the divisors. Each job costs about a second of CPU to start;
the demo's 8 subjects ran 40 of them, now 8. The numbers must not change, whichever way the
trials run (one after another, side by side in worker processes, or as jobs of their own),
and a trial that fails must not cost the others their work."""

import sys

import numpy as np
import pytest
from conftest import REPO
from workflow_runner import ok, snakemake

from retrorun import stage_reuse
from retrorun.formats import read_trc, write_trc
from retrorun.jobs import error_record_path, read_error_record

sys.path.insert(0, str(REPO / "tools"))
from compare_study_results import difference, read, repository_root, tables  # noqa: E402

pytestmark = pytest.mark.slow

TWO_SUBJECTS = ("--config", "synthetic={n_subjects: 2}")


def differing_tables(old, new) -> list[str]:
    """The tables of two results folders that differ (or exist in one only)."""
    old_tables, new_tables = tables(old), tables(new)
    if set(old_tables) != set(new_tables):
        return sorted(set(old_tables) ^ set(new_tables))
    old_root, new_root = repository_root(old), repository_root(new)
    return [
        name
        for name in old_tables
        if difference(read(old_tables[name], old_root), read(new_tables[name], new_root), rtol=0, atol=0)
    ]


def test_a_subjects_job_gives_the_tables_of_jobs_per_trial_serial_or_side_by_side(tmp_path):
    """The demo with 2 subjects three ways: one job per subject on 2 cores (each job one
    core: its trials one after another), on 4 cores (2 each: its 2 trials side by side in
    forked worker processes), and a job per trial chain (layout.one_job_per_subject false).
    Every table identical."""
    runs = {name: tmp_path / name for name in ("serial", "side_by_side", "per_trial")}
    ok(snakemake(runs["serial"], None, *TWO_SUBJECTS))
    ok(snakemake(runs["side_by_side"], None, "--cores", "4", *TWO_SUBJECTS))
    ok(snakemake(runs["per_trial"], None, *TWO_SUBJECTS, "layout={one_job_per_subject: false}"))
    results = {name: run / "results" / "demo" for name, run in runs.items()}
    for name, expected in (("serial", 1), ("side_by_side", 2)):
        log = (results[name] / "logs" / "subject" / "S01.log").read_text()
        assert log.startswith(f"subject S01: {expected} worker process(es)"), log
        assert "trial_analysis S01 backward_1: done" in log
    assert not (results["per_trial"] / "logs" / "subject").exists()
    assert len(tables(results["serial"])) > 50
    for name in ("side_by_side", "per_trial"):
        assert differing_tables(results["serial"], results[name]) == [], name


def test_a_failing_trial_leaves_the_subjects_other_trials_done_and_reused(tmp_path):
    """One trial's chain fails inside the subject's job (every marker of the demo's S01
    forward_1 lost for half a second after synthesis: IK has nothing to track, as in
    tests/test_faults.py): the subject's other trial still runs its motion chain; the job
    fails naming the trial, its chain and its log, and the trial has its error record. The
    next run leaves the failed trial out and reuses the other trial's stages."""
    study = (*TWO_SUBJECTS, "gaps={max_gap_s: 0.05, long_gap_policy: ignore_marker}")
    ok(snakemake(tmp_path, None, *study, "--until", "synthesize_study"))
    results = tmp_path / "results" / "demo"
    trc = results / "inputs" / "S01_forward_1.trc"
    markers = read_trc(trc)
    for xyz in markers.positions_m.values():
        xyz[60:110] = np.nan
    write_trc(trc, markers)

    failed = snakemake(tmp_path, None, *study, "--until", "subject_S01")
    assert failed.returncode != 0
    log = (results / "logs" / "subject" / "S01.log").read_text()
    assert "trial_motion S01 forward_1: FAILED" in log and "trial_motion S01 backward_1: done" in log, log
    assert "logs/chains/trial_motion/S01/forward_1.log" in log and "inverse_kinematics: FAILED" in log
    assert "trial_analysis" not in log  # the analysis waits for every trial's motion (the EMG divisors)
    said = failed.stdout + failed.stderr
    assert "1 of 2 motion chain(s) failed: trial_motion S01 forward_1" in said, said[-3000:]
    record = read_error_record(error_record_path(results / "trials" / "S01" / "forward_1"))
    assert record["rule_stage"] == "inverse_kinematics" and record["trial"] == "forward_1", record
    # Snakemake removed the failed job's outputs; the other trial's stages are kept
    assert not (results / "trials" / "S01" / "backward_1" / ".trial_motion.manifest").exists()

    ok(snakemake(tmp_path, None, *study, "--until", "subject_S01"))
    log = (results / "logs" / "subject" / "S01.log").read_text()
    assert "forward_1" not in log and "trial_analysis S01 backward_1: done" in log, log
    backward = (results / "logs" / "chains" / "trial_motion" / "S01" / "backward_1.log").read_text()
    assert "inverse_kinematics: reused" in backward and "demo_truth: reused" in backward, backward
    ik_log = results / "logs" / "inverse_kinematics" / "S01" / "backward_1.log"
    assert ik_log.read_text().startswith(stage_reuse.REUSED_NOTE)
    assert (results / "trials" / "S01" / "backward_1" / ".trial_analysis.manifest").is_file()


def test_jobs_whose_workers_start_afresh_run_as_forked_ones(tmp_path, monkeypatch):
    """Off Linux (here: RETRORUN_FORK_WORKERS=0) the workers of the demo's synthesis and of
    a subject's job are started afresh, and such a worker imports the job's script as its
    main module: the script's work must not run again in it. The demo's 2 subjects on 4
    cores: the synthesis and the first subject's job each with 2 workers."""
    monkeypatch.setenv("RETRORUN_FORK_WORKERS", "0")
    ok(snakemake(tmp_path, None, "--cores", "4", *TWO_SUBJECTS, "--until", "subject_S01"))
    results = tmp_path / "results" / "demo"
    log = (results / "logs" / "subject" / "S01.log").read_text()
    assert log.startswith("subject S01: 2 worker process(es)") and "trial_analysis S01 backward_1: done" in log, log
    assert (results / "trials" / "S01" / "forward_1" / ".trial_analysis.manifest").is_file()
