"""The runner's heading (retrorun.heading): found from the pelvis markers' geometry in any
direction, and markers and forces turned by it agree with the untouched trial."""

import numpy as np
import pandas as pd
import pytest
from conftest import shared

from retrorun import formats, heading, templates
from retrorun.errors import InputError
from retrorun.formats import MarkerTable
from retrorun.markers import apply_aliases

# the model's pelvis markers facing +X (ASIS in front, PSIS behind, right = +Z)
REFERENCE = {
    "RASI": np.array([0.02, 0.95, 0.12]),
    "LASI": np.array([0.02, 0.95, -0.12]),
    "RPSI": np.array([-0.15, 0.98, 0.05]),
    "LPSI": np.array([-0.15, 0.98, -0.05]),
}


def running_pelvis(*, speed_m_s=3.0, frames=160, rate=100.0, misplaced=None) -> MarkerTable:
    """Pelvis markers of a runner facing +X who travels at ``speed_m_s`` along X (negative:
    backward running), with the pelvis rotating +-8 deg each stride (two whole strides)."""
    time = np.arange(frames) / rate
    positions = {name: np.zeros((frames, 3)) for name in REFERENCE}
    for i, t in enumerate(time):
        turn = heading.rotation_about_vertical(8.0 * np.sin(2 * np.pi * 1.25 * t))
        offset = np.array([2.0 + speed_m_s * t, 0.03 * np.sin(2 * np.pi * 2.5 * t), 0.4])
        for name, xyz in REFERENCE.items():
            # the lab's pelvis is a little wider than the model's: scale does not bias the fit
            placed = 1.08 * xyz + (misplaced or {}).get(name, 0.0)
            positions[name][i] = turn @ placed + offset
    return MarkerTable(time, positions, rate, "lab.trc")


def moved(markers: MarkerTable, shift_m) -> MarkerTable:
    return MarkerTable(markers.time_s, {n: xyz + shift_m for n, xyz in markers.positions_m.items()}, markers.rate_hz)


def turned(markers: MarkerTable, angle_deg: float) -> MarkerTable:
    """The whole trial turned about the lab's vertical axis through its origin."""
    rotation = heading.rotation_about_vertical(angle_deg)
    return MarkerTable(markers.time_s, {n: xyz @ rotation.T for n, xyz in markers.positions_m.items()}, markers.rate_hz)


def off(found_deg, expected_deg):
    return abs(np.degrees(np.angle(np.exp(1j * np.radians(found_deg - expected_deg)))))


@pytest.mark.parametrize("angle", [0.0, 90.0, 180.0, -135.0])
def test_heading_of_a_turned_runner(angle):
    on_treadmill = heading.estimate_heading(turned(running_pelvis(speed_m_s=0.0), angle), REFERENCE)
    assert off(on_treadmill.heading_deg, angle) < 0.5 and not on_treadmill.from_travel
    assert on_treadmill.frames == 160 and set(on_treadmill.markers) == set(REFERENCE)
    overground = heading.estimate_heading(turned(running_pelvis(), angle), REFERENCE)
    # the pelvis's sway leaves a little in the fitted line of travel
    assert off(overground.heading_deg, angle) < 0.2 and overground.from_travel
    assert overground.travel_m_s == pytest.approx(3.0, rel=1e-3)


def test_overground_the_line_of_travel_corrects_a_misplaced_marker():
    # the lab's right ASIS 1.5 cm in front of where the model has it: the marker fit turns
    # by a few degrees; the line of travel does not
    misplaced = {"RASI": np.array([0.015, 0.0, 0.0])}
    treadmill = heading.estimate_heading(running_pelvis(speed_m_s=0.0, misplaced=misplaced), REFERENCE)
    assert 1.0 < off(treadmill.heading_deg, 0.0) < 5.0
    for speed, angle in ((3.0, 0.0), (-2.5, 180.0)):
        found = heading.estimate_heading(turned(running_pelvis(speed_m_s=speed, misplaced=misplaced), angle), REFERENCE)
        assert off(found.heading_deg, angle) < 0.2 and off(found.marker_fit_deg, angle) > 1.0


def test_a_backward_runner_faces_where_the_pelvis_does_not_where_it_goes():
    # travels toward -X, faces +X: progression alone would say 180 deg
    assert heading.estimate_heading(running_pelvis(speed_m_s=-2.5), REFERENCE).heading_deg == pytest.approx(0, abs=0.5)
    # faces -X and travels toward +X: the backward runner crossing the plates as the forward one does
    found = heading.estimate_heading(turned(running_pelvis(speed_m_s=-2.5), 180.0), REFERENCE)
    assert abs(found.heading_deg) == pytest.approx(180, abs=0.5)


@pytest.mark.parametrize("angle", [90.0, 180.0, -135.0])
def test_turned_or_moved_markers_come_back_the_same(angle):
    original = running_pelvis()
    reference = heading.turn_markers(original, heading.estimate_heading(original, REFERENCE))
    # turned about the lab's origin, and moved 4 m away as well: the same data in the facing frame
    for rotated in (turned(original, angle), turned(moved(original, [4.0, 0.0, -3.0]), angle)):
        back = heading.turn_markers(rotated, heading.estimate_heading(rotated, REFERENCE))
        for name in REFERENCE:
            assert np.abs(back.positions_m[name] - reference.positions_m[name]).max() < 1e-9
    # the facing frame's origin is the pelvis markers' mean horizontal position, on the floor
    centre = np.mean([reference.positions_m[n] for n in REFERENCE], axis=(0, 1))
    assert centre[[0, 2]] == pytest.approx([0, 0], abs=1e-9) and centre[1] > 0.9


def test_missing_pelvis_markers_and_a_turning_trial_are_refused():
    markers = running_pelvis()
    with pytest.raises(InputError, match="has 1 of the markers on the model.s root body"):
        heading.estimate_heading(
            MarkerTable(markers.time_s, {"RASI": markers.positions_m["RASI"]}, markers.rate_hz, "lab.trc"),
            REFERENCE,
            subject="s1",
            trial="run",
        )
    # a runner turning round within the trial (a 180 deg curve)
    curve = MarkerTable(markers.time_s, {}, markers.rate_hz, "lab.trc")
    for name, xyz in markers.positions_m.items():
        angles = np.linspace(0, 180, len(xyz))
        curve.positions_m[name] = np.stack([heading.rotation_about_vertical(a) @ p for a, p in zip(angles, xyz)])
    with pytest.raises(InputError, match="the trial turns"):
        heading.estimate_heading(curve, REFERENCE)


LOADS = """<OpenSimDocument><ExternalLoads><objects>
<ExternalForce name="r"><applied_to_body>calcn_r</applied_to_body><force_identifier>r_v</force_identifier>
<point_identifier>r_p</point_identifier><torque_identifier>r_m</torque_identifier></ExternalForce>
</objects></ExternalLoads></OpenSimDocument>"""


def test_forces_points_and_torques_turn_together(tmp_path):
    (tmp_path / "loads.xml").write_text(LOADS)
    specs = templates.external_forces(tmp_path / "loads.xml")
    rng = np.random.default_rng(3)
    table = pd.DataFrame(rng.normal(size=(20, 9)), columns=[f"r_{k}{a}" for k in "vpm" for a in "xyz"])
    table.insert(0, "time", np.arange(20) * 0.01)
    table["ground_force_other"] = 7.0
    facing = heading.Heading(
        heading_deg=180.0, spread_deg=0.0, origin_m=(1.5, 0.0, -0.5), markers=("RASI", "LASI"), frames=20
    )
    out = heading.turn_forces(table, specs, facing)
    force, point, torque = (out[[f"r_{k}{a}" for a in "xyz"]].to_numpy() for k in "vpm")
    raw_force, raw_point, raw_torque = (table[[f"r_{k}{a}" for a in "xyz"]].to_numpy() for k in "vpm")
    # 180 deg about Y: x and z change sign; the point measured from the origin
    assert np.allclose(force, raw_force * [-1, 1, -1])
    assert np.allclose(torque, raw_torque * [-1, 1, -1])
    assert np.allclose(point, (raw_point - [1.5, 0, -0.5]) * [-1, 1, -1])
    # the wrench about the new origin turns as one vector: the plate's moment stays that of the same load
    moment = np.cross(point, force) + torque
    raw_moment = np.cross(raw_point - [1.5, 0.0, -0.5], raw_force) + raw_torque
    assert np.allclose(moment, raw_moment * [-1, 1, -1])
    assert (out["ground_force_other"] == 7.0).all() and (out["time"] == table["time"]).all()


def test_the_hamner_trial_in_any_direction_faces_the_model():
    """The real model's pelvis markers and the real running trial turned by 0, 90, 180 and
    -135 deg: the heading found turns with the trial, and the trial faces the model's +X."""
    data = shared("hamner-run")
    reference = heading.model_reference_markers(str(data / "FullBodyModel_Hamner2010_v2_0.osim"))
    assert {"R.ASIS", "L.ASIS", "V.Sacral"} <= set(reference)
    markers = formats.read_trc(data / "subject02_running.trc").window(1.0, 1.5)
    markers = apply_aliases(markers, {})
    untouched = heading.estimate_heading(markers, reference).heading_deg
    assert abs(untouched) < 10  # a treadmill runner facing the lab's +X
    for angle in (90.0, 180.0, -135.0):
        found = heading.estimate_heading(turned(markers, angle), reference).heading_deg
        assert np.degrees(np.angle(np.exp(1j * np.radians(found - untouched - angle)))) == pytest.approx(0, abs=1e-6)


def test_a_trial_without_the_pelvis_markers_is_refused_before_any_job(tmp_path):
    from test_bad_input import refused, trial_row, write_study

    data = shared("gait2392-walk")
    markers = formats.read_trc(data / "subject01_walk1.trc")
    for name in ("L.ASIS", "V.Sacral"):
        markers.positions_m[f"{name}.old"] = markers.positions_m.pop(name)
    formats.write_trc(tmp_path / "walk1.trc", markers)
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=tmp_path / "walk1.trc")]))
    assert (
        "subject S01, trial walk1" in message and "walk1.trc has 1 of the markers on the model's root body" in message
    )
    assert "L.ASIS, R.ASIS, V.Sacral" in message and "marker_aliases" in message
