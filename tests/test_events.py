"""Gait events from vertical GRF: synthetic contacts with known strike and toe-off times,
forward and backward travel, one plate and two; and the Hamner treadmill record."""

import numpy as np
import pandas as pd
import pytest
from conftest import shared

from retrorun import events
from retrorun.cycle_plan import NEAR_EDGE, USED, plan
from retrorun.formats import read_storage

RATE_HZ = 1000.0


def all_cycles(contacts, *, record_end_s):
    """Every complete cycle of the record (stage plan_cycles with no region, cycles all)."""
    return plan(
        contacts,
        unit="cycle",
        count="all",
        record_start_s=0.0,
        record_end_s=record_end_s,
        frame_s=0.01,
        min_cycle_s=0.3,
        max_cycle_s=2.0,
        margin_s=0.5,
    ).units


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
    cycles = all_cycles(found, record_end_s=float(grf["time_s"].iloc[-1]))
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
    grf = pd.DataFrame(
        {"time_s": table["time"], "r_force_y_n": table["ground_force_vy"], "l_force_y_n": table["1_ground_force_vy"]}
    )
    threshold = 20.0
    found = events.detect_side_contacts(grf, sides=["r", "l"], threshold_n=threshold, min_contact_s=0.05)
    cycles = all_cycles(found, record_end_s=float(grf["time_s"].iloc[-1]))
    counted = {side: independent_contact_count(grf[f"{side}_force_y_n"].to_numpy(), threshold) for side in "rl"}
    assert counted == {"r": 14, "l": 15}
    # the first left cycle starts 4 frames after the record: near_edge (issue 19, item 3)
    edge = cycles[cycles["status"] == NEAR_EDGE]
    assert list(edge["side"]) == ["l"] and float(edge["start_s"].iloc[0]) < 10 / 60
    for side in "rl":
        own = cycles[(cycles["side"] == side)]
        assert (own["status"] == USED).sum() == counted[side] - 1 - (own["status"] == NEAR_EDGE).sum()
    assert (cycles["status"] == USED).sum() == 26
    # treadmill running: a stride of about 0.7 s, stance about 35-40 % (plausibility ranges)
    used = cycles[cycles["status"] == USED]
    assert used["duration_s"].between(0.6, 0.8).all()
    assert used["stance_pct"].between(30, 45).all()


# ------------------------------------------------ events on the raw force (issue 9, item 1)

GENERATOR_LOADS = """<OpenSimDocument><ExternalLoads><objects>
<ExternalForce name="r"><applied_to_body>calcn_r</applied_to_body>
<force_expressed_in_body>ground</force_expressed_in_body>
<point_expressed_in_body>ground</point_expressed_in_body><force_identifier>ground_force_r_v</force_identifier>
<point_identifier>ground_force_r_p</point_identifier><torque_identifier>ground_torque_r_</torque_identifier>
</ExternalForce>
<ExternalForce name="l"><applied_to_body>calcn_l</applied_to_body>
<force_expressed_in_body>ground</force_expressed_in_body>
<point_expressed_in_body>ground</point_expressed_in_body><force_identifier>ground_force_l_v</force_identifier>
<point_identifier>ground_force_l_p</point_identifier><torque_identifier>ground_torque_l_</torque_identifier>
</ExternalForce>
</objects></ExternalLoads></OpenSimDocument>"""


def generated_trial(condition: str, *, mass_kg: float = 70.0, threshold_n: float = 20.0):
    """One demo trial's raw GRF table from the synthetic generator (with its plate noise),
    the trial's analysis window and, per side, the designed contacts (strike, toe off) and
    the instants the noise-free designed force crosses ``threshold_n`` (the best any
    threshold detector can do). The only place this file reads the generator, whose
    module is moving."""
    from retrorun.demo import design as demo_design
    from retrorun.demo import motion as demo_motion
    from retrorun.demo import subjects as demo_subjects

    cfg = demo_design.resolve_config({})
    design = cfg["conditions"][condition]
    rate, first = float(cfg["grf_rate_hz"]), float(cfg["lead_in_s"])
    time_s = np.arange(int(round(float(cfg["trial_duration_s"]) * rate)) + 1) / rate
    forces = demo_motion.design_forces(time_s, design, mass_kg=mass_kg, first_contact_s=first)
    kinematics = {"time_s": time_s, "forces": forces, "cop": {s: np.zeros((len(time_s), 3)) for s in demo_design.SIDES}}
    table = demo_subjects.grf_storage_table(kinematics, noise_n=float(cfg["grf_noise_n"]), rng=np.random.default_rng(9))
    start, end = demo_design.analysis_window(cfg, design)
    stride_s, contact_s = 1.0 / design["stride_frequency_hz"], design["contact_time_s"]
    fine = np.arange(0.0, contact_s + 1e-6, 1e-6)  # one contact at 1 us
    loaded = fine[
        demo_motion.design_forces(first + fine, design, mass_kg=mass_kg, first_contact_s=first)["r_fy"] >= threshold_n
    ]
    designed, crossing = {}, {}
    for side, offset in (("r", 0.0), ("l", 0.5 * stride_s)):
        strikes = first + offset + stride_s * np.arange(-10, 10)
        designed[side] = [(s, s + contact_s) for s in strikes]
        crossing[side] = [(s + loaded[0], s + loaded[-1]) for s in strikes]
    return table, {"start_s": start, "end_s": end}, designed, crossing


@pytest.mark.parametrize("condition", ["forward", "backward"])
def test_events_from_the_raw_force_match_the_designed_contacts(tmp_path, condition):
    from retrorun import grf

    loads = tmp_path / "loads.xml"
    loads.write_text(GENERATOR_LOADS)
    table, window, designed, crossing = generated_trial(condition)
    contacts = grf.raw_contacts(
        table,
        external_loads=str(loads),
        window=window,
        margin_s=0.5,
        threshold_n=20.0,
        min_contact_s=0.05,
        sides={"r": "_r", "l": "_l"},
        subject="S01",
        trial=condition,
        source="grf.mot",
    )
    span = (window["start_s"] - 0.5, window["end_s"] + 0.5)
    for side in ("r", "l"):
        found = contacts[contacts["side"] == side].dropna()
        keep = [k for k, (s, t) in enumerate(designed[side]) if s > span[0] and t < span[1]]
        assert len(found) == len(keep) >= 3
        strikes, toe_offs = found["strike_s"].to_numpy(), found["toe_off_s"].to_numpy()
        # within 1 ms of where the designed force crosses the threshold: no filter lag
        np.testing.assert_allclose(strikes, [crossing[side][k][0] for k in keep], atol=0.001)
        np.testing.assert_allclose(toe_offs, [crossing[side][k][1] for k in keep], atol=0.001)
        # and within 5 ms of the designed contact times: the designed force leaves the
        # plate with a finite slope, as measured forces do (retrorun/demo/motion.py)
        np.testing.assert_allclose(strikes, [designed[side][k][0] for k in keep], atol=0.005)
        np.testing.assert_allclose(toe_offs, [designed[side][k][1] for k in keep], atol=0.005)
    # the kinematics' low-pass (10 Hz, the demo's filter_hz) moves the events by more than
    # that, which is why they are not taken from grf.csv
    _, per_side = grf.prepare_grf(
        table,
        external_loads=str(loads),
        window=window,
        margin_s=0.5,
        cutoff_hz=10.0,
        contact_threshold_n=20.0,
        sides={"r": "_r", "l": "_l"},
        subject="S01",
        trial=condition,
        source="grf.mot",
    )
    filtered = events.detect_side_contacts(per_side, sides=["r"], threshold_n=20.0, min_contact_s=0.05).dropna()
    expected = [s for s, t in designed["r"] if s > span[0] and t < span[1]]
    assert np.max(np.abs(filtered["strike_s"].to_numpy() - expected)) > 0.005


def test_the_analysis_takes_its_cycles_from_the_given_contacts():
    from retrorun import analysis

    time_s = np.round(np.arange(0.0, 3.0, 0.002), 9)
    zero = np.zeros_like(time_s)
    contacts = pd.DataFrame(
        {"side": "r", "contact": [0, 1, 2, 3], "strike_s": [0.2, 0.9, 1.6, 2.3], "toe_off_s": [0.48, 1.18, 1.88, 2.58]}
    )
    cycles = all_cycles(contacts, record_end_s=float(time_s[-1]))
    result = analysis.analyse_trial(
        cycles=cycles,
        activations=pd.DataFrame({"time_s": time_s, "q_r": 0.3, "h_r": 0.2, "q_l": 0.3, "h_l": 0.2}),
        ik=pd.DataFrame({"time_s": time_s, "knee_angle_r_deg": zero, "knee_angle_l_deg": zero}),
        id_forces=pd.DataFrame(
            {"time_s": time_s, "knee_angle_r_moment_nm": 70 * np.sin(time_s), "knee_angle_l_moment_nm": zero}
        ),
        groups={"quadriceps": ["q"], "hamstrings": ["h"]},
        sides={"r": "_r", "l": "_l"},
        settings={"min_cycle_s": 0.3, "max_cycle_s": 2.0, "knee_coordinate": "knee_angle", "knee_extension_sign": 1},
        mass_kg=70.0,
    )
    used = result.cycles[result.cycles["status"] == USED]
    np.testing.assert_allclose(used["strike_s"], [0.2, 0.9, 1.6])
    np.testing.assert_allclose(used["stance_pct"], 40.0)
