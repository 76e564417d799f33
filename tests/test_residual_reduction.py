"""Residual reduction: RRA's closed-form mass and COM adjustment on hand-computed cases,
and on a small OpenSim model whose torso COM is off by a known offset."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import opensim as osim
import pandas as pd
import pytest

from retrorun import opensim_tools
from retrorun import residual_reduction as rr
from retrorun.errors import InputError

LIMITS = {"max_com_shift_m": 0.1, "max_mass_change_kg": 3.0}


def test_closed_form_by_hand():
    # torso 30 kg, g = 10: weight 300 N. Mean residual Mx = +6 N·m -> dz = 6/300 = +0.02 m;
    # Mz = -9 N·m -> dx = -(-9)/300 = +0.03 m; Fy = +20 N (the model needs holding up:
    # too heavy) -> mass change -20/10 = -2 kg, within the 3 kg limit.
    change = rr.mass_com_change(
        np.array([6.0, 4.0, -9.0, 1.0, 20.0, -1.0]), body_mass_kg=30.0, gravity_m_s2=10.0, **LIMITS
    )
    np.testing.assert_allclose(change.com_shift_ground_m, [0.03, 0.0, 0.02])
    assert change.mass_change_kg == pytest.approx(-2.0)
    assert change.mass_change_applied and not change.com_shift_capped


def test_cap_and_refusal():
    # Mz = -60 N·m over 300 N asks for 0.2 m: capped at 0.1 m as RRA caps it; Fy = +50 N
    # asks for -5 kg: above the 3 kg limit, refused.
    change = rr.mass_com_change(
        np.array([0.0, 0.0, -60.0, 0.0, 50.0, 0.0]), body_mass_kg=30.0, gravity_m_s2=10.0, **LIMITS
    )
    np.testing.assert_allclose(change.com_shift_uncapped_m, [0.2, 0.0, 0.0])
    np.testing.assert_allclose(change.com_shift_ground_m, [0.1, 0.0, 0.0])
    assert change.com_shift_capped
    assert change.mass_change_kg == pytest.approx(-5.0) and not change.mass_change_applied


def test_mass_spread_in_proportion():
    assert rr.distribute_mass({"pelvis": 10.0, "torso": 30.0}, -2.0) == pytest.approx({"pelvis": 9.5, "torso": 28.5})


def test_cycle_mean_removes_what_averages_out():
    time_s = np.linspace(0.0, 2.0, 201)
    values = np.column_stack([3.0 + np.sin(2 * np.pi * time_s / 0.7), time_s])
    mean = rr.cycle_mean(time_s, values, [(0.1, 0.8), (0.8, 1.5)])
    np.testing.assert_allclose(mean, [3.0, 0.8], atol=2e-3)  # a whole period of the sine; mid-times 0.45, 1.15


def _two_body_model(torso_com, torso_mass):
    """pelvis on a 6-dof CustomJoint (rotations Z, X, Y then translations, as gait2392's
    pelvis), torso welded on top."""
    model = osim.Model()
    model.setGravity(osim.Vec3(0, -9.80665, 0))
    pelvis = osim.Body("pelvis", 10.0, osim.Vec3(0), osim.Inertia(0.1, 0.1, 0.1))
    torso = osim.Body("torso", torso_mass, osim.Vec3(*torso_com), osim.Inertia(0.5, 0.3, 0.5))
    transform = osim.SpatialTransform()
    names = ["pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty", "pelvis_tz"]
    axes = [(0, 0, 1), (1, 0, 0), (0, 1, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
    for i, (name, axis) in enumerate(zip(names, axes)):
        axis_transform = transform.updTransformAxis(i)
        axis_transform.setCoordinateNames(osim.ArrayStr(name, 1))
        axis_transform.setAxis(osim.Vec3(*axis))
        axis_transform.set_function(osim.LinearFunction(1.0, 0.0))  # copies: setFunction would adopt a Python object
    root = osim.CustomJoint(
        "ground_pelvis", model.getGround(), osim.Vec3(0), osim.Vec3(0), pelvis, osim.Vec3(0), osim.Vec3(0), transform
    )
    weld = osim.WeldJoint("back", pelvis, osim.Vec3(0, 0.1, 0), osim.Vec3(0), torso, osim.Vec3(0), osim.Vec3(0))
    for item in (pelvis, torso):
        model.addBody(item)
    model.addJoint(root)
    model.addJoint(weld)
    model.finalizeConnections()
    return model, names


def _static_generalized_forces(model, pose):
    state = model.initSystem()
    for name, value in pose.items():
        model.getCoordinateSet().get(name).setValue(state, value, False)
    model.realizeVelocity(state)
    tau = osim.InverseDynamicsSolver(model).solve(state, osim.Vector(state.getNU(), 0.0))
    return np.array([tau.get(i) for i in range(tau.size())])


@pytest.mark.parametrize("rotation_deg", [0.0, 40.0])
def test_known_com_offset_and_mass_given_back(tmp_path, rotation_deg):
    """The true subject stands still on a force plate that holds exactly its weight under
    its COM; the model's torso COM is 3 cm forward and 2 cm to the side of the truth and
    the model is 1.2 kg too heavy. The residual is then the model's static ID minus the
    truth's, and the adjustment must return the offset (in the torso frame, whatever the
    pelvis rotation) and the mass."""
    true_com, offset = np.array([0.0, 0.3, 0.0]), np.array([0.03, 0.0, -0.02])
    true_model, names = _two_body_model(true_com, 30.0)
    model, _ = _two_body_model(true_com + offset, 31.2)
    path = tmp_path / "model.osim"
    model.printToXML(str(path))
    pose = {"pelvis_rotation": np.radians(rotation_deg), "pelvis_ty": 0.9, "pelvis_tilt": np.radians(5.0)}
    residual = _static_generalized_forces(model, pose) - _static_generalized_forces(true_model, pose)

    coordinates = pd.DataFrame([{"time": t, **{n: pose.get(n, 0.0) for n in names}} for t in (0.0, 1.0)])
    roots, jacobians, rotations, com_heights = opensim_tools.root_jacobians(
        model=str(path), coordinates=coordinates, in_degrees=False, body="torso"
    )
    assert roots == names
    wrench = rr.wrench_from_generalized_forces(np.vstack([residual, residual]), jacobians)
    mean = rr.cycle_mean(coordinates["time"].to_numpy(), wrench, [(0.0, 1.0)])
    masses = {"pelvis": 10.0, "torso": 31.2}
    row, new_masses, shift_body = rr.subject_changes(
        method="mass_com",
        trials=[rr.TrialResiduals(mean, rotations)],
        masses_kg=masses,
        body="torso",
        gravity=9.80665,
        settings=LIMITS,
    )
    # the vertical offset is invisible to a standing subject; the 5 deg tilt leaves a
    # small part of the torso's vertical axis in the horizontal plane, so not exact in y
    np.testing.assert_allclose(shift_body[[0, 2]], -offset[[0, 2]], atol=2e-3)
    assert row["mass_change_recommended_kg"] == pytest.approx(-1.2, abs=1e-6)
    assert row["mass_after_kg"] == pytest.approx(40.0)
    assert com_heights[0] == pytest.approx(0.9 + (10 * 0 + 31.2 * 0.4) / 41.2, abs=0.02)


def test_qc_before_reduction_reads_the_root_id_forces():
    from retrorun import qc

    actuators = pd.DataFrame(
        {
            "name": ["residual_pelvis_ty", "residual_pelvis_tilt", "reserve_knee_angle_r"],
            "coordinate": ["pelvis_ty", "pelvis_tilt", "knee_angle_r"],
            "kind": ["residual", "residual", "reserve"],
            "rotational": [False, True, True],
        }
    )
    id_forces = pd.DataFrame(
        {
            "time_s": [0, 1],
            "pelvis_ty_force_n": [30.0, -50.0],
            "pelvis_tilt_moment_nm": [4.0, -8.0],
            "knee_angle_r_moment_nm": [50.0, -200.0],
        }
    )
    grf = pd.DataFrame({"time_s": [0, 1], "r_force_x_n": [0, 0], "r_force_y_n": [1000.0, 0], "r_force_z_n": [0, 0]})
    before = qc.residuals_before_reduction(id_forces, actuators, grf)
    assert before["residual_force_peak_n_before_reduction"] == 50.0
    assert before["residual_force_share_of_peak_grf_before_reduction"] == pytest.approx(0.05)
    assert before["residual_moment_peak_nm_before_reduction"] == 8.0
    metrics = {"peak_grf_n": 1000.0, "residual_moment_peak_nm": 9.0, **before}
    shares = qc.residual_moment_shares(metrics, 1.0)
    assert shares["residual_moment_share_of_com_height_x_peak_grf"] == pytest.approx(0.009)
    assert qc.reduction_flags(metrics | shares, moment_share_max=0.01, max_mass_change_kg=2.0) == []
    assert qc.reduction_flags(
        metrics | shares | {"mass_change_recommended_kg": -2.5}, moment_share_max=0.005, max_mass_change_kg=2.0
    ) == ["residual_moment_share", "mass_change"]


def test_kinematic_changes_in_degrees_and_cm():
    from retrorun import qc

    time_s = np.linspace(0.0, 1.0, 11)
    ik = pd.DataFrame({"time": time_s, "knee_angle_r": 10 * time_s, "pelvis_ty": np.full(11, 0.9)})
    # RRA: knee 3 deg higher throughout, pelvis 1 cm lower in the second half; RRA's own
    # time grid is finer and reaches past the window
    fine = np.linspace(-0.1, 1.1, 121)
    adjusted = pd.DataFrame(
        {"time": fine, "knee_angle_r": 10 * fine + 3.0, "pelvis_ty": np.where(fine > 0.55, 0.89, 0.9)}
    )
    changes = rr.kinematic_changes(
        ik, adjusted, rotational={"knee_angle_r": True, "pelvis_ty": False}, start_s=0.0, end_s=1.0
    ).set_index("coordinate")
    assert changes.loc["knee_angle_r", "rms_change_deg"] == pytest.approx(3.0)
    assert changes.loc["knee_angle_r", "max_change_deg"] == pytest.approx(3.0)
    assert np.isnan(changes.loc["knee_angle_r", "rms_change_cm"])
    # frames 0.6 ... 1.0: 5 of 11 moved by 1 cm
    assert changes.loc["pelvis_ty", "rms_change_cm"] == pytest.approx(np.sqrt(5 / 11))
    assert changes.loc["pelvis_ty", "max_change_cm"] == pytest.approx(1.0)
    metrics = qc.kinematic_changes(changes.reset_index(), rotation_max_deg=2.0, translation_max_cm=2.0)
    assert metrics == {
        "kinematic_change_rms_max_deg": pytest.approx(3.0),
        "kinematic_change_rms_max_cm": pytest.approx(np.sqrt(5 / 11)),
        "kinematic_change_worst_coordinate": "knee_angle_r",
    }
    assert qc.reduction_flags(
        {"residual_moment_share_of_com_height_x_peak_grf": 0.0, **metrics},
        moment_share_max=0.01,
        max_mass_change_kg=2.0,
        rotation_max_deg=2.0,
        translation_max_cm=2.0,
    ) == ["kinematic_change"]


def test_rra_setup_generated_from_the_model(tmp_path):
    model, names = _two_body_model(np.array([0.0, 0.3, 0.0]), 30.0)
    path = tmp_path / "model.osim"
    model.printToXML(str(path))
    actuators_xml, tasks_xml, residual_names = opensim_tools.write_rra_setup_files(
        model_path=str(path),
        work_dir=str(tmp_path / "work"),
        residual_force_optimal_force=25.0,
        residual_moment_optimal_force=8.0,
    )
    assert residual_names == {
        "pelvis_tilt": "MZ",
        "pelvis_list": "MX",
        "pelvis_rotation": "MY",
        "pelvis_tx": "FX",
        "pelvis_ty": "FY",
        "pelvis_tz": "FZ",
    }
    forces = osim.ForceSet(str(actuators_xml))
    optimal = {
        forces.get(i).getName(): osim.CoordinateActuator.safeDownCast(forces.get(i)).getOptimalForce()
        for i in range(forces.getSize())
    }
    assert optimal == {"MZ": 8.0, "MX": 8.0, "MY": 8.0, "FX": 25.0, "FY": 25.0, "FZ": 25.0}
    tasks = osim.CMC_TaskSet(str(tasks_xml))
    assert sorted(tasks.get(i).getName() for i in range(tasks.getSize())) == sorted(names)


def test_unknown_adjusted_body_refused_before_any_job(tmp_path):
    from conftest import shared
    from test_bad_input import refused, write_study

    data = shared("gait2392-walk")
    message = refused(write_study(tmp_path, data, residual_reduction={"method": "mass_com", "adjusted_body": "trunk"}))
    assert "residual_reduction.adjusted_body: body 'trunk' is not in the model" in message and "torso" in message


def test_rra_records_the_mass_change_it_would_recommend_without_applying_it():
    masses = {"pelvis": 10.0, "torso": 30.0}
    wrench = np.array([6.0, 0.0, -9.0, 0.0, 20.0, 0.0])
    row, new_masses, shift = rr.subject_changes(
        method="rra",
        trials=[rr.TrialResiduals(wrench, np.eye(3)[None])],
        masses_kg=masses,
        body="torso",
        gravity=10.0,
        settings=LIMITS,
    )
    assert row["mass_change_recommended_kg"] == pytest.approx(-2.0) and not row["mass_change_applied"]
    assert new_masses == masses and row["mass_after_kg"] == 40.0 and not shift.any()
    none_row, _, _ = rr.subject_changes(
        method="none",
        trials=[rr.TrialResiduals(wrench, np.eye(3)[None])],
        masses_kg=masses,
        body="torso",
        gravity=10.0,
        settings=LIMITS,
    )
    assert none_row["mass_change_recommended_kg"] == 0.0


def test_the_com_acceleration_does_not_import_scipy_interpolate():
    # about 0.4 s of CPU in every trial's analysis job
    script = (
        "import sys, numpy as np\n"
        "from retrorun import residual_reduction as rr\n"
        "t = np.arange(100) / 100.0\n"
        "rr.mean_com_acceleration_y(t, 1 + 0.01 * np.sin(t), [(0.1, 0.8)])\n"
        "assert 'scipy.interpolate' not in sys.modules, 'scipy.interpolate imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[1])


def _finite_difference_root_jacobian(model_path, pose, step=1e-6):
    """The root body's angular and origin velocity per unit speed of each root coordinate,
    from central differences of its pose: an independent reference for the frame Jacobian."""
    from retrorun import actuators

    model = osim.Model(str(model_path))
    state = model.initSystem()
    coordinates = model.getCoordinateSet()
    for name, value in pose.items():
        coordinates.get(name).setValue(state, value, False)
    roots = actuators.root_coordinates(model)
    root_joint = next(j for j in model.getJointSet() if j.getParentFrame().findBaseFrame().getName() == "ground")
    root_body = root_joint.getChildFrame().findBaseFrame()
    jacobian = np.zeros((6, len(roots)))
    for k, name in enumerate(roots):
        value = coordinates.get(name).getValue(state)
        poses = []
        for sign in (1.0, -1.0):
            coordinates.get(name).setValue(state, value + sign * step, False)
            model.realizePosition(state)
            poses.append(opensim_tools._rotation_and_origin(root_body, state))
        coordinates.get(name).setValue(state, value, False)
        (r_plus, p_plus), (r_minus, p_minus) = poses
        spin = (r_plus @ r_minus.T - r_minus @ r_plus.T) / (4.0 * step)
        jacobian[:3, k] = [spin[2, 1], spin[0, 2], spin[1, 0]]
        jacobian[3:, k] = (p_plus - p_minus) / (2.0 * step)
    return roots, jacobian


def _random_poses(model_path, count, seed):
    """Poses within each free coordinate's range (rad or m, as the model stores them)."""
    model = osim.Model(str(model_path))
    model.initSystem()
    rng = np.random.default_rng(seed)
    free = [c for c in model.getCoordinateSet() if not c.get_locked(0)]
    return [{c.getName(): rng.uniform(c.getRangeMin(), c.getRangeMax()) for c in free} for _ in range(count)]


def _demo_model(tmp_path):
    from retrorun.demo import model as demo_model

    return demo_model.build_model(
        params_dir=Path(__file__).resolve().parents[1] / "models" / "retrorun_planar", out_dir=tmp_path
    )


def _shared_model(*parts):
    def model(tmp_path):
        from conftest import shared

        return shared(*parts)

    return model


@pytest.mark.parametrize(
    "model_file",
    [
        _demo_model,
        _shared_model("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim"),
        _shared_model("gait2392-walk", "gait2392_thelen2003muscle.osim"),
        _shared_model("gait10dof18musc", "gait10dof18musc.osim"),
        # patellae coupled to the knee angle
        _shared_model("rajagopal-lai-uhlrich-2023", "RajagopalLaiUhlrich2023.osim"),
    ],
    ids=["demo planar", "Hamner 3D", "gait2392", "gait10dof18musc", "Rajagopal 2023"],
)
def test_root_jacobians_match_finite_differences_of_the_root_pose(tmp_path, model_file):
    """The root wrench comes from Simbody's frame Jacobian of the root body, read at each
    root coordinate's speed; central differences of the root body's pose (what the
    residual step computed before, twelve realizations per frame) must agree, at poses
    over the coordinates' whole ranges."""
    path = model_file(tmp_path)
    poses = _random_poses(path, 4, seed=7)
    table = pd.DataFrame([{"time": 0.01 * i, **pose} for i, pose in enumerate(poses)])
    roots, jacobians, _, _ = opensim_tools.root_jacobians(
        model=str(path), coordinates=table, in_degrees=False, body="torso"
    )
    for pose, jacobian in zip(poses, jacobians):
        reference_roots, reference = _finite_difference_root_jacobian(path, pose)
        assert roots == reference_roots
        np.testing.assert_allclose(jacobian, reference, atol=1e-7)


def test_the_residual_steps_model_readers_take_a_loaded_model_or_its_path(tmp_path):
    """reduce_residuals loads the scaled model once and asks it for body masses, gravity
    and root Jacobians (opensim_tools.as_model): the answers are those from the path, and a
    gravity off -Y is still refused naming the model's file."""
    path = _demo_model(tmp_path)
    loaded = opensim_tools.load_model(path)
    assert opensim_tools.body_masses(loaded) == opensim_tools.body_masses(path)
    assert opensim_tools.gravity_m_s2(loaded) == opensim_tools.gravity_m_s2(path) > 9
    poses = _random_poses(path, 3, seed=2)
    table = pd.DataFrame([{"time": 0.01 * i, **pose} for i, pose in enumerate(poses)])
    from_path = opensim_tools.root_jacobians(model=str(path), coordinates=table, in_degrees=False, body="torso")
    from_loaded = opensim_tools.root_jacobians(model=loaded, coordinates=table, in_degrees=False, body="torso")
    assert from_path[0] == from_loaded[0]
    for a, b in zip(from_path[1:], from_loaded[1:]):
        np.testing.assert_array_equal(a, b)
    sideways = osim.Model(str(path))
    sideways.setGravity(osim.Vec3(9.81, 0.0, 0.0))
    sideways_path = tmp_path / "sideways.osim"
    sideways.printToXML(str(sideways_path))
    with pytest.raises(InputError, match="sideways.osim.*gravity along -Y"):
        opensim_tools.gravity_m_s2(opensim_tools.load_model(sideways_path))
