"""mass_com across trials whose runners face opposite ways, and over stance-only windows
(retrorun.residual_reduction): both came out wrong with exit 0."""

import numpy as np
import pytest

from retrorun import residual_reduction as rr
from retrorun.heading import rotation_about_vertical

LIMITS = {"max_com_shift_m": 0.1, "max_mass_change_kg": 3.0}
MASSES = {"pelvis": 10.0, "torso": 30.0}
G = 9.81


def trial_seen_facing(heading_deg, shift_body, mass_error_kg, *, support=G):
    """The mean residual wrench (ground axes) of a trial whose torso COM is off by
    ``shift_body`` (torso frame) and whose model is ``mass_error_kg`` too heavy, with the
    runner (and torso) facing ``heading_deg`` about the vertical; ``support`` is
    g + the COM's mean vertical acceleration over the window."""
    rotation = rotation_about_vertical(heading_deg)
    offset = rotation @ np.asarray(shift_body)  # the misplaced COM in ground
    weight = MASSES["torso"] * support
    # the residual actuator holds the moment the misplaced weight adds, offset x (0, -W, 0)
    moment = -np.cross(offset, [0.0, -weight, 0.0])
    wrench = np.array([moment[0], 0.0, moment[2], 0.0, mass_error_kg * support, 0.0])
    return rr.TrialResiduals(wrench, np.repeat(rotation[None], 5, axis=0), support - G)


def test_opposite_headings_do_not_cancel():
    # the same subject, torso COM 3 cm too far forward and 2 cm to the right in its own
    # frame, in a trial facing +X and one facing -X: averaged in ground the moments cancel
    error = np.array([0.03, 0.0, 0.02])
    trials = [trial_seen_facing(0.0, error, 1.0), trial_seen_facing(180.0, error, 1.0)]
    row, masses, shift = rr.subject_changes(
        method="mass_com", trials=trials, masses_kg=MASSES, body="torso", gravity=G, settings=LIMITS
    )
    np.testing.assert_allclose(shift, -error, atol=1e-9)
    assert row["com_shift_m"] == pytest.approx(np.linalg.norm(error))
    assert row["mass_change_recommended_kg"] == pytest.approx(-1.0)
    # any heading: each trial alone gives the same body-frame shift
    for heading in (90.0, -135.0):
        _, _, alone = rr.subject_changes(
            method="mass_com",
            trials=[trial_seen_facing(heading, error, 1.0)],
            masses_kg=MASSES,
            body="torso",
            gravity=G,
            settings=LIMITS,
        )
        np.testing.assert_allclose(alone, -error, atol=1e-9)


def test_stance_windows_are_divided_by_the_support_not_g():
    # a stance of 0.25 s in a 0.7 s cycle: the ground holds m g 0.7 / 0.25 on average over
    # it, so the COM accelerates upward by g (0.7 / 0.25 - 1) on average; a 1 kg too heavy
    # model then shows a mean vertical residual of 1 kg x 2.8 g, not 1 kg x g
    support = G * 0.7 / 0.25
    error = np.array([0.02, 0.0, 0.0])
    trial = trial_seen_facing(0.0, error, 1.0, support=support)
    row, _, shift = rr.subject_changes(
        method="mass_com", trials=[trial], masses_kg=MASSES, body="torso", gravity=G, settings=LIMITS
    )
    assert row["mass_change_recommended_kg"] == pytest.approx(-1.0)  # was -2.8 kg
    np.testing.assert_allclose(shift, -error, atol=1e-9)  # was 2.8 times too far


def test_mean_com_acceleration_over_a_stance_and_over_a_cycle():
    # a COM height bouncing once per 0.7 s cycle: zero mean acceleration over the cycle,
    # (v(b) - v(a)) / (b - a) over a part of it
    time_s = np.arange(0.0, 1.5, 0.005)
    height = 1.0 + 0.04 * np.cos(2 * np.pi * time_s / 0.7)
    velocity = lambda t: -0.04 * 2 * np.pi / 0.7 * np.sin(2 * np.pi * t / 0.7)  # noqa: E731
    assert rr.mean_com_acceleration_y(time_s, height, [(0.1, 0.8)]) == pytest.approx(0.0, abs=1e-4)
    stance = (0.25, 0.45)
    expected = (velocity(stance[1]) - velocity(stance[0])) / (stance[1] - stance[0])
    assert rr.mean_com_acceleration_y(time_s, height, [stance]) == pytest.approx(expected, rel=1e-4)
    assert expected > 1.0  # around the lowest point the COM is pushed up


def test_a_ground_axes_shift_goes_into_the_body_frame():
    # what RRA computes on ground's X and Z, for a torso leaning 10 deg forward and facing -X
    lean = np.array(
        [
            [np.cos(np.radians(-10)), -np.sin(np.radians(-10)), 0],
            [np.sin(np.radians(-10)), np.cos(np.radians(-10)), 0],
            [0, 0, 1],
        ]
    )
    facing_back = rotation_about_vertical(180.0) @ lean
    ground = np.array([0.02, 0.0, 0.01])
    body = rr.shift_into_body(ground, np.repeat(facing_back[None], 3, axis=0))
    moved = facing_back @ body
    np.testing.assert_allclose(moved[[0, 2]], ground[[0, 2]], atol=1e-12)
    # RRA adds (0.02, 0, 0.01) to the body-frame COM: that moves it 2 cm backward in ground
    assert (facing_back @ ground)[0] == pytest.approx(-0.02 * np.cos(np.radians(10)))
    # for a body facing +X upright the two agree
    np.testing.assert_allclose(rr.shift_into_body(ground, np.eye(3)[None]), ground, atol=1e-12)
