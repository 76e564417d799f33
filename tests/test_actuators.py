"""Residual and reserve actuators are derived from the model, whatever the model."""

import opensim as osim
from conftest import shared

from retrorun import actuators


def specs_for(path):
    model = osim.Model(str(path))
    state = model.initSystem()
    return {
        s.coordinate: s
        for s in actuators.actuator_specs(
            model, state, residual_optimal_force=100, reserve_optimal_force=1, unmuscled_optimal_force=200
        )
    }


def test_planar_model_gets_three_residuals():
    specs = specs_for(shared("gait10dof18musc", "gait10dof18musc.osim"))
    assert sorted(c for c, s in specs.items() if s.kind == "residual") == ["pelvis_tilt", "pelvis_tx", "pelvis_ty"]
    assert specs["knee_angle_r"].kind == "reserve" and specs["knee_angle_r"].optimal_force == 1
    # no muscle crosses the lumbar joint of this model: an ideal actuator, not a reserve
    assert specs["lumbar_extension"].kind == "ideal" and specs["lumbar_extension"].optimal_force == 200
    assert specs["pelvis_tx"].rotational is False and specs["pelvis_tilt"].rotational is True


def test_full_body_model_gets_six_residuals_and_skips_locked_coordinates():
    specs = specs_for(shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim"))
    assert len([s for s in specs.values() if s.kind == "residual"]) == 6
    assert "mtp_angle_r" not in specs  # locked in this model
    assert specs["arm_flex_r"].kind == "ideal"  # the arms have no muscles
    assert specs["hip_flexion_l"].kind == "reserve"
