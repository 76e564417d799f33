"""End to end on the shared Hamner running trial with residual_reduction.method mass_com:
the adjusted model is the one SO runs on, the changes are recorded and within their
limits, and QC carries the residuals before and after reduction."""

import json

import numpy as np
import opensim as osim
import pandas as pd
import pytest
from conftest import shared
from workflow_runner import hamner_study, ok, snakemake

pytestmark = pytest.mark.slow


def knee_curve_error(trial, id_name, coordinates_name):
    """Largest difference (N·m, deg) between the analysis's knee moment and angle curves
    (used cycles) and the given ID and coordinate tables at the same instants."""
    cycles, curves = pd.read_csv(trial / "cycles.csv"), pd.read_csv(trial / "cycle_curves.csv")
    dynamics, coordinates = pd.read_csv(trial / id_name), pd.read_csv(trial / coordinates_name)
    moment_error, angle_error = 0.0, 0.0
    for cycle in cycles[cycles["status"] == "used"].itertuples(index=False):
        curve = curves[(curves["side"] == cycle.side) & (curves["cycle"] == cycle.cycle)]
        time_s = cycle.strike_s + curve["pct"] / 100 * cycle.duration_s
        for table, column, error in (
            (dynamics, f"knee_angle_{cycle.side}_moment_nm", "moment"),
            (coordinates, f"knee_angle_{cycle.side}_deg", "angle"),
        ):
            worst = float(np.abs(curve[column] - np.interp(time_s, table["time_s"], table[column])).max())
            if error == "moment":
                moment_error = max(moment_error, worst)
            else:
                angle_error = max(angle_error, worst)
    return moment_error, angle_error


def test_hamner_mass_com(tmp_path):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    # the example with the region 0.7-1.6 s: one whole cycle, SO over about 0.7 s
    config = hamner_study(tmp_path, region=(0.7, 1.6), study="hamner-run")
    ok(snakemake(tmp_path, config, "--config", "residual_reduction={method: mass_com}"))
    results = tmp_path / "results" / "hamner-run"
    subject = results / "subjects" / "subject02"
    trial = results / "trials" / "subject02" / "run"
    changes = pd.read_csv(subject / "residual_reduction" / "changes.csv").iloc[0]
    # the region 0.7-1.6 s holds one whole cycle, of the left foot (strikes 0.751 and 1.436 s
    # on the raw force: stage plan_cycles chose it)
    assert changes["averaged_over"] == "cycles l 0.751-1.436 s"
    assert changes["mass_change_applied"] and abs(changes["mass_change_recommended_kg"]) < 2.0
    assert 0 < changes["com_shift_m"] < 0.1 and not changes["com_shift_capped"]
    assert changes["mass_after_kg"] == pytest.approx(changes["mass_before_kg"] + changes["mass_change_recommended_kg"])

    # SO ran on the adjusted model, and that model carries the change
    setup = (trial / "so_chunks" / "0-of-1" / "work" / "so_setup.xml").read_text()
    assert "so_model.osim" in setup
    so_model = osim.Model(str(trial / "so_chunks" / "0-of-1" / "work" / "so_model.osim"))
    scaled = osim.Model(str(subject / "scaled_model.osim"))
    total = sum(b.getMass() for b in so_model.getBodySet())
    assert total == pytest.approx(changes["mass_after_kg"], abs=1e-4)
    shift = np.array(
        [
            so_model.getBodySet().get("torso").getMassCenter().get(i)
            - scaled.getBodySet().get("torso").getMassCenter().get(i)
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(
        shift, changes[["com_shift_x_m", "com_shift_y_m", "com_shift_z_m"]].to_numpy(float), atol=1e-6
    )

    activations = pd.read_csv(trial / "so_activations.csv")
    assert not activations.isna().any().any()
    # ID ran again on the adjusted model, and the analysis's knee moment is that ID's
    assert "residual_reduction/model.osim" in (trial / "work" / "id_after_reduction_setup.xml").read_text()
    assert knee_curve_error(trial, "id_after_reduction.csv", "ik_coordinates.csv")[0] < 1e-3
    qc = json.loads((trial / "qc.json").read_text())
    assert qc["residual_reduction_method"] == "mass_com"
    for key in (
        "residual_force_peak_n_before_reduction",
        "residual_moment_peak_nm_before_reduction",
        "residual_moment_share_of_com_height_x_peak_grf",
        "com_height_m",
    ):
        assert np.isfinite(qc[key]), key
    assert 0.9 < qc["com_height_m"] < 1.1  # running COM height of a 1.83 m subject
    # measured: the moment peak falls (ID 127 N·m before, SO 102 after); the force peak
    # stays about 21 % of peak GRF: mass_com removes only the cycle mean
    assert qc["residual_moment_peak_nm"] < qc["residual_moment_peak_nm_before_reduction"]
    assert "residual_force" in qc["flags"].split(";")


def test_hamner_rra(tmp_path):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    config = hamner_study(tmp_path, region=(0.7, 1.6), study="hamner-run")
    ok(snakemake(tmp_path, config, "--config", "residual_reduction={method: rra}"))
    trial = tmp_path / "results" / "hamner-run" / "trials" / "subject02" / "run"
    for name in ("rra_setup.xml", "rra_tasks.xml", "rra_actuators.xml"):
        assert (trial / "rra" / "work" / name).is_file(), name  # to repeat the run in the OpenSim GUI
    setup = (trial / "so_chunks" / "0-of-1" / "work" / "so_setup.xml").read_text()
    assert str(trial / "rra_kinematics.mot") in setup  # SO read RRA's kinematics
    assert not pd.read_csv(trial / "so_activations.csv").isna().any().any()
    # the analysis's knee moment and angle come from ID on RRA's model and kinematics
    # (measured: within 5e-6 of them; 10.5 N·m and 0.14 deg from the first ID on IK)
    assert max(knee_curve_error(trial, "id_after_reduction.csv", "rra_coordinates.csv")) < 1e-3
    assert min(knee_curve_error(trial, "id_generalized_forces.csv", "ik_coordinates.csv")) > 0.01
    changes = pd.read_csv(trial / "rra" / "kinematic_changes.csv")
    assert {"pelvis_ty", "knee_angle_r", "lumbar_extension"} <= set(changes["coordinate"])
    assert changes["rms_change_deg"].notna().sum() + changes["rms_change_cm"].notna().sum() == len(changes)
    qc = json.loads((trial / "qc.json").read_text())
    assert qc["residual_reduction_method"] == "rra"
    # measured: peak residual force 25 % of peak GRF before (root ID forces on IK), 3.6 %
    # after; moment 8.1 % of COM height x peak GRF before, 2.3 % after (the 1 % rule is
    # not met: see config/README.md); kinematic changes at most 0.4 deg and 0.7 cm RMS
    assert qc["residual_force_share_of_peak_grf"] <= 0.05
    assert qc["residual_force_share_of_peak_grf"] < qc["residual_force_share_of_peak_grf_before_reduction"] / 4
    assert (
        qc["residual_moment_share_of_com_height_x_peak_grf"]
        < qc["residual_moment_share_of_com_height_x_peak_grf_before_reduction"] / 2
    )
    worst = changes[["rms_change_deg", "rms_change_cm"]].max()
    assert qc["kinematic_change_rms_max_deg"] == pytest.approx(worst["rms_change_deg"])
    assert qc["kinematic_change_rms_max_cm"] == pytest.approx(worst["rms_change_cm"])
    assert ("kinematic_change" in qc["flags"].split(";")) == (worst["rms_change_deg"] > 2 or worst["rms_change_cm"] > 2)
