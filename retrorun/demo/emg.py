"""Synthetic raw surface EMG for the demo, built from the TRUE activations (rule
demo_truth's static optimization on the true motion), so the EMG path can be judged
against a known answer.

Per channel (an electrode over one or more model muscles): the true activation of its
muscles (their mean) is the envelope; the electrode sees it ``ELECTROMECHANICAL_DELAY_S``
early (EMG leads the activation that produces force: Cavanagh & Komi 1979, Eur J Appl
Physiol 42:159, about 50 ms); it multiplies a band-limited Gaussian carrier (the
summed motor-unit action potentials, 20-450 Hz); an unknown gain (mV per unit
activation) and DC offset per channel, and white measurement noise are added. One
channel of one trial is flat (an electrode off): the pipeline must leave it out of that
trial and keep it elsewhere.

The true activations cover the truth's analysis window only; the recording holds their
edge values for ``EDGE_HOLD_S`` beyond it, so that it covers the span the pipeline
analyses (its detected cycles, one frame wider). Those margins lie outside every true
cycle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import filtering

RATE_HZ = 2000.0
SIDE = "r"  # the demo config's electrodes are on the right leg
ELECTROMECHANICAL_DELAY_S = 0.05
CARRIER_BAND_HZ = (20.0, 450.0)
GAIN_MV_RANGE = (0.2, 1.5)  # mV at full activation, per channel
OFFSET_MV_SD = 2.0  # DC offset of the amplifier, per channel
NOISE_SHARE = 0.05  # measurement noise RMS, share of the channel's gain
EDGE_HOLD_S = 0.3
FLAT_CHANNEL = {"subject": 0, "condition": "backward"}  # the first subject's backward trial loses one electrode


def channel_envelopes(activations: pd.DataFrame, channels: dict[str, list[str]]) -> pd.DataFrame:
    """time_s and each channel's true envelope: the mean true activation of its muscles."""
    out = pd.DataFrame({"time_s": activations["time_s"].to_numpy()})
    for channel, muscles in channels.items():
        out[channel] = activations[muscles].mean(axis=1).to_numpy()
    return out


def synthesize(
    activations: pd.DataFrame, channels: dict[str, list[str]], *, rng: np.random.Generator, flat: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw EMG in mV at RATE_HZ with time_s, per-channel parameters) from true activations."""
    truth = channel_envelopes(activations, channels)
    start, end = truth["time_s"].iloc[0] - EDGE_HOLD_S, truth["time_s"].iloc[-1] + EDGE_HOLD_S
    time_s = np.arange(round(start * RATE_HZ), round(end * RATE_HZ) + 1) / RATE_HZ
    sos = filtering.bandpass_sos(4, CARRIER_BAND_HZ, rate_hz=RATE_HZ)  # SciPy's butter, bit for bit
    raw = pd.DataFrame({"time_s": time_s})
    parameters = []
    for channel in channels:
        # the electrode sees at t the activation of t + delay (EMG leads)
        envelope = np.interp(time_s + ELECTROMECHANICAL_DELAY_S, truth["time_s"], truth[channel])
        carrier = filtering.sosfilt(sos, rng.standard_normal(time_s.size))
        carrier /= np.std(carrier)
        gain = rng.uniform(*GAIN_MV_RANGE)
        offset = rng.normal(0.0, OFFSET_MV_SD)
        noise = rng.normal(0.0, NOISE_SHARE * gain, time_s.size)
        raw[channel] = offset + gain * envelope * carrier + noise
        if channel == flat:
            raw[channel] = 0.0
        parameters.append(
            {"channel": channel, "gain_mv": gain, "offset_mv": offset, "flat": channel == flat}
            | {"delay_s": ELECTROMECHANICAL_DELAY_S, "noise_mv": NOISE_SHARE * gain}
        )
    return raw, pd.DataFrame(parameters)


def flat_channel(channels: dict[str, list[str]], *, subject_index: int, condition: str) -> str | None:
    """The channel that is flat in this trial (one trial of the study), or None."""
    if subject_index == FLAT_CHANNEL["subject"] and condition == FLAT_CHANNEL["condition"] and channels:
        return list(channels)[-1]
    return None


def truth_rows(
    *,
    subject: str,
    trial: str,
    envelopes: pd.DataFrame,
    activations: pd.DataFrame,
    channels: dict[str, list[str]],
    cycles: pd.DataFrame,
    max_lag_s: float,
) -> list[dict]:
    """Per channel: how the pipeline's envelope (emg_envelopes.csv) recovers the true
    activation over the true cycles: r as it is, and the lag (EMG leading) and r that
    best align them."""
    from ..emg_agreement import best_of, pearson_r

    used = cycles[cycles["status"] == "used"] if "status" in cycles else cycles
    start, end = float(used["start_s"].min()), float(used["end_s"].max())
    truth = channel_envelopes(activations, channels)
    grid = np.arange(start, end, 0.002)
    rows = []
    for channel in channels:
        if channel not in envelopes:
            rows.append(
                {"subject": subject, "trial": trial, "channel": channel, "note": "left out (flat in this trial)"}
            )
            continue
        true = np.interp(grid, truth["time_s"], truth[channel])
        times, envelope = envelopes["time_s"].to_numpy(), envelopes[channel].to_numpy()
        lags = np.arange(-max_lag_s, max_lag_s + 1e-9, 0.002)
        shifted = np.interp((grid[None, :] - lags[:, None]).ravel(), times, envelope).reshape(len(lags), -1)
        best, r_at_lag = best_of(true, shifted) or (None, float("nan"))
        rows.append(
            {
                "subject": subject,
                "trial": trial,
                "channel": channel,
                "r": pearson_r(true, np.interp(grid, times, envelope)),
                "lag_ms": float("nan") if best is None else 1000.0 * lags[best],
                "true_lag_ms": 1000.0 * ELECTROMECHANICAL_DELAY_S,
                "r_at_lag": r_at_lag,
                "note": "",
            }
        )
    return rows


# A priori expectations for emg_truth.csv, set before the demo was run: the processing
# must recover each envelope's shape (r >= 0.9 once aligned), the electromechanical
# delay within 20 ms, and the sign of every forward-backward change.
MIN_R = 0.9
LAG_TOLERANCE_MS = 20.0


def difference_rows(
    emg_subjects: pd.DataFrame, truth_metrics: pd.DataFrame, *, outcomes: list[str], compare: list[str], side: str
) -> list[dict]:
    """Per outcome: the forward-backward relative change (b / a - 1, mean over subjects)
    from the pipeline's EMG (subjects.csv, source emg) and from the true activations
    (the truth's cycle metrics of the electrodes' ``side``). Relative, because EMG is in
    normalised units and the truth in activation."""
    first, second = compare
    rows = []
    truth = truth_metrics[truth_metrics["side"] == side]
    truth = truth.groupby(["subject", "condition", "group", "metric"])["value"].mean().reset_index(name="mean")
    for outcome in outcomes:
        group, _, metric = outcome.partition(".")
        if not ((emg_subjects["group"] == group) & (emg_subjects["metric"] == metric)).any():
            continue  # not an activation outcome (knee moment): SO's only
        changes = {}
        for name, table in (("emg", emg_subjects), ("truth", truth)):
            own = table[(table["group"] == group) & (table["metric"] == metric)]
            wide = own.pivot_table(index="subject", columns="condition", values="mean")
            if first in wide and second in wide:
                paired = wide[[first, second]].dropna()
                changes[name] = float((paired[second] / paired[first] - 1.0).mean())
        emg_change, true_change = changes.get("emg", np.nan), changes.get("truth", np.nan)
        rows.append(
            {
                "subject": "all",
                "trial": f"{second}-{first}",
                "channel": outcome,
                "check": "relative_change_sign",
                "emg": emg_change,
                "truth": true_change,
                "pass": bool(np.sign(emg_change) == np.sign(true_change)) if np.isfinite(emg_change) else False,
            }
        )
    return rows


def judged_channel_rows(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        if "r_at_lag" not in row:
            out.append(row | {"check": "flat_channel_left_out", "pass": True})
            continue
        passed = row["r_at_lag"] >= MIN_R and abs(row["lag_ms"] - row["true_lag_ms"]) <= LAG_TOLERANCE_MS
        out.append(row | {"check": "envelope_vs_true_activation", "pass": bool(passed)})
    return out
