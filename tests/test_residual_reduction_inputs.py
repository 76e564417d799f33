"""Which model, kinematics and ID each stage after residual reduction reads, from a dry
run of the demo: with a method other than none, ID runs again on the reduced model and
kinematics, and SO, the analysis (knee angle and moment) and the reserve QC read that;
only QC's *_before_reduction columns read the first ID. With none nothing new runs."""

from collections import Counter

import pytest
import yaml
from conftest import REPO
from plan_inspector import planned

TRIAL = "results/demo/trials/S01/forward_1"
SUBJECT = "results/demo/subjects/S01"


def read_files(job) -> set[str]:
    """Every file a job reads: its declared inputs and, in a chain, each stage's (those
    other chains wrote are declared by the chains' manifests)."""
    files = set(job["input_files"])
    for stage in (job["stages"] or {}).values():
        for value in stage["input"].values():
            files |= set(value) if isinstance(value, list) else {value}
    return files


def planned_inputs(jobs) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Rule -> files its job for TRIAL reads (or the subject's job, reading TRIAL's
    files), and rule -> files that job declares."""
    inputs, declared = {}, {}
    for job in jobs:
        files = read_files(job)
        wildcards = job["wildcards"]
        mine = wildcards.get("trial") == "forward_1" and wildcards.get("subject") == "S01"
        if job["rule"] not in inputs and (mine or any(f.startswith(TRIAL + "/") for f in files)):
            inputs[job["rule"]], declared[job["rule"]] = files, set(job["input_files"])
    return inputs, declared


def dry_run(tmp_path, method, *settings):
    # the trials' chains as jobs of their own (the demo's subject is one job by default)
    config = {"synthetic": {"n_subjects": 1}, "residual_reduction": {"method": method}}
    config["layout"] = {"one_job_per_subject": False}
    for setting in settings:
        config |= yaml.safe_load(setting.replace("=", ": ", 1).join(["{", "}"]))
    jobs = planned(tmp_path, REPO / "config" / "config.yaml", config)
    return *planned_inputs(jobs), Counter(job["rule"] for job in jobs)


@pytest.mark.parametrize(
    "method, model, coordinates, table",
    [
        ("mass_com", f"{SUBJECT}/residual_reduction/model.osim", f"{TRIAL}/ik.mot", f"{TRIAL}/ik_coordinates.csv"),
        ("rra", f"{TRIAL}/rra/model.osim", f"{TRIAL}/rra_kinematics.mot", f"{TRIAL}/rra_coordinates.csv"),
    ],
)
def test_every_stage_after_reduction_reads_the_reduced_dynamics(tmp_path, method, model, coordinates, table):
    inputs, declared, jobs = dry_run(tmp_path, method)
    assert jobs["trial_motion"] == 2
    after, before = f"{TRIAL}/id_after_reduction.csv", f"{TRIAL}/id_generalized_forces.csv"
    if method == "rra":
        # RRA and the ID after it are the last stages of trial_motion, the ID reading
        # RRA's model and kinematics from the stage before it
        assert not {"inverse_dynamics_after_reduction", "residual_reduction_algorithm"} & set(jobs)
        assert "reduce_residuals" not in jobs  # a trial's own residual step: a stage of its analysis
        motion = declared["trial_motion"]
        assert f"{SUBJECT}/scaled_model.osim" in motion and not {model, coordinates} & motion
    else:
        assert jobs["inverse_dynamics_after_reduction"] == 2 and jobs["reduce_residuals"] == 1  # the subject's
        assert {model, coordinates} <= set(inputs["inverse_dynamics_after_reduction"])
    # SO (in one chunk a stage of trial_analysis), the knee moment and angle of the
    # analysis, and QC: reserves against the ID after reduction, the before columns from
    # the first ID (one job: rule trial_analysis)
    assert {model, coordinates, table, after, before} <= set(inputs["trial_analysis"])
    # the files trial_motion wrote are declared by its manifest, not one by one (a
    # declared file costs every plan: docs/performance.md, "Planning a large study")
    assert f"{TRIAL}/.trial_motion.manifest" in declared["trial_analysis"]
    written_by_motion = {coordinates, table, before} | ({after} if method == "rra" else set())
    assert not written_by_motion & declared["trial_analysis"]


def test_none_runs_nothing_new(tmp_path):
    inputs, _, jobs = dry_run(tmp_path, "none")
    assert not {"inverse_dynamics_after_reduction", "residual_reduction_algorithm"} & set(jobs)
    assert "reduce_residuals" not in jobs  # a trial's residual step: a stage of its analysis
    assert not any("id_after_reduction" in f or "rra" in f for files in inputs.values() for f in files)
    assert {f"{SUBJECT}/scaled_model.osim", f"{TRIAL}/ik_coordinates.csv", f"{TRIAL}/id_generalized_forces.csv"} <= set(
        inputs["trial_analysis"]
    )


def test_a_run_that_needs_the_steps_apart_keeps_them_apart_in_every_run(tmp_path):
    """One rule serves the main run and every sensitivity variant: a variant with mass_com
    (a subject's trials read together) keeps the residual step and RRA jobs of their own
    for the main run's rra too, and each run reads its own method's files."""
    _, _, jobs = dry_run(tmp_path, "rra", "sensitivity={residual_reduction.method: [mass_com]}")
    assert jobs["residual_reduction_algorithm"] == 2 and jobs["reduce_residuals"] == 2  # the main run's trials
    assert jobs["sensitivity_reduce_residuals"] == 1  # the variant's subject
    assert jobs["inverse_dynamics_after_reduction"] == 2 and jobs["sensitivity_inverse_dynamics_after_reduction"] == 2


def test_so_merge_declares_the_actuators_table_it_reads(tmp_path):
    """A stage is reused when its declared inputs are unchanged (retrorun/stage_reuse.py),
    so it reads no file it does not declare: SO's merge reads the first chunk's actuator
    table (reserves and residuals), declared beside the chunks' activations and forces."""
    inputs, declared, jobs = dry_run(tmp_path, "none", "static_optimization={chunks: 2}")
    assert jobs["static_optimization_chunk"] == 4
    assert f"{TRIAL}/so_chunks/0-of-2/so_actuators.csv" in declared["trial_analysis"]
