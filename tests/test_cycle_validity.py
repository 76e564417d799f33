"""Issue 19 items 2 and 3: double and half strides, and cycles at the recording's edge,
are not used; each gets its own status and reason."""

import pandas as pd

from retrorun import analysis
from retrorun import cycle_plan as cp

COMMON = dict(frame_s=0.01, min_cycle_s=0.3, max_cycle_s=2.0, margin_s=0.5, subject="s1", trial="t1")


def contacts(side, strikes, stance_s=0.25):
    return pd.DataFrame(
        {
            "side": side,
            "contact": range(len(strikes)),
            "strike_s": strikes,
            "toe_off_s": [s + stance_s for s in strikes],
        }
    )


def by_side(plan, side):
    own = plan.units[plan.units["side"] == side]
    return list(zip(own["strike_s"].round(2), own["status"]))


def test_a_missed_strike_makes_a_double_stride_that_is_not_used():
    # right strikes every 0.70 s but the one at 2.60 s was missed: 1.90-3.30 s is a 1.4 s
    # "cycle" of 18 % stance inside the 0.3-2.0 s bounds
    table = pd.concat(
        [contacts("r", [0.5, 1.2, 1.9, 3.3, 4.0]), contacts("l", [0.85, 1.55, 2.25, 2.95, 3.65])],
        ignore_index=True,
    )
    plan = cp.plan(table, unit="cycle", count="all", record_start_s=0.0, record_end_s=5.0, **COMMON)
    statuses = dict(by_side(plan, "r"))
    assert statuses[1.9] == cp.IRREGULAR_CONTACTS
    assert statuses[0.5] == statuses[1.2] == statuses[3.3] == cp.USED
    reason = plan.units.loc[(plan.units["side"] == "r") & (plan.units["strike_s"] == 1.9), "reason"].iloc[0]
    assert "2 strikes of the other foot" in reason


def test_a_foot_on_the_wrong_side_makes_two_half_strides_off_the_median():
    # a right contact at 1.55 s (the left foot, given the wrong side): two 0.35 s halves,
    # each with one left strike between only by chance of the timing
    table = pd.concat(
        [contacts("r", [0.5, 1.2, 1.55, 1.9, 2.6, 3.3, 4.0]), contacts("l", [0.85, 1.4, 1.75, 2.25, 2.95, 3.65])],
        ignore_index=True,
    )
    plan = cp.plan(table, unit="cycle", count="all", record_start_s=0.0, record_end_s=5.0, **COMMON)
    statuses = dict(by_side(plan, "r"))
    assert statuses[1.2] == statuses[1.55] == cp.OFF_MEDIAN_DURATION
    assert statuses[0.5] == statuses[1.9] == statuses[2.6] == cp.USED
    reason = plan.units.loc[(plan.units["side"] == "r") & (plan.units["strike_s"] == 1.2), "reason"].iloc[0]
    assert "median" in reason and "cycle_duration_tolerance" in reason
    # the band is a setting: at +-60 % the 0.35 s halves of a 0.70 s median pass
    loose = cp.plan(
        table, unit="cycle", count="all", record_start_s=0.0, record_end_s=5.0, duration_tolerance=0.6, **COMMON
    )
    assert dict(by_side(loose, "r"))[1.2] == cp.USED


def test_a_cycle_without_the_edge_margin_of_recording_is_near_edge():
    # frames of 10 ms: 10 frames are 0.10 s; the first right cycle starts 0.04 s (4 frames,
    # as Hamner's first cycle) after the record, the last ends 0.05 s before its end
    table = pd.concat([contacts("r", [0.04, 0.74, 1.44, 2.14]), contacts("l", [0.39, 1.09, 1.79])], ignore_index=True)
    plan = cp.plan(table, unit="cycle", count="all", record_start_s=0.0, record_end_s=2.19, **COMMON)
    assert by_side(plan, "r")[:3] == [(0.04, cp.NEAR_EDGE), (0.74, cp.USED), (1.44, cp.NEAR_EDGE)]
    reasons = plan.units.loc[plan.units["status"] == cp.NEAR_EDGE, "reason"]
    assert reasons.str.contains("edge_margin_frames").all() and "4 frame(s) of recording before it" in reasons.iloc[0]
    # with a record 0.10 s longer at each end every cycle has its margin
    wider = cp.plan(
        table.assign(strike_s=table["strike_s"] + 0.1, toe_off_s=table["toe_off_s"] + 0.1),
        unit="cycle",
        count="all",
        record_start_s=0.0,
        record_end_s=2.39,
        **COMMON,
    )
    assert [s for _, s in by_side(wider, "r")[:3]] == [cp.USED] * 3
    # stances too
    stances = cp.plan(table, unit="stance", count="all", record_start_s=0.0, record_end_s=2.19, **COMMON)
    assert by_side(stances, "r")[0] == (0.04, cp.NEAR_EDGE)


def test_every_new_status_is_counted_in_the_cycle_counts():
    assert {cp.IRREGULAR_CONTACTS, cp.OFF_MEDIAN_DURATION, cp.NEAR_EDGE} <= set(cp.STATUSES)
    units = pd.DataFrame({"side": ["r", "r", "r"], "status": [cp.USED, cp.NEAR_EDGE, cp.IRREGULAR_CONTACTS]})
    info = {"subject": "s1", "condition": "forward", "trial": "t1"}
    counts = analysis.cycle_counts([(info, units)], [], sides=["r"])
    row = counts.iloc[0]
    assert row["n_used"] == 1 and row["n_near_edge"] == 1 and row["n_irregular_contacts"] == 1
