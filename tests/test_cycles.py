"""Time normalisation of cycles (which cycles are analysed: test_cycle_plan.py)."""

import numpy as np
import pandas as pd
import pytest

from retrorun.cycles import PERCENT, normalise_table, time_normalise


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
