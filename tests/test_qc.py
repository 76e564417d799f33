"""QC verdicts against thresholds, and the metrics behind them."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from retrorun import qc, templates, validation

THRESHOLDS = {
    "scale_marker_rms_max_m": 0.01,
    "scale_marker_max_max_m": 0.02,
    "ik_marker_rms_max_m": 0.02,
    "ik_marker_max_max_m": 0.04,
    "residual_force_max_share_of_peak_grf": 0.05,
    "residual_moment_max_nm": 75,
    "reserve_peak_share_max": 0.1,
    "saturation_activation": 0.95,
    "saturated_frame_share_max": 0.05,
}


def good_metrics():
    return {
        "scale_marker_rms_m": 0.008,
        "scale_marker_max_m": 0.015,
        "ik_marker_rms_m": 0.012,
        "ik_marker_max_m": 0.03,
        "residual_force_share_of_peak_grf": 0.01,
        "residual_moment_peak_nm": 10,
        "reserve_peak_share": 0.02,
        "saturated_frame_share": 0.0,
    }


def test_all_met_passes():
    assert qc.verdict(good_metrics(), THRESHOLDS) == {"pass": True, "flags": ""}


def test_each_failure_is_flagged():
    metrics = good_metrics() | {"ik_marker_max_m": 0.05, "reserve_peak_share": 0.5}
    assert qc.verdict(metrics, THRESHOLDS) == {"pass": False, "flags": "ik_marker_max;reserve"}


def test_missing_metric_fails():
    metrics = good_metrics() | {"saturated_frame_share": np.nan}
    assert qc.verdict(metrics, THRESHOLDS)["flags"] == "saturation"


def test_reserve_share_and_residuals():
    actuators = pd.DataFrame(
        {
            "name": ["residual_pelvis_ty", "residual_pelvis_tilt", "reserve_knee_angle_r"],
            "coordinate": ["pelvis_ty", "pelvis_tilt", "knee_angle_r"],
            "kind": ["residual", "residual", "reserve"],
            "rotational": [False, True, True],
        }
    )
    forces = pd.DataFrame(
        {
            "time_s": [0, 1],
            "residual_pelvis_ty_n": [5.0, -20.0],
            "residual_pelvis_tilt_nm": [1.0, 3.0],
            "reserve_knee_angle_r_nm": [2.0, -10.0],
        }
    )
    id_forces = pd.DataFrame({"time_s": [0, 1], "knee_angle_r_moment_nm": [50.0, -200.0]})
    grf = pd.DataFrame(
        {
            "time_s": [0, 1],
            "r_force_x_n": [0, 0],
            "r_force_y_n": [1000.0, 0],
            "r_force_z_n": [0, 0],
            "l_force_x_n": [0, 0],
            "l_force_y_n": [0, 400.0],
            "l_force_z_n": [0, 0],
        }
    )
    assert qc.reserves(forces, actuators, id_forces) == {
        "reserve_peak_share": 0.05,
        "reserve_worst_coordinate": "knee_angle_r",
    }
    residuals = qc.residuals(forces, actuators, grf)
    assert residuals["residual_force_peak_n"] == 20 and residuals["residual_moment_peak_nm"] == 3
    assert residuals["residual_force_share_of_peak_grf"] == 0.02


def test_saturation_share():
    activations = pd.DataFrame({"time_s": [0, 1, 2, 3], "a": [0.1, 0.96, 0.2, 0.99], "b": [0.1, 0.1, 0.1, 0.1]})
    assert qc.saturation(activations, level=0.95) == {"saturated_frame_share": 0.5}


def test_residual_force_and_moment_are_vector_magnitudes():
    # two force components of 30 and 40 N in one frame: 50 N, not the largest component (40 N)
    actuators = pd.DataFrame(
        {
            "name": ["residual_pelvis_tx", "residual_pelvis_ty", "residual_pelvis_list", "residual_pelvis_tilt"],
            "coordinate": ["pelvis_tx", "pelvis_ty", "pelvis_list", "pelvis_tilt"],
            "kind": ["residual"] * 4,
            "rotational": [False, False, True, True],
        }
    )
    forces = pd.DataFrame(
        {
            "time_s": [0, 1],
            "residual_pelvis_tx_n": [30.0, 45.0],
            "residual_pelvis_ty_n": [40.0, 0.0],
            "residual_pelvis_list_nm": [6.0, 0.0],
            "residual_pelvis_tilt_nm": [8.0, 9.0],
        }
    )
    grf = pd.DataFrame({"time_s": [0, 1], "r_force_x_n": [0, 0], "r_force_y_n": [1000.0, 0], "r_force_z_n": [0, 0]})
    residuals = qc.residuals(forces, actuators, grf)
    assert residuals["residual_force_peak_n"] == 50.0 and residuals["residual_moment_peak_nm"] == 10.0
    assert residuals["residual_force_share_of_peak_grf"] == 0.05


def test_a_cycle_without_a_knee_extension_peak_fails_qc():
    cycle_metrics = pd.DataFrame(
        {
            "side": ["r", "r", "l"],
            "cycle": [0, 1, 0],
            "group": "knee",
            "metric": "peak_extension_moment_nm_per_kg",
            "value": [2.4, np.nan, 2.2],
        }
    )
    metrics = good_metrics() | qc.knee_extension_peaks(cycle_metrics)
    assert metrics["knee_extension_peak_missing_cycles"] == 1
    assert qc.verdict(metrics, THRESHOLDS) == {"pass": False, "flags": "knee_extension_peak"}


def test_the_qc_gate_leaves_out_trials_that_failed_qc_and_says_why():
    from retrorun import analysis

    table = pd.DataFrame(
        {
            "subject": ["S1", "S1", "S2"],
            "trial": ["f", "b", "f"],
            "condition": ["forward", "backward", "forward"],
            "status": ["done", "done", "failed"],
            "pass": [True, False, False],
            "flags": ["", "residual_force;reserve", "failed:inverse_kinematics"],
        }
    )
    excluded = analysis.qc_exclusions(table, gate="exclude")
    # a failed trial has no results to exclude; it is listed as failed elsewhere
    assert list(zip(excluded["subject"], excluded["trial"])) == [("S1", "b")]
    assert excluded.iloc[0]["reason"] == "QC failed: residual_force;reserve"
    assert analysis.qc_exclusions(table, gate="include").empty
    cycles = pd.DataFrame({"side": ["r"], "status": ["used"]})
    counts = analysis.cycle_counts(
        [({"subject": "S1", "trial": "b", "condition": "backward"}, cycles)],
        [],
        sides=["r"],
        excluded={("S1", "b"): "QC failed: residual_force;reserve"},
    )
    assert counts.iloc[0]["status"] == "excluded_qc" and "residual_force" in counts.iloc[0]["reason"]


def test_a_trial_without_a_used_cycle_is_flagged_in_qc():
    cycles = pd.DataFrame({"side": ["r", "l"], "status": ["outside_region", "missing_contact"]})
    metrics = good_metrics() | qc.cycles_used(cycles)
    assert metrics["n_cycles_used"] == 0
    assert qc.verdict(metrics, THRESHOLDS) == {"pass": False, "flags": "no_cycles"}
    used = good_metrics() | qc.cycles_used(cycles.assign(status=["used", "outside_region"]))
    assert used["n_cycles_used"] == 1 and qc.verdict(used, THRESHOLDS)["pass"]
    assert "n_cycles_used" in qc.QC_COLUMNS


def test_the_scaling_limits_check_the_landmarks_the_setup_weights_highest():
    # the demo's scale setup: bony landmarks weighted 10, thigh/shank/foot technical markers 1
    weights = templates.scale_template(REPO / "models" / "retrorun_planar" / "scale_setup.xml").placer_weights
    landmarks = qc.scale_landmarks(weights, named=[], min_weight_share=0.5)
    assert "R.Knee.Lat" in landmarks and "L.Heel" in landmarks and "V.Sacral" in landmarks
    assert not landmarks & {"R.Shank.Upper", "L.Thigh.Front", "R.Midfoot.Lat", "Sternum"}
    # a setup weighting shank clusters 10 of 100 (the case of issue 19): they are not landmarks
    weights = {"R.ASIS": 100.0, "R.Knee.Lat": 50.0, "R.Shank.Upper": 10.0, "R.Shank.Front": 10.0}
    assert qc.scale_landmarks(weights, named=[], min_weight_share=0.5) == {"R.ASIS", "R.Knee.Lat"}
    # a list names them, whatever their weight; a name the setup does not weight is not checked
    named = qc.scale_landmarks(weights, named=["R.Shank.Upper", "R.Toe.Tip"], min_weight_share=0.5)
    assert named == {"R.Shank.Upper"}


def test_scale_errors_check_landmarks_and_report_the_other_markers_apart():
    errors = pd.DataFrame(
        {
            "marker": ["R.ASIS", "R.Knee.Lat", "R.Shank.Upper"],
            "weight": [100, 50, 10],
            "error_m": [0.006, 0.008, 0.045],
            "landmark": [True, True, False],
        }
    )
    metrics = qc.scale_errors(errors)
    assert metrics["scale_marker_max_m"] == pytest.approx(0.008)
    assert metrics["scale_marker_rms_m"] == pytest.approx(np.sqrt((0.006**2 + 0.008**2) / 2))
    assert (metrics["scale_landmark_count"], metrics["scale_other_marker_count"]) == (2, 1)
    assert metrics["scale_other_marker_max_m"] == pytest.approx(0.045)
    flags = qc.verdict(good_metrics() | metrics, THRESHOLDS)["flags"]
    assert "scale_marker" not in flags  # the 4.5 cm shank cluster error is reported, not failed


def test_a_named_landmark_the_scale_setup_does_not_weight_is_refused_up_front():
    demo = REPO / "models" / "retrorun_planar"
    scale = templates.scale_template(demo / "scale_setup.xml")
    tasks = templates.ik_task_set(demo / "ik_tasks.xml")
    names = {
        "markers": set(scale.placer_weights) | scale.measurement_markers | set(templates.marker_weights(tasks)),
        "coordinates": set(templates.coordinate_tasks(tasks)),
        "bodies": {"ground"}
        | {spec.applied_to_body for spec in templates.external_forces(demo / "external_loads.xml")},
    }
    config = {
        "model": {key: str(demo / f"{key}.xml") for key in ("scale_setup", "ik_tasks", "external_loads")},
        "sides": {"r": "_r", "l": "_l"},
        "qc": {"scale_landmarks": ["R.Knee.Lat", "R.Knee.Med"]},
    }
    problems, _ = validation.check_templates(config, names)
    assert len(problems) == 1 and "qc.scale_landmarks: 'R.Knee.Med'" in problems[0]


def test_every_flag_is_said_from_one_table():
    """qc.CHECKS is the one place a flag's column, limit, words and advice are kept: every
    flag the checks raise is in it, and the front page, methods text and the gate's
    message read their words from it."""
    from retrorun import front_page, methods

    metrics = {check.metric: np.nan for check in qc.CHECKS.values()}
    raised = qc.verdict(metrics, {qc.qc_key(c.limits[0]): 0.0 for c in qc.CHECKS.values() if c.limits})["flags"]
    raised = raised.split(";") + qc.reduction_flags(
        {"mass_change_recommended_kg": 9.0, "kinematic_change_rms_max_deg": 9.0},
        moment_share_max=0.01,
        max_mass_change_kg=1.0,
        rotation_max_deg=2.0,
    )
    assert set(raised) - {"knee_extension_peak", "no_cycles"} <= set(qc.CHECKS)
    for flag, check in qc.CHECKS.items():
        assert front_page.check_words(flag).startswith(check.what)
        assert check.name and (not check.over or "{}" in check.over)
    row = pd.Series({"flags": "reserve;mass_change", "reserve_peak_share": 0.3, "mass_change_recommended_kg": 4.0})
    said = qc._failing_checks(row)
    assert qc.CHECKS["reserve"].advice in said and "over residual_reduction.max_mass_change_kg" in said
    assert not hasattr(methods, "QC_FLAGS") and not hasattr(front_page, "CHECK_WORDS")
