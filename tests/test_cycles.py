"""Cycle building (window, missing contacts, durations) and time normalisation."""
import numpy as np
import pandas as pd
import pytest

from retrorun.cycles import (IMPLAUSIBLE_DURATION, MISSING_CONTACT, OUTSIDE_WINDOW, PERCENT, USED, gait_cycles,
                             normalise_table, time_normalise)


def contacts(side, pairs):
    return pd.DataFrame({"side": side, "contact": range(len(pairs)), "strike_s": [p[0] for p in pairs],
                         "toe_off_s": [p[1] for p in pairs]})


def test_cycles_outside_the_window_or_missing_contacts_are_skipped_with_the_reason():
    table = pd.concat([contacts("r", [(np.nan, 0.1), (0.5, 0.75), (1.2, 1.45), (1.9, 2.15), (2.6, np.nan)]),
                       contacts("l", [(0.85, 1.1), (3.0, 3.2)])], ignore_index=True)
    cycles = gait_cycles(table, window_start_s=0.4, window_end_s=2.2, min_cycle_s=0.3, max_cycle_s=2.0)
    right = cycles[cycles["side"] == "r"]
    # the first cycle ends inside the window but began before the record: its strike is missing
    assert list(right["status"]) == [MISSING_CONTACT, USED, USED, OUTSIDE_WINDOW, OUTSIDE_WINDOW]
    # a wider window takes in 1.9-2.6 too; the last contact then has no next strike
    wider = gait_cycles(table, window_start_s=0.0, window_end_s=2.7, min_cycle_s=0.3, max_cycle_s=2.0)
    right = wider[wider["side"] == "r"]
    assert list(right["status"]) == [MISSING_CONTACT, USED, USED, USED, MISSING_CONTACT]
    assert list(right["cycle"]) == [-1, 0, 1, 2, -1]
    np.testing.assert_allclose(right["duration_s"].iloc[1:4], 0.7)
    np.testing.assert_allclose(right["stance_pct"].iloc[1:4], 100 * 0.25 / 0.7)
    left = wider[wider["side"] == "l"]
    assert list(left["status"]) == [OUTSIDE_WINDOW, OUTSIDE_WINDOW]
    longer = gait_cycles(table, window_start_s=0.0, window_end_s=3.5, min_cycle_s=0.3, max_cycle_s=2.0)
    assert longer[longer["side"] == "l"]["status"].iloc[0] == IMPLAUSIBLE_DURATION  # 2.15 s: a contact missed


def test_no_toe_off_between_strikes_is_a_missing_contact():
    table = contacts("r", [(0.1, np.nan), (0.8, 1.0), (1.5, 1.7)])
    cycles = gait_cycles(table, window_start_s=0.0, window_end_s=2.0, min_cycle_s=0.3, max_cycle_s=2.0)
    assert list(cycles["status"]) == [MISSING_CONTACT, USED, MISSING_CONTACT]


def test_normalising_a_known_curve():
    time_s = np.linspace(2.0, 3.0, 37)  # an odd rate that does not land on percent steps
    values = 5.0 + 2.0 * (time_s - 2.2)  # linear: interpolation is exact
    curve = time_normalise(time_s, values, start_s=2.2, end_s=2.9)
    assert curve.shape == (101,)
    np.testing.assert_allclose(curve, 5.0 + 2.0 * 0.7 * PERCENT / 100, atol=1e-12)
    fine = np.linspace(0.0, 1.0, 2001)
    sine = time_normalise(fine, np.sin(2 * np.pi * fine), start_s=0.0, end_s=1.0)
    np.testing.assert_allclose(sine, np.sin(2 * np.pi * PERCENT / 100), atol=1e-5)
    assert np.argmax(sine) == 25


def test_normalise_table_keeps_column_names_and_adds_pct():
    table = pd.DataFrame({"time_s": [0.0, 1.0, 2.0], "a": [0.0, 1.0, 2.0], "b_deg": [10.0, 10.0, 10.0]})
    out = normalise_table(table, start_s=0.5, end_s=1.5)
    assert list(out.columns) == ["pct", "a", "b_deg"]
    assert out["a"].iloc[0] == pytest.approx(0.5) and out["a"].iloc[-1] == pytest.approx(1.5)


def test_a_cycle_outside_the_data_is_refused():
    with pytest.raises(ValueError, match="not inside the data"):
        time_normalise([0.0, 1.0], [0.0, 1.0], start_s=0.5, end_s=1.5)


def test_cycles_cut_by_the_record_edge_are_outside_a_window_the_record_outlasts():
    table = contacts("r", [(np.nan, 0.1), (0.5, 0.75), (1.2, 1.45)])
    kept = dict(window_start_s=0.3, window_end_s=1.5, min_cycle_s=0.3, max_cycle_s=2.0)
    inside = gait_cycles(table, **kept, record_start_s=0.4, record_end_s=1.5)
    assert list(inside["status"]) == [MISSING_CONTACT, USED, MISSING_CONTACT]
    outlasting = gait_cycles(table, **kept, record_start_s=0.0, record_end_s=1.8)
    assert list(outlasting["status"]) == [OUTSIDE_WINDOW, USED, OUTSIDE_WINDOW]
