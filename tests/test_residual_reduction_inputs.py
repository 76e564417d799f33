"""Which model, kinematics and ID each stage after residual reduction reads, from a dry
run of the demo: with a method other than none, ID runs again on the reduced model and
kinematics, and SO, the analysis (knee angle and moment) and the reserve QC read that;
only QC's *_before_reduction columns read the first ID. With none nothing new runs."""

import re

import pytest
from conftest import REPO
from workflow_runner import ok, planned_jobs, snakemake

TRIAL = "results/demo/trials/S01/forward_1"
SUBJECT = "results/demo/subjects/S01"


def planned_inputs(result) -> dict[str, list[str]]:
    """Rule -> inputs of its job for TRIAL (or for the subject, reading TRIAL's files), from a
    dry run's job list."""
    inputs = {}
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", result.stdout):
        rule = re.match(r"\s*(?:local)?rule (\w+):", block)  # indented in a group job
        listed = re.search(r"^\s*input: (.*)$", block, re.M)
        if not (rule and listed) or rule.group(1) in inputs:
            continue
        files = [f.strip() for f in listed.group(1).split(",")]
        if "trial=forward_1" in block and "subject=S01" in block or any(f.startswith(TRIAL + "/") for f in files):
            inputs[rule.group(1)] = files
    return inputs


def dry_run(tmp_path, method, *settings):
    result = snakemake(
        tmp_path,
        REPO / "config" / "config.yaml",
        "-n",
        "--config",
        "synthetic={n_subjects: 1}",
        f"residual_reduction={{method: {method}}}",
        *settings,
    )
    ok(result)
    return planned_inputs(result), planned_jobs(result)


@pytest.mark.parametrize(
    "method, model, coordinates, table",
    [
        ("mass_com", f"{SUBJECT}/residual_reduction/model.osim", f"{TRIAL}/ik.mot", f"{TRIAL}/ik_coordinates.csv"),
        ("rra", f"{TRIAL}/rra/model.osim", f"{TRIAL}/rra_kinematics.mot", f"{TRIAL}/rra_coordinates.csv"),
    ],
)
def test_every_stage_after_reduction_reads_the_reduced_dynamics(tmp_path, method, model, coordinates, table):
    inputs, jobs = dry_run(tmp_path, method)
    assert jobs["trial_motion"] == 2
    after, before = f"{TRIAL}/id_after_reduction.csv", f"{TRIAL}/id_generalized_forces.csv"
    if method == "rra":
        # RRA and the ID after it are the last stages of trial_motion, the ID reading
        # RRA's model and kinematics from the stage before it
        assert not {"inverse_dynamics_after_reduction", "residual_reduction_algorithm"} & set(jobs)
        assert "reduce_residuals" not in jobs  # a trial's own residual step: a stage of its analysis
        motion = set(inputs["trial_motion"])
        assert f"{SUBJECT}/scaled_model.osim" in motion and not {model, coordinates} & motion
    else:
        assert jobs["inverse_dynamics_after_reduction"] == 2 and jobs["reduce_residuals"] == 1  # the subject's
        assert {model, coordinates} <= set(inputs["inverse_dynamics_after_reduction"])
    # SO (in one chunk a stage of trial_analysis), the knee moment and angle of the
    # analysis, and QC: reserves against the ID after reduction, the before columns from
    # the first ID (one job: rule trial_analysis)
    assert {model, coordinates, table, after, before} <= set(inputs["trial_analysis"])


def test_none_runs_nothing_new(tmp_path):
    inputs, jobs = dry_run(tmp_path, "none")
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
    _, jobs = dry_run(tmp_path, "rra", "sensitivity={residual_reduction.method: [mass_com]}")
    assert jobs["residual_reduction_algorithm"] == 2 and jobs["reduce_residuals"] == 2  # the main run's trials
    assert jobs["sensitivity_reduce_residuals"] == 1  # the variant's subject
    assert jobs["inverse_dynamics_after_reduction"] == 2 and jobs["sensitivity_inverse_dynamics_after_reduction"] == 2


def test_so_merge_declares_the_actuators_table_it_reads(tmp_path):
    """A stage is reused when its declared inputs are unchanged (retrorun/stage_reuse.py),
    so it reads no file it does not declare: SO's merge reads the first chunk's actuator
    table (reserves and residuals), declared beside the chunks' activations and forces."""
    inputs, jobs = dry_run(tmp_path, "none", "static_optimization={chunks: 2}")
    assert jobs["static_optimization_chunk"] == 4
    assert f"{TRIAL}/so_chunks/0-of-2/so_actuators.csv" in inputs["trial_analysis"]
