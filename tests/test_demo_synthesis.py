"""The demo's synthesis takes shortcuts for speed: the pose and speeds written into the
state's Q and U vectors at once, the designed forces and COM evaluated once per balance
solve, the markers' body-frame locations built before the frame loop, the stance-shape
integrals cached. Each must give bit for bit what the per-frame formulation through
OpenSim's Coordinate gives, since the demo's files are compared byte for byte."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

from retrorun.demo import design as de
from retrorun.demo import model as demo_model
from retrorun.demo import motion as mo
from retrorun.demo import subjects as su
from retrorun.formats import MarkerTable

REPO = Path(__file__).resolve().parents[1]
CFG = {"seed": 11, "n_subjects": 1}


@pytest.fixture(scope="module")
def person():
    return de.subject_design(de.resolve_config(CFG), "S01")[1]


@pytest.fixture(scope="module")
def model(tmp_path_factory, person):
    """S01's true (scaled) model, as generate_subject builds it."""
    root = tmp_path_factory.mktemp("demo_synthesis")
    generic = demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=root)
    return su.true_model(generic, person)


@contextlib.contextmanager
def through_coordinates():
    """Within the block, new probes set pose and speeds through Coordinate.setValue and
    setSpeedValue, as they all did before the direct path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mo.PoseProbe, "_state_indices", lambda self, osim: (None, None))
        yield


def _twin(model):
    """A copy of the model with a state of its own: every probe of one model poses the
    model's one working state (initSystem returns it), so a reference probe on the same
    model would share the fast probe's pose."""
    return model.clone()


def _q(probe) -> np.ndarray:
    return probe.state.getQ().to_numpy()


def _assert_same(a, b, path="result"):
    """Equal bit for bit (NaN where the other is NaN), through dicts and lists."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _assert_same(a[key], b[key], f"{path}[{key!r}]")
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True), path


def test_the_demo_model_takes_the_direct_path(model):
    """Every coordinate of the demo model is one Q and one U, none clamped or locked."""
    probe = mo.PoseProbe(model)
    assert probe._q_index is not None and probe._u_index is not None
    assert sorted(probe._q_index.values()) == list(range(len(probe.coordinates)))


def test_pose_and_speeds_written_directly_equal_the_coordinates(model):
    """Random whole and partial poses and speeds: the same Q, U, COM, sole points,
    stations and angular momentum as through each Coordinate."""
    fast = mo.PoseProbe(model)
    with through_coordinates():
        reference = mo.PoseProbe(_twin(model))
    assert reference._q_index is None
    rng = np.random.default_rng(5)
    names = list(fast.coordinates)
    for trial in range(20):
        chosen = names if trial % 2 == 0 else list(rng.choice(names, size=3, replace=False))
        pose = {name: float(rng.uniform(-0.8, 0.8)) for name in chosen}
        speeds = {name: float(rng.normal(0, 3)) for name in rng.choice(names, size=trial % len(names), replace=False)}
        for probe in (fast, reference):
            probe.set_pose(pose)
        np.testing.assert_array_equal(_q(fast), _q(reference))
        np.testing.assert_array_equal(fast.com(), reference.com())
        for side in de.SIDES:
            np.testing.assert_array_equal(fast.sole_point(side, 0.3), reference.sole_point(side, 0.3))
        np.testing.assert_array_equal(
            fast.station("femur_r", np.array([0.01, -0.2, 0.0])),
            reference.station("femur_r", np.array([0.01, -0.2, 0.0])),
        )
        assert fast.central_angular_momentum(speeds) == reference.central_angular_momentum(speeds)
        np.testing.assert_array_equal(fast.state.getU().to_numpy(), reference.state.getU().to_numpy())


def test_posing_frame_by_frame_equals_set_pose_per_frame(model):
    """poses() over some coordinates leaves the others where they were, as set_pose does."""
    rng = np.random.default_rng(8)
    coords = {name: rng.uniform(-0.5, 0.5, 15) for name in ("knee_angle_r", "pelvis_tilt", "pelvis_ty")}
    start = {"hip_flexion_l": 0.4, "lumbar_extension": -0.2}
    fast = mo.PoseProbe(model)
    with through_coordinates():
        reference = mo.PoseProbe(_twin(model))
    fast.set_pose(start)
    reference.set_pose(start)
    seen = [(i, _q(fast), fast.com()) for i in fast.poses(coords)]
    assert [i for i, _, _ in seen] == list(range(15))
    for i, q, com in seen:
        reference.set_pose(mo._frames(coords, i))
        np.testing.assert_array_equal(q, _q(reference))
        np.testing.assert_array_equal(com, reference.com())


@pytest.mark.parametrize("flag", ["locked", "clamped"])
def test_a_locked_or_clamped_coordinate_goes_through_the_coordinates(model, flag):
    """With a locked or clamped coordinate the probe poses through the Coordinates (a
    locked one keeps its value whatever set_pose is given), and ends where they put it."""
    changed = model.clone()
    getattr(changed.updCoordinateSet().get("knee_angle_r"), f"set_{flag}")(True)
    probe = mo.PoseProbe(changed)
    assert probe._q_index is None
    pose = {"knee_angle_r": 0.5, "hip_flexion_r": 0.3}
    twin = _twin(changed)
    state = twin.initSystem()
    for name, value in pose.items():
        twin.getCoordinateSet().get(name).setValue(state, value, False)
    probe.set_pose(pose)
    np.testing.assert_array_equal(_q(probe), state.getQ().to_numpy())
    if flag == "locked":
        assert probe.coordinates["knee_angle_r"].getValue(probe.state) == 0.0
    assert probe.coordinates["hip_flexion_r"].getValue(probe.state) == 0.3


def _balance_per_frame(model, design, *, mass_kg, iterations, n):
    """balance_angular_momentum as it was: trial_kinematics from scratch each
    iteration, pose and speeds set frame by frame."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    grid = np.arange(n) * stride_s / n
    omega = 2 * np.pi * np.fft.rfftfreq(n, d=stride_s / n)
    balance = {"tilt_spectrum": np.zeros(n // 2 + 1, dtype=complex), "n": n, "cop_shift": 0.0}
    probe = mo.PoseProbe(model)
    for _ in range(iterations):
        kin = mo.trial_kinematics(model, design, time_s=grid, mass_kg=mass_kg, first_contact_s=0.0, balance=balance)
        coords = kin["coordinates"]
        rotations = [name for name in coords if name not in ("pelvis_tx", "pelvis_ty")]
        speeds = {name: np.fft.irfft(1j * omega * np.fft.rfft(coords[name]), n) for name in rotations}
        momentum = np.zeros(n)
        for i in range(n):
            probe.set_pose(mo._frames(coords, i))
            momentum[i] = probe.central_angular_momentum(mo._frames(speeds, i))
        probe.set_pose({"pelvis_tilt": coords["pelvis_tilt"][0]})
        inertia = probe.central_angular_momentum({"pelvis_tilt": 1.0})
        rate = np.fft.irfft(1j * omega * np.fft.rfft(momentum), n)
        grf_moment = sum(
            (np.nan_to_num(kin["cop"][s][:, 0]) - kin["com"]["x"]) * kin["forces"][f"{s}_fy"]
            + kin["com"]["y"] * kin["forces"][f"{s}_fx"]
            for s in de.SIDES
        )
        residual = rate - grf_moment
        balance["cop_shift"] += float(residual.mean()) / (mass_kg * de.GRAVITY_M_S2) / probe.sole_length("r")
        spectrum = np.fft.rfft(residual - residual.mean())
        spectrum[1:] = -spectrum[1:] / inertia / (1j * omega[1:]) ** 2
        balance["tilt_spectrum"] = balance["tilt_spectrum"] + spectrum
        balance["residual_rms_nm"] = float(np.sqrt(np.mean(residual**2)))
    return balance


@pytest.mark.parametrize("condition", ["forward", "backward"])
def test_balance_and_trial_kinematics_equal_the_per_frame_formulation(model, person, condition):
    design = person.conditions[condition]
    balance = mo.balance_angular_momentum(model, design, mass_kg=person.mass_kg, iterations=3, n=120)
    time_s = np.arange(301) / 500.0
    kin = mo.trial_kinematics(
        model, design, time_s=time_s, mass_kg=person.mass_kg, first_contact_s=0.05, balance=balance
    )
    twin = _twin(model)
    with through_coordinates():
        reference = _balance_per_frame(twin, design, mass_kg=person.mass_kg, iterations=3, n=120)
        reference_kin = mo.trial_kinematics(
            twin, design, time_s=time_s, mass_kg=person.mass_kg, first_contact_s=0.05, balance=reference
        )
    _assert_same(balance, reference, "balance")
    _assert_same(kin, reference_kin, "kinematics")


def _marker_table_row_by_row(model, skin, coords, time_s, *, noise_m, rng, rate_hz):
    """marker_table as it was: the skin table read row by row at every frame."""
    probe = mo.PoseProbe(model)
    positions = {name: np.zeros((len(time_s), 3)) for name in skin["marker"]}
    base = skin[["x_m", "y_m", "z_m"]].to_numpy() + np.column_stack(
        [skin["offset_x_m"], skin["offset_y_m"], np.zeros(len(skin))]
    )
    for i in range(len(time_s)):
        frame = mo._frames(coords, i)
        probe.set_pose(frame)
        for k, row in enumerate(skin.itertuples(index=False)):
            local = base[k].copy()
            if row.sta_m_per_rad:
                local[int(row.sta_axis)] += row.sta_m_per_rad * -frame[f"knee_angle_{row.side}"]
            positions[row.marker][i] = probe.station(row.body, local)
    for name in positions:
        positions[name] = positions[name] + rng.normal(0.0, noise_m, positions[name].shape)
    return MarkerTable(np.asarray(time_s, dtype=float), positions, float(rate_hz))


def test_marker_table_equals_the_row_by_row_formulation(model, person):
    """Markers with and without soft-tissue motion, the noise drawn in the same order."""
    skin = su.skin_markers(model, placement_sd_m=0.005, soft_tissue_scale=1.0, rng=np.random.default_rng(2))
    assert (skin["sta_m_per_rad"] != 0).any() and (skin["sta_m_per_rad"] == 0).any()
    time_s = np.arange(25) / 100.0
    coords = mo.coordinate_trajectories(time_s, person.conditions["forward"], first_contact_s=0.0)
    coords["pelvis_tx"] = 3.0 * time_s
    coords["pelvis_ty"] = np.full(len(time_s), 0.93)
    table = su.marker_table(model, skin, coords, time_s, noise_m=0.001, rng=np.random.default_rng(4), rate_hz=100.0)
    with through_coordinates():
        reference = _marker_table_row_by_row(
            _twin(model), skin, coords, time_s, noise_m=0.001, rng=np.random.default_rng(4), rate_hz=100.0
        )
    assert list(table.positions_m) == list(reference.positions_m)
    _assert_same(table.positions_m, reference.positions_m, "positions")
    np.testing.assert_array_equal(table.time_s, reference.time_s)


@pytest.mark.parametrize("pattern", ["forward", "backward"])
def test_cached_shape_integrals_are_the_quadrature(pattern):
    """The cache hands back the quadrature's own numbers, the same on every call."""
    u = (np.arange(200000) + 0.5) / 200000
    shape = mo._vertical_shape(u, pattern)
    expected = (float(shape.mean()), float((shape * np.cos(np.pi * u)).mean()))
    assert mo._shape_integrals(pattern) == expected
    assert mo._shape_integrals(pattern) == mo._shape_integrals.__wrapped__(pattern) == expected


@pytest.mark.slow
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_subjects_generated_by_worker_processes_are_those_of_one_process(tmp_path, monkeypatch, start):
    """Rule synthesize_study generates the subjects in worker processes (retrorun/demo/
    study.py; forked on Linux, started afresh elsewhere): every file, byte for byte, and
    every summary are those one process writes subject by subject."""
    import multiprocessing

    from retrorun.demo import study

    monkeypatch.setattr(study, "worker_context", lambda: multiprocessing.get_context(start))

    demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=tmp_path)
    small = {"seed": 11, "n_subjects": 3, "trial_duration_s": 2.8, "lead_in_s": 0.6}
    written = {}
    for workers in (1, 2):
        out = tmp_path / f"workers_{workers}"
        summaries = study.generate_study(
            small,
            truth_dirs={name: out / "truth" / name for name in ("S01", "S02", "S03")},
            generic_model=tmp_path / "retrorun_planar.osim",
            inputs_dir=out / "inputs",
            workers=workers,
        )
        files = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        written[workers] = (summaries, files)
    (one_summary, one_files), (pool_summary, pool_files) = written[1], written[2]
    assert len(one_files) > 20 and list(one_files) == list(pool_files)
    for name, content in one_files.items():
        assert pool_files[name] == content, name
    assert one_summary == pool_summary
