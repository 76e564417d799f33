"""Residual and reserve actuators are derived from the model, whatever the model."""

import opensim as osim
import pytest
from conftest import shared

from retrorun import actuators
from retrorun.muscle_paths import AppliedPathForces


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


@pytest.mark.parametrize(
    "model_file",
    [
        ("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim"),
        ("gait2392-walk", "gait2392_thelen2003muscle.osim"),
        ("gait10dof18musc", "gait10dof18musc.osim"),
        ("rajagopal-lai-uhlrich-2023", "RajagopalLaiUhlrich2023.osim"),  # coupled patella: OpenSim's calls
    ],
)
def test_crossed_coordinates_are_those_of_opensims_moment_arms(model_file):
    path = shared(*model_file)
    reference_model = osim.Model(str(path))
    state = reference_model.initSystem()
    reference = set()
    muscles = list(reference_model.getMuscles())
    for fraction in (None, 0.25):
        coordinates = actuators.free_coordinates(reference_model)
        for c in coordinates:
            low, high = c.getRangeMin(), c.getRangeMax()
            c.setValue(state, c.getDefaultValue() if fraction is None else low + fraction * (high - low), False)
        reference_model.assemble(state)
        reference_model.realizePosition(state)
        for c in coordinates:
            if any(abs(m.computeMomentArm(state, c)) > actuators.MOMENT_ARM_EPS for m in muscles):
                reference.add(c.getName())
        if not any(constraint.get_isEnforced() for constraint in reference_model.getConstraintSet()):
            # every muscle's arm about every coordinate, as computeMomentArm gives it
            forces = AppliedPathForces(reference_model, muscles)(state)
            for c in coordinates:
                expected = [m.computeMomentArm(state, c) for m in muscles]
                assert forces @ actuators._unit_speed(state, c) == pytest.approx(expected, abs=1e-12)
    model = osim.Model(str(path))
    assert actuators.crossed_coordinates(model, model.initSystem()) == reference
