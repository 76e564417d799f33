"""QC verdicts against thresholds, and the metrics behind them."""
import numpy as np
import pandas as pd

from retrorun import qc

THRESHOLDS = {"scale_marker_rms_max_m": 0.01, "scale_marker_max_max_m": 0.02, "ik_marker_rms_max_m": 0.02,
              "ik_marker_max_max_m": 0.04, "residual_force_max_share_of_peak_grf": 0.05, "residual_moment_max_nm": 75,
              "reserve_peak_share_max": 0.1, "saturation_activation": 0.95, "saturated_frame_share_max": 0.05}


def good_metrics():
    return {"scale_marker_rms_m": 0.008, "scale_marker_max_m": 0.015, "ik_marker_rms_m": 0.012, "ik_marker_max_m": 0.03,
            "residual_force_share_of_peak_grf": 0.01, "residual_moment_peak_nm": 10, "reserve_peak_share": 0.02,
            "saturated_frame_share": 0.0}


def test_all_met_passes():
    assert qc.verdict(good_metrics(), THRESHOLDS) == {"pass": True, "flags": ""}


def test_each_failure_is_flagged():
    metrics = good_metrics() | {"ik_marker_max_m": 0.05, "reserve_peak_share": 0.5}
    assert qc.verdict(metrics, THRESHOLDS) == {"pass": False, "flags": "ik_marker_max;reserve"}


def test_missing_metric_fails():
    metrics = good_metrics() | {"saturated_frame_share": np.nan}
    assert qc.verdict(metrics, THRESHOLDS)["flags"] == "saturation"


def test_reserve_share_and_residuals():
    actuators = pd.DataFrame({"name": ["residual_pelvis_ty", "residual_pelvis_tilt", "reserve_knee_angle_r"],
                              "coordinate": ["pelvis_ty", "pelvis_tilt", "knee_angle_r"],
                              "kind": ["residual", "residual", "reserve"], "rotational": [False, True, True]})
    forces = pd.DataFrame({"time_s": [0, 1], "residual_pelvis_ty_n": [5.0, -20.0], "residual_pelvis_tilt_nm": [1.0, 3.0],
                           "reserve_knee_angle_r_nm": [2.0, -10.0]})
    id_forces = pd.DataFrame({"time_s": [0, 1], "knee_angle_r_moment_nm": [50.0, -200.0]})
    grf = pd.DataFrame({"time_s": [0, 1], "r_force_x_n": [0, 0], "r_force_y_n": [1000.0, 0], "r_force_z_n": [0, 0],
                        "l_force_x_n": [0, 0], "l_force_y_n": [0, 400.0], "l_force_z_n": [0, 0]})
    assert qc.reserves(forces, actuators, id_forces) == {"reserve_peak_share": 0.05, "reserve_worst_coordinate": "knee_angle_r"}
    residuals = qc.residuals(forces, actuators, grf)
    assert residuals["residual_force_peak_n"] == 20 and residuals["residual_moment_peak_nm"] == 3
    assert residuals["residual_force_share_of_peak_grf"] == 0.02


def test_saturation_share():
    activations = pd.DataFrame({"time_s": [0, 1, 2, 3], "a": [0.1, 0.96, 0.2, 0.99], "b": [0.1, 0.1, 0.1, 0.1]})
    assert qc.saturation(activations, level=0.95) == {"saturated_frame_share": 0.5}
