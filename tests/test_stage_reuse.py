"""A chained stage's outputs are reused only when nothing it depends on changed
(retrorun/stage_reuse.py, scripts/run_stages.py)."""

import json
import os
import time

import pytest

from retrorun import stage_reuse


@pytest.fixture
def stage(tmp_path):
    """A stage's script, its input and output files and its log, as a chain has them."""
    script = tmp_path / "scripts" / "stage.py"
    script.parent.mkdir()
    script.write_text("print('work')\n")
    source = tmp_path / "in" / "ik.mot"
    source.parent.mkdir()
    source.write_text("time q\n0 1\n")
    outputs = {"table": str(tmp_path / "out" / "table.csv"), "curves": [str(tmp_path / "out" / "c1.csv")]}
    log = tmp_path / "logs" / "stage" / "S01" / "T01.log"
    return {"script": script, "source": source, "outputs": outputs, "log": log}


def key(stage, params=None):
    return stage_reuse.stage_key(
        stage="stage",
        script=stage["script"],
        params=params or {"filter_hz": 12.0},
        inputs={"coordinates": str(stage["source"])},
        outputs=stage["outputs"],
        wildcards={"subject": "S01", "trial": "T01"},
        threads=1,
    )


def write_outputs(stage, text="a,b\n1,2\n"):
    for path in stage_reuse._flat(stage["outputs"]):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    stage["log"].parent.mkdir(parents=True, exist_ok=True)
    stage["log"].write_text("stage ran\n")


def test_the_key_follows_input_content_params_and_script_not_modification_times(stage):
    first = key(stage)
    os.utime(stage["source"], (time.time() + 100, time.time() + 100))
    stage["source"].write_text(stage["source"].read_text())  # rewritten, same bytes
    assert key(stage) == first
    assert key(stage, {"filter_hz": 10.0}) != first
    stage["source"].write_text("time q\n0 2\n")
    changed_input = key(stage)
    assert changed_input != first
    stage["script"].write_text("print('other work')\n")
    assert key(stage) != changed_input


def test_kept_outputs_come_back_after_snakemake_deleted_them(stage):
    write_outputs(stage)
    kept = key(stage)
    stage_reuse.keep(kept, stage["outputs"], stage["log"])
    written = {path: path.stat().st_mtime for path in stage_reuse._flat(stage["outputs"])}
    # Snakemake removes a job's outputs and logs before it runs
    for path in stage_reuse._flat(stage["outputs"]):
        path.unlink()
    stage["log"].unlink()

    assert stage_reuse.restore(kept, stage["outputs"], stage["log"], not_before=min(written.values()) - 50)
    for path in stage_reuse._flat(stage["outputs"]):
        assert path.read_text() == "a,b\n1,2\n"
        # as old as when the stage wrote it: jobs downstream need not rerun
        assert path.stat().st_mtime == written[path]

    # an input of the job is newer: Snakemake would plan the job again on every run
    newer_input = max(written.values()) + 50
    assert stage_reuse.restore(kept, stage["outputs"], stage["log"], not_before=newer_input)
    for path in stage_reuse._flat(stage["outputs"]):
        assert path.stat().st_mtime == newer_input
    log = stage["log"].read_text()
    assert log.startswith(stage_reuse.REUSED_NOTE) and log.endswith("stage ran\n")


def test_nothing_is_reused_under_another_key_or_with_reuse_turned_off(stage, monkeypatch):
    write_outputs(stage)
    stage_reuse.keep(key(stage), stage["outputs"], stage["log"])
    assert not stage_reuse.restore(key(stage, {"filter_hz": 10.0}), stage["outputs"], stage["log"])
    monkeypatch.setenv(stage_reuse.ENVIRONMENT_SWITCH, "0")
    assert not stage_reuse.restore(key(stage), stage["outputs"], stage["log"])


def test_a_new_run_replaces_what_was_kept(stage):
    write_outputs(stage)
    stage_reuse.keep(key(stage), stage["outputs"], stage["log"])
    for path in stage_reuse._flat(stage["outputs"]):
        path.unlink()  # as run_stages does before a stage runs: a new file, not the kept one
    write_outputs(stage, "a,b\n3,4\n")
    newer = key(stage, {"filter_hz": 10.0})
    stage_reuse.keep(newer, stage["outputs"], stage["log"])
    kept = stage_reuse.store_folder(stage["log"])
    assert sorted(p.name for p in kept.iterdir()) == ["0", "1", "key.json", "log"]
    assert not stage_reuse.restore(key(stage), stage["outputs"], stage["log"])
    assert stage_reuse.restore(newer, stage["outputs"], stage["log"])
    assert stage_reuse._flat(stage["outputs"])[0].read_text() == "a,b\n3,4\n"


def test_a_stage_that_wrote_no_file_keeps_nothing(stage):
    stage_reuse.keep(key(stage), stage["outputs"], stage["log"])
    assert not stage_reuse.store_folder(stage["log"]).exists()
    assert not stage_reuse.restore(key(stage), stage["outputs"], stage["log"])


@pytest.mark.slow
def test_a_qc_threshold_reruns_the_trials_qc_not_its_so(tmp_path):
    """SO is a stage of trial_analysis (one chunk): after a QC threshold changes, the chain
    reruns, every stage before QC gets its outputs back (the same bytes), QC is computed
    again, and the next plan is empty (reused outputs are not older than the job's
    inputs)."""
    from workflow_runner import ok, planned_jobs, snakemake

    # the trial's chains as jobs of their own (tests/test_subject_jobs.py: the subject's job)
    study = ("--config", "synthetic={n_subjects: 1}", "layout={one_job_per_subject: false}")
    ok(snakemake(tmp_path, None, *study, "--until", "trial_analysis"))
    trial = tmp_path / "results" / "demo" / "trials" / "S01" / "forward_1"
    logs = tmp_path / "results" / "demo" / "logs"
    activations = (trial / "so_activations.csv").read_bytes()
    qc = (trial / "qc.json").read_bytes()
    # each chain's log says what each stage did; each stage keeps its own log; the
    # manifest lists what each stage read and wrote
    motion = (logs / "chains" / "trial_motion" / "S01" / "forward_1.log").read_text()
    for stage in ("detect_contacts", "plan_cycles", "estimate_heading", "prepare_grf", "inverse_kinematics"):
        assert f"{stage}: ran in" in motion and (logs / stage / "S01" / "forward_1.log").is_file(), stage
    manifest = json.loads((trial / ".trial_motion.manifest").read_text())
    assert manifest["inverse_kinematics"]["output"]["mot"] == "results/demo/trials/S01/forward_1/ik.mot"
    assert manifest["inverse_dynamics"]["input"]["coordinates"] == "results/demo/trials/S01/forward_1/ik.mot"

    # the demo's residual force is 6-7 % of peak GRF: flagged at the default 5 %, not at 50 %
    loose = (*study, "qc={residual_force_max_share_of_peak_grf: 0.5}")
    plan = snakemake(tmp_path, None, *loose, "--until", "trial_analysis", "-n")
    ok(plan)
    assert planned_jobs(plan) == {"trial_analysis": 2}, plan.stdout[-3000:]
    ok(snakemake(tmp_path, None, *loose, "--until", "trial_analysis"))

    reused = stage_reuse.REUSED_NOTE
    for log in (
        "reduce_residuals/trials/S01/forward_1.log",
        "static_optimization_chunk/S01/forward_1/0-of-1.log",
        "static_optimization/S01/forward_1.log",
        "analyse_trial/S01/forward_1.log",
        "gait_geometry/S01/forward_1.log",
    ):
        assert (logs / log).read_text().startswith(reused), log
    assert not (logs / "trial_qc" / "S01" / "forward_1.log").read_text().startswith(reused)
    analysis = (logs / "chains" / "trial_analysis" / "S01" / "forward_1.log").read_text()
    assert "static_optimization: reused" in analysis and "trial_qc: ran" in analysis
    assert (trial / "so_activations.csv").read_bytes() == activations
    assert (trial / "qc.json").read_bytes() != qc

    again = snakemake(tmp_path, None, *loose, "--until", "trial_analysis", "-n")
    ok(again)
    assert planned_jobs(again) == {}, again.stdout[-3000:]


def test_stage_times_says_which_stages_were_reused(tmp_path):
    """tools/stage_times.py marks a stage whose log begins with the reuse note."""
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "tools"))
    from stage_times import stage_times

    study = tmp_path / "results" / "study"
    for stage, first_line in (("inverse_kinematics", "ran\n"), ("trial_qc", stage_reuse.REUSED_NOTE)):
        benchmark = study / "benchmarks" / stage / "S01" / "T01.tsv"
        benchmark.parent.mkdir(parents=True)
        benchmark.write_text("s\th:m:s\tmax_rss\tcpu_time\n0.01\t0:00:00\t100\t0.01\n")
        log = study / "logs" / stage / "S01" / "T01.log"
        log.parent.mkdir(parents=True)
        log.write_text(first_line + "\nmore\n")
    table = stage_times(study).set_index("rule")
    assert not table.loc["inverse_kinematics", "reused"] and table.loc["trial_qc", "reused"]
