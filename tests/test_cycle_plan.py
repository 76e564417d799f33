"""Which cycles (or stances) are analysed, why the others are not, and the span SO runs on."""

import numpy as np
import pandas as pd
import pytest

from retrorun import cycle_plan as cp


def contacts(side, pairs):
    return pd.DataFrame(
        {
            "side": side,
            "contact": range(len(pairs)),
            "strike_s": [p[0] for p in pairs],
            "toe_off_s": [p[1] for p in pairs],
        }
    )


RUNNING = pd.concat(
    [
        contacts("r", [(0.50, 0.75), (1.20, 1.45), (1.90, 2.15), (2.60, 2.85)]),
        contacts("l", [(0.85, 1.10), (1.55, 1.80), (2.25, 2.50)]),
    ],
    ignore_index=True,
)
COMMON = dict(
    record_start_s=0.0,
    record_end_s=3.0,
    frame_s=0.01,
    min_cycle_s=0.3,
    max_cycle_s=2.0,
    margin_s=0.5,
    subject="s1",
    trial="t1",
)


def status(plan, side):
    return list(plan.units.loc[plan.units["side"] == side, "status"])


def test_all_cycles_without_a_region_and_the_span_covers_them_with_one_frame_and_the_margin():
    plan = cp.plan(RUNNING, unit="cycle", count="all", **COMMON)
    assert status(plan, "r") == [cp.USED, cp.USED, cp.USED, cp.MISSING_CONTACT]
    assert status(plan, "l") == [cp.USED, cp.USED, cp.MISSING_CONTACT]
    assert list(plan.units.loc[plan.units["status"] == cp.USED, "cycle"]) == [0, 1, 2, 0, 1]
    span = plan.span
    assert span["n_used"] == 5 and plan.warning == ""
    assert span["so_start_s"] == pytest.approx(0.49) and span["so_end_s"] == pytest.approx(2.61)
    assert span["ik_start_s"] == 0.0 and span["ik_end_s"] == pytest.approx(3.0)  # margin clipped to the record


def test_n_per_side_takes_the_first_complete_ones_and_so_runs_only_over_them():
    plan = cp.plan(RUNNING, unit="cycle", count=1, **COMMON)
    assert status(plan, "r") == [cp.USED, cp.NOT_CHOSEN, cp.NOT_CHOSEN, cp.MISSING_CONTACT]
    assert status(plan, "l") == [cp.USED, cp.NOT_CHOSEN, cp.MISSING_CONTACT]
    assert "analysis.cycles is 1" in plan.units.loc[plan.units["status"] == cp.NOT_CHOSEN, "reason"].iloc[0]
    # right 0.50-1.20 and left 0.85-1.55: SO over their union plus one frame
    assert (plan.span["so_start_s"], plan.span["so_end_s"]) == pytest.approx((0.49, 1.56))
    assert (plan.span["ik_start_s"], plan.span["ik_end_s"]) == pytest.approx((0.0, 2.06))


def test_a_region_that_cuts_a_cycle_by_less_than_one_frame_still_takes_it():
    # the right cycle 1.20-1.90 s; frames of 10 ms
    inside = cp.plan(RUNNING, unit="cycle", count="all", region_start_s=1.205, region_end_s=1.892, **COMMON)
    assert status(inside, "r")[1] == cp.USED
    cut = cp.plan(RUNNING, unit="cycle", count="all", region_start_s=1.205, region_end_s=1.885, **COMMON)
    assert status(cut, "r")[1] == cp.OUTSIDE_REGION
    assert "extend end_s to at least 1.90 s" in cut.units["reason"].iloc[1]


def test_no_cycle_in_the_region_warns_with_the_nearest_candidate_and_what_to_change():
    plan = cp.plan(RUNNING, unit="cycle", count="all", region_start_s=1.15, region_end_s=1.80, **COMMON)
    assert plan.span["n_used"] == 0
    # nothing to analyse: the region still runs, so the trial's QC exists
    assert (plan.span["so_start_s"], plan.span["so_end_s"]) == pytest.approx((1.14, 1.81))
    warning = plan.warning
    assert "subject s1, trial t1" in warning and "1.150-1.800 s" in warning
    # the left cycle 0.85-1.55 misses by 0.30 s, the right 1.20-1.90 by 0.10 s: the nearest
    assert "side r 1.200-1.900 s" in warning and "extend end_s to at least 1.90 s" in warning


def test_no_contact_at_all_says_so():
    plan = cp.plan(RUNNING.iloc[:0], unit="cycle", count="all", **COMMON)
    assert "no foot contact was detected" in plan.warning and "contact_threshold_n" in plan.warning


def test_stances_need_both_edges_on_the_plate_and_the_other_foot_unloaded():
    table = pd.concat(
        [contacts("r", [(np.nan, 0.20), (0.50, 0.75), (1.20, 1.45)]), contacts("l", [(0.70, 1.00), (1.60, np.nan)])],
        ignore_index=True,
    )
    plan = cp.plan(table, unit="stance", count="all", **COMMON)
    assert status(plan, "r") == [cp.OFF_PLATE, cp.OTHER_FOOT_LOADED, cp.USED]
    assert status(plan, "l") == [cp.OTHER_FOOT_LOADED, cp.OFF_PLATE]
    used = plan.units[plan.units["status"] == cp.USED].iloc[0]
    assert (used["start_s"], used["end_s"], used["stance_pct"]) == (1.20, 1.45, 100.0)
    assert used["duration_s"] == pytest.approx(0.25)
    assert "the l foot is loaded" in plan.units["reason"].iloc[1]


def test_overground_cycles_are_missing_and_the_warning_points_to_stance():
    one_each = pd.concat([contacts("r", [(0.50, 0.75)]), contacts("l", [(0.85, 1.10)])], ignore_index=True)
    cycles = cp.plan(one_each, unit="cycle", count="all", **COMMON)
    assert cycles.span["n_used"] == 0 and "analysis.unit: stance" in cycles.warning
    stances = cp.plan(one_each, unit="stance", count="all", **COMMON)
    assert stances.span["n_used"] == 2 and stances.warning == ""


@pytest.mark.parametrize("value", [0, -1, 1.5, "some"])
def test_cycles_setting_must_be_all_or_a_positive_whole_number(value):
    with pytest.raises(ValueError):
        cp.parse_count(value)


def test_missing_strikes_toe_offs_and_implausible_durations_are_refused_with_the_reason():
    table = pd.concat(
        [
            contacts("r", [(np.nan, 0.1), (0.5, np.nan), (1.2, 1.3), (1.4, 1.5), (1.9, 2.1)]),
            contacts("l", [(0.2, 0.4), (2.6, 2.8)]),
        ],
        ignore_index=True,
    )
    plan = cp.plan(table, unit="cycle", count="all", **COMMON)
    assert status(plan, "r") == [
        cp.MISSING_CONTACT,
        cp.MISSING_CONTACT,
        cp.IMPLAUSIBLE_DURATION,
        cp.IRREGULAR_CONTACTS,  # no left strike between 1.4 and 1.9 s
        cp.MISSING_CONTACT,
    ]
    assert status(plan, "l") == [cp.IMPLAUSIBLE_DURATION, cp.MISSING_CONTACT]
    reasons = plan.units["reason"].tolist()
    assert "no foot strike" in reasons[0] and "no toe off between" in reasons[1]
    assert "shorter than min_cycle_s" in reasons[2] and "longer than max_cycle_s" in reasons[5]
