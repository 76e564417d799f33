"""An analysis the QC gate leaves empty stops, naming each trial, its failing checks and
what to change (issue 19, item 7): before, real data whose every trial failed QC ran to
exit 0 with a comparison table of empty rows."""

import runpy
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import REPO
from snakemake.iocontainers import InputFiles, OutputFiles, Params, Wildcards

from retrorun import qc
from retrorun.errors import AnalysisError

COMPARE = ["forward", "backward"]


def trial(subject, name, condition, used=True):
    cycles = pd.DataFrame({"side": ["r", "l"], "cycle": [0, 0], "status": ["used" if used else "not_chosen"] * 2})
    return {"subject": subject, "trial": name, "condition": condition}, cycles


def qc_row(subject, name, condition, flags=""):
    return {
        "subject": subject,
        "trial": name,
        "condition": condition,
        "status": "done",
        "pass": not flags,
        "flags": flags,
        "residual_force_share_of_peak_grf": 0.121 if "residual_force" in flags else 0.02,
        "residual_moment_share_of_com_height_x_peak_grf": 0.031,
        "saturated_frame_share": 0.21 if "saturation" in flags else 0.0,
    }


def study(flags_by_trial):
    """Two subjects, one forward and one backward trial each; flags per (subject, trial)."""
    trials, rows = [], []
    for subject in ("s1", "s2"):
        for name, condition in (("fwd", "forward"), ("bwd", "backward")):
            trials.append(trial(subject, name, condition))
            rows.append(qc_row(subject, name, condition, flags_by_trial.get((subject, name), "")))
    return pd.DataFrame(rows), trials


def test_every_trial_of_a_condition_failing_qc_is_named_with_its_checks_and_the_fix():
    table, trials = study({("s1", "bwd"): "residual_force;saturation", ("s2", "bwd"): "residual_moment_share"})
    message = qc.gate_left_empty(table, trials, compare=COMPARE, gate="exclude")
    assert "every trial of condition(s) backward failed QC" in message
    lines = message.splitlines()
    s1 = next(line for line in lines if "s1/bwd (backward)" in line)
    assert "residual_force (residual_force_share_of_peak_grf = 0.121 over qc.residual_force_max_share" in s1
    assert "residual_reduction.method rra" in s1
    assert "saturation (saturated_frame_share = 0.21" in s1 and "max_isometric_force_scale" in s1
    s2 = next(line for line in lines if "s2/bwd (backward)" in line)
    assert "residual_moment_share (residual_moment_share_of_com_height_x_peak_grf = 0.031" in s2
    assert not any("fwd" in line for line in lines)  # passing trials are not listed
    assert "analysis.qc_gate: include" in message and "analysis.allow_empty" in message


def test_no_paired_subject_left_by_the_gate_is_an_empty_analysis():
    # each condition keeps one passing trial, but from different subjects
    table, trials = study({("s1", "bwd"): "ik_marker_max", ("s2", "fwd"): "scale_marker_rms"})
    message = qc.gate_left_empty(table, trials, compare=COMPARE, gate="exclude")
    assert "no subject has a trial passing QC in both forward and backward" in message
    assert "s1/bwd (backward): ik_marker_max" in message and "s2/fwd (forward): scale_marker_rms" in message


def test_a_gate_that_leaves_a_paired_subject_or_is_off_says_nothing():
    table, trials = study({("s1", "bwd"): "residual_force"})
    assert qc.gate_left_empty(table, trials, compare=COMPARE, gate="exclude") == ""
    table, trials = study({("s1", "bwd"): "residual_force", ("s2", "bwd"): "residual_force"})
    assert qc.gate_left_empty(table, trials, compare=COMPARE, gate="include") == ""


def test_a_single_condition_study_stops_only_when_the_gate_empties_its_condition():
    # the Hamner example: one forward trial, no backward trial at all (no pair before the gate)
    info, cycles = trial("subject02", "run", "forward")
    passing = pd.DataFrame([qc_row("subject02", "run", "forward")])
    assert qc.gate_left_empty(passing, [(info, cycles)], compare=COMPARE, gate="exclude") == ""
    failing = pd.DataFrame([qc_row("subject02", "run", "forward", "residual_force")])
    message = qc.gate_left_empty(failing, [(info, cycles)], compare=COMPARE, gate="exclude")
    assert "every trial of condition(s) forward failed QC" in message and "subject02/run (forward)" in message
    # a trial without a used cycle is the cycle check's business, not the gate's
    info, cycles = trial("subject02", "run", "forward", used=False)
    assert qc.gate_left_empty(failing, [(info, cycles)], compare=COMPARE, gate="exclude") == ""


def test_the_analysis_tables_rule_stops_when_the_gate_empties_the_comparison(tmp_path):
    table, trials = study({("s1", "bwd"): "residual_force", ("s2", "bwd"): "saturation"})
    table.to_csv(tmp_path / "qc.csv", index=False)
    files = {"cycles": [], "metrics": [], "curves": [], "stance_curves": [], "spans": []}
    for info, cycles in trials:
        stem = tmp_path / f"{info['subject']}_{info['trial']}"
        cycles.to_csv(f"{stem}_cycles.csv", index=False)
        pd.DataFrame(columns=["side", "cycle", "group", "metric", "value"]).to_csv(f"{stem}_metrics.csv", index=False)
        pd.DataFrame(columns=["side", "cycle", "pct"]).to_csv(f"{stem}_curves.csv", index=False)
        (tmp_path / f"{stem}_span.json").write_text('{"warning": ""}')
        for kind, suffix in (
            ("cycles", "cycles.csv"),
            ("metrics", "metrics.csv"),
            ("curves", "curves.csv"),
            ("stance_curves", "curves.csv"),
        ):
            files[kind].append(f"{stem}_{suffix}")
        files["spans"].append(f"{stem}_span.json")
    outputs = {name: str(tmp_path / "tables" / f"{name}.csv") for name in ("cycles", "subjects", "comparison")}
    outputs |= {name: str(tmp_path / "tables" / f"{name}.csv") for name in ("spm", "counts", "curves")}
    job = SimpleNamespace(
        rule="analysis_tables",
        wildcards=Wildcards(fromdict={}),
        # the trials' files are in params (the job declares their chains' manifests)
        input=InputFiles(fromdict={"qc": str(tmp_path / "qc.csv")}),
        output=OutputFiles(fromdict=outputs),
        log=[str(tmp_path / "analysis_tables.log")],
        params=Params(
            fromdict={
                "trials": [info for info, _ in trials],
                "files": files,
                "failed": [],
                "conditions": {},
                "settings": {"compare": COMPARE, "qc_gate": "exclude", "allow_empty": False},
                "groups": {"quadriceps": ["vas_lat"], "hamstrings": ["semiten"]},
                "sides": {"r": "_r", "l": "_l"},
            }
        ),
    )
    with pytest.raises(AnalysisError) as raised:
        runpy.run_path(str(REPO / "scripts" / "analysis_tables.py"), init_globals={"snakemake": job})
    said = str(raised.value)
    assert "s1/bwd (backward): residual_force" in said and "s2/bwd (backward): saturation" in said
    assert not (tmp_path / "tables" / "comparison.csv").exists()


def test_a_residual_left_after_rra_is_not_sent_back_to_rra():
    row = qc_row("s1", "bwd", "backward", "residual_moment_share") | {"residual_reduction_method": "rra"}
    table = pd.DataFrame([qc_row("s1", "fwd", "forward"), row])
    message = qc.gate_left_empty(
        table, [trial("s1", "fwd", "forward"), trial("s1", "bwd", "backward")], compare=COMPARE, gate="exclude"
    )
    assert "left after rra" in message and "method rra reduces it" not in message
