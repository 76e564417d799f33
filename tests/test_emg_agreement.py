"""The lag searches of the EMG agreement (retrorun.emg_agreement.best_lag) and of the
demo's EMG truth check (retrorun.demo.emg.truth_rows) estimate every lag's r in one array
operation and let pearson_r decide among the best: their answers must be those of
pearson_r at every lag, one lag after another (the searches as they were written first)."""

import numpy as np
import pandas as pd
import pytest

from retrorun import emg_agreement
from retrorun.demo import emg as demo_emg
from retrorun.emg_agreement import pearson_r


def best_lag_lag_by_lag(pct, so, emg, *, duration_s, max_lag_s, step_s=0.001):
    pct, so, emg = (np.asarray(v, dtype=float) for v in (pct, so, emg))
    period = pct[-1] - pct[0]
    best = (float("nan"), -np.inf)
    for lag in np.arange(-max_lag_s, max_lag_s + step_s / 2, step_s):
        shifted = np.interp(pct - 100.0 * lag / duration_s, pct, emg, period=period)
        r = pearson_r(so, shifted)
        if np.isfinite(r) and r > best[1]:
            best = (float(lag), r)
    return best if np.isfinite(best[1]) else (float("nan"), float("nan"))


def curves(rng, kind, n=101):
    pct = np.linspace(0, 100, n)
    so = np.clip(np.sin(2 * np.pi * (pct / 100 + rng.random())) + 0.3 * rng.standard_normal(n), 0, None)
    emg = np.roll(so, rng.integers(-8, 9)) * rng.uniform(0.5, 3) + 0.05 * rng.standard_normal(n)
    if kind == "flat_emg":
        emg[:] = 0.2
    elif kind == "flat_so":
        so[:] = 0.1
    elif kind == "nan":
        emg[rng.integers(n)] = np.nan
    elif kind == "steps":  # plateaus: many lags tie
        so, emg = np.round(so * 2) / 2, np.round(emg * 2) / 2
    elif kind == "symmetric":  # r the same at +lag and -lag
        so = np.cos(2 * np.pi * pct / 100) + 1
        emg = so.copy()
    return pct, so, emg


@pytest.mark.parametrize("kind", ["plain", "flat_emg", "flat_so", "nan", "steps", "symmetric"])
def test_best_lag_is_the_lag_by_lag_search(kind):
    rng = np.random.default_rng(["plain", "flat_emg", "flat_so", "nan", "steps", "symmetric"].index(kind))
    for _ in range(40):
        pct, so, emg = curves(rng, kind)
        duration_s, max_lag_s = rng.uniform(0.5, 1.2), rng.choice([0.05, 0.1, 0.15])
        found = emg_agreement.best_lag(pct, so, emg, duration_s=duration_s, max_lag_s=max_lag_s)
        expected = best_lag_lag_by_lag(pct, so, emg, duration_s=duration_s, max_lag_s=max_lag_s)
        assert found == expected or (np.isnan(found).all() and np.isnan(expected).all())
        assert (kind in ("flat_emg", "flat_so", "nan")) == bool(np.isnan(found[1]))


def truth_rows_lag_by_lag(envelopes, activations, channels, cycles, max_lag_s):
    start, end = float(cycles["start_s"].min()), float(cycles["end_s"].max())
    truth = demo_emg.channel_envelopes(activations, channels)
    grid = np.arange(start, end, 0.002)
    rows = {}
    for channel in channels:
        true = np.interp(grid, truth["time_s"], truth[channel])
        lags = np.arange(-max_lag_s, max_lag_s + 1e-9, 0.002)
        rs = [pearson_r(true, np.interp(grid - lag, envelopes["time_s"], envelopes[channel])) for lag in lags]
        best = int(np.nanargmax(rs))
        rows[channel] = (1000.0 * lags[best], rs[best])
    return rows


def test_the_demos_emg_truth_lags_are_the_lag_by_lag_search():
    rng = np.random.default_rng(7)
    time_s = np.arange(0, 2.5, 0.01)
    activations = pd.DataFrame({"time_s": time_s})
    channels = {}
    for index, shape in enumerate(["smooth", "steps", "smooth", "symmetric"]):
        wave = np.clip(np.sin(2 * np.pi * (time_s / 0.7 + index / 4)), 0, None)
        if shape == "steps":
            wave = np.round(wave * 3) / 3
        elif shape == "symmetric":
            wave = np.cos(2 * np.pi * time_s / 0.8) + 1
        activations[f"m{index}"] = wave
        channels[f"c{index}"] = [f"m{index}"]
    envelope_time = np.arange(0.2, 2.3, 0.0005)
    envelopes = pd.DataFrame({"time_s": envelope_time})
    for index, channel in enumerate(channels):
        source = activations[f"m{index}"].to_numpy()
        envelopes[channel] = np.interp(envelope_time + 0.05, time_s, source) * 2 + 0.01 * rng.standard_normal(
            envelope_time.size
        ) * (index != 3)
    cycles = pd.DataFrame({"start_s": [0.5, 1.2], "end_s": [1.2, 1.9], "status": ["used", "used"]})
    rows = demo_emg.truth_rows(
        subject="S",
        trial="t",
        envelopes=envelopes,
        activations=activations,
        channels=channels,
        cycles=cycles,
        max_lag_s=0.15,
    )
    expected = truth_rows_lag_by_lag(envelopes, activations, channels, cycles, 0.15)
    assert {row["channel"]: (row["lag_ms"], row["r_at_lag"]) for row in rows} == expected
