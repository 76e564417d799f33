"""Gait events from vertical GRF: synthetic contacts with known strike and toe-off times,
forward and backward travel, one plate and two; and the Hamner treadmill record."""
import numpy as np
import pandas as pd
import pytest

from conftest import shared
from retrorun import events
from retrorun.cycles import USED, gait_cycles
from retrorun.formats import read_storage

RATE_HZ = 1000.0


def half_sine_force(time_s, contacts, *, peak_n=1500.0):
    """Vertical force: a half sine over each (strike_s, toe_off_s)."""
    force = np.zeros_like(time_s)
    for strike, toe_off in contacts:
        inside = (time_s >= strike) & (time_s <= toe_off)
        force[inside] = peak_n * np.sin(np.pi * (time_s[inside] - strike) / (toe_off - strike))
    return force


def running_grf(*, direction: int, two_plates: bool, stride_s=0.7, contact_s=0.25, n_strides=5):
    """Alternating right/left contacts; the foot travels +X (direction 1) or -X (-1) during
    each contact, so the centre of pressure moves the other way for backward running."""
    time_s = np.arange(0.0, n_strides * stride_s + 0.3, 1.0 / RATE_HZ)
    right = [(0.1 + k * stride_s, 0.1 + k * stride_s + contact_s) for k in range(n_strides)]
    left = [(s + stride_s / 2, e + stride_s / 2) for s, e in right]
    grf = {"time_s": time_s}
    for side, contacts in (("r", right), ("l", left)):
        if side == "l" and not two_plates:
            continue
        fy = half_sine_force(time_s, contacts)
        grf[f"{side}_force_y_n"] = fy
        grf[f"{side}_force_x_n"] = -direction * 0.1 * fy * np.cos(np.pi * ((time_s - 0.1) % stride_s) / contact_s)
        grf[f"{side}_cop_x_m"] = direction * 3.0 * time_s
    return pd.DataFrame(grf), right, left


def crossing_times(contacts, threshold_n, peak_n=1500.0):
    """Exact times a half sine crosses the threshold (strike, toe off)."""
    out = []
    for strike, toe_off in contacts:
        lag = (toe_off - strike) * np.arcsin(threshold_n / peak_n) / np.pi
        out.append((strike + lag, toe_off - lag))
    return np.array(out)


@pytest.mark.parametrize("direction", [1, -1], ids=["forward", "backward"])
@pytest.mark.parametrize("two_plates", [True, False], ids=["two_plates", "one_plate"])
def test_contacts_and_cycles_are_found_whatever_the_direction(direction, two_plates):
    grf, right, left = running_grf(direction=direction, two_plates=two_plates)
    found = events.detect_side_contacts(grf, sides=["r", "l"], threshold_n=30.0, min_contact_s=0.05)
    expected = {"r": crossing_times(right, 30.0)}
    if two_plates:
        expected["l"] = crossing_times(left, 30.0)
    assert sorted(found["side"].unique()) == sorted(expected)
    for side, times in expected.items():
        own = found[found["side"] == side]
        np.testing.assert_allclose(own[["strike_s", "toe_off_s"]].to_numpy(), times, atol=1.5 / RATE_HZ)
    cycles = gait_cycles(found, window_start_s=0.0, window_end_s=grf["time_s"].iloc[-1], min_cycle_s=0.3,
                         max_cycle_s=2.0)
    used = cycles[cycles["status"] == USED]
    # n contacts per foot make n - 1 cycles; the last contact has no next strike
    assert (used["side"] == "r").sum() == len(right) - 1
    assert (used["side"] == "l").sum() == (len(left) - 1 if two_plates else 0)
    np.testing.assert_allclose(used["duration_s"], 0.7, atol=2 / RATE_HZ)
    lag = crossing_times([(0, 0.25)], 30.0)[0]
    np.testing.assert_allclose(used["stance_pct"], 100 * (lag[1] - lag[0]) / 0.7, atol=0.5)


def test_backward_gives_the_same_events_as_forward():
    forward, _, _ = running_grf(direction=1, two_plates=True)
    backward, _, _ = running_grf(direction=-1, two_plates=True)
    a = events.detect_side_contacts(forward, sides=["r", "l"], threshold_n=20.0)
    b = events.detect_side_contacts(backward, sides=["r", "l"], threshold_n=20.0)
    pd.testing.assert_frame_equal(a, b)


def test_contacts_cut_by_the_record_edges_have_no_strike_or_no_toe_off():
    time_s = np.arange(0.0, 1.0, 0.001)
    force = half_sine_force(time_s, [(-0.1, 0.15), (0.45, 0.7), (0.9, 1.15)])
    contacts = events.detect_contacts(time_s, force, threshold_n=20.0)
    assert len(contacts) == 3
    assert np.isnan(contacts["strike_s"].iloc[0]) and np.isfinite(contacts["toe_off_s"].iloc[0])
    assert np.isfinite(contacts["strike_s"].iloc[2]) and np.isnan(contacts["toe_off_s"].iloc[2])


def test_short_spikes_are_not_contacts():
    time_s = np.arange(0.0, 1.0, 0.001)
    force = half_sine_force(time_s, [(0.1, 0.35), (0.5, 0.52)])
    assert len(events.detect_contacts(time_s, force, threshold_n=20.0, min_contact_s=0.05)) == 1
    assert len(events.detect_contacts(time_s, force, threshold_n=20.0, min_contact_s=0.0)) == 2


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="threshold_n"):
        events.detect_contacts([0, 1], [0, 0], threshold_n=0)
    with pytest.raises(ValueError, match="increase"):
        events.detect_contacts([0, 0], [0, 0], threshold_n=20)


def independent_contact_count(force_n, threshold_n):
    """Contacts as runs of samples above threshold (numpy run-length), counted only
    when both edges are inside the record: a method independent of retrorun.events."""
    above = np.concatenate([[False], force_n > threshold_n, [False]])
    starts = np.flatnonzero(~above[:-1] & above[1:])
    ends = np.flatnonzero(above[:-1] & ~above[1:])
    complete = (starts > 0) & (ends < len(force_n))
    return int(complete.sum())


def test_hamner_treadmill_cycles_match_the_contacts_in_the_record():
    """Acceptance 3: on the whole 10 s two-plate treadmill GRF (60 Hz), every foot gives one
    cycle per pair of consecutive complete contacts. Measured: right 14 contacts, left
    15 contacts, so 13 + 14 = 27 cycles."""
    table, _ = read_storage(shared("hamner-run", "subject02_running_grf.mot"))
    # External_Loads.xml: ground_force_* acts on calcn_r, 1_ground_force_* on calcn_l
    grf = pd.DataFrame({"time_s": table["time"], "r_force_y_n": table["ground_force_vy"],
                        "l_force_y_n": table["1_ground_force_vy"]})
    threshold = 20.0
    found = events.detect_side_contacts(grf, sides=["r", "l"], threshold_n=threshold, min_contact_s=0.05)
    cycles = gait_cycles(found, window_start_s=0.0, window_end_s=10.0, min_cycle_s=0.3, max_cycle_s=2.0)
    counted = {side: independent_contact_count(grf[f"{side}_force_y_n"].to_numpy(), threshold) for side in "rl"}
    assert counted == {"r": 14, "l": 15}
    for side in "rl":
        assert (cycles[(cycles["side"] == side)]["status"] == USED).sum() == counted[side] - 1
    assert (cycles["status"] == USED).sum() == 27
    # treadmill running: a stride of about 0.7 s, stance about 35-40 % (facts.md section 1)
    used = cycles[cycles["status"] == USED]
    assert used["duration_s"].between(0.6, 0.8).all()
    assert used["stance_pct"].between(30, 45).all()
