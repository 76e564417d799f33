"""How well static optimization's activations agree with measured EMG envelopes, per
channel and per muscle group, over a trial's cycles of one side.

- ``r_mean_cycle``: Pearson r between the two mean cycles (0-100 %);
  ``r_cycle_median``: the median over cycles of each cycle's r.
- ``lag_ms``: the shift of the EMG curve (within +- ``emg.max_lag_s``) that maximises
  r on the mean cycle, positive when the EMG leads SO, as it does by the
  electromechanical delay (tens of ms; Cavanagh & Komi 1979, Eur J Appl Physiol 42:159);
  the mean cycle is treated as periodic for the shift. ``r_at_lag`` is r at that shift.
- ``on_off_agreement_pct``: the share of the mean cycle where both are on or both off,
  each "on" above ``emg.on_threshold`` of its own mean cycle's range (minimum to
  maximum), so SO's activation floor and the EMG's baseline do not matter. Hodges & Bui
  1996 (Electroencephalogr Clin Neurophysiol 101:511) showed onsets shift with the
  threshold and the envelope's low-pass: the same rule is applied to both curves here.

Pearson r ignores scale and offset, so the EMG's normalisation does not change r.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import cycle_plan as plan
from . import emg as emg_lib

COLUMNS = [
    "subject",
    "condition",
    "trial",
    "side",
    "kind",
    "name",
    "so_muscles",
    "n_cycles",
    "r_mean_cycle",
    "r_cycle_median",
    "lag_ms",
    "r_at_lag",
    "on_off_agreement_pct",
]


def pearson_r(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def best_of(reference, candidates: np.ndarray) -> tuple[int, float] | None:
    """(index, r) of the row of ``candidates`` whose pearson_r with ``reference`` is largest
    (the first such row), or None where no row has a finite r. Each row's r is estimated
    for all rows in one array operation; pearson_r then decides among the rows within
    1e-9 of the largest estimate (rounding moves an estimate by about 1e-15), so the
    answer is that of pearson_r on every row (a lag search compares hundreds of rows)."""
    reference = np.asarray(reference, dtype=float)
    if reference.size < 3:  # pearson_r has no r for so few points
        return None
    centred = candidates - candidates.mean(axis=1, keepdims=True)
    own = reference - reference.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = (centred @ own) / np.sqrt((centred**2).sum(axis=1) * (own @ own))
    if not np.isfinite(estimate).any():
        close = range(len(candidates))
    else:
        close = np.flatnonzero(estimate >= np.nanmax(estimate) - 1e-9)
    best = None
    for index in close:
        r = pearson_r(reference, candidates[index])
        if np.isfinite(r) and (best is None or r > best[1]):
            best = (int(index), r)
    return best


def best_lag(pct, so, emg, *, duration_s: float, max_lag_s: float, step_s: float = 0.001) -> tuple[float, float]:
    """(lag in s, r there): the periodic shift of ``emg`` within +- ``max_lag_s`` that
    maximises its r with ``so`` (the first, from the most negative); positive lag: EMG leads."""
    pct, so, emg = (np.asarray(v, dtype=float) for v in (pct, so, emg))
    period = pct[-1] - pct[0]
    lags = np.arange(-max_lag_s, max_lag_s + step_s / 2, step_s)
    shifts = 100.0 * lags / duration_s
    shifted = np.interp((pct[None, :] - shifts[:, None]).ravel(), pct, emg, period=period).reshape(len(lags), -1)
    best = best_of(so, shifted)
    return (float(lags[best[0]]), best[1]) if best else (float("nan"), float("nan"))


def on_off_agreement_pct(so, emg, *, threshold: float) -> float:
    """% of samples where both curves are on, or both off (each against its own range)."""

    def on(values):
        values = np.asarray(values, dtype=float)
        low, high = np.min(values), np.max(values)
        return values > low + threshold * (high - low)

    if np.ptp(so) == 0 or np.ptp(emg) == 0:
        return float("nan")
    return float(100.0 * np.mean(on(so) == on(emg)))


def compare_curves(
    pct, so_cycles: np.ndarray, emg_cycles: np.ndarray, *, duration_s: float, settings: dict
) -> dict[str, float]:
    """The agreement measures of (cycles x points) SO and EMG curves of one side."""
    so_mean, emg_mean = so_cycles.mean(axis=0), emg_cycles.mean(axis=0)
    lag, r_lag = best_lag(pct, so_mean, emg_mean, duration_s=duration_s, max_lag_s=settings["max_lag_s"])
    return {
        "n_cycles": int(so_cycles.shape[0]),
        "r_mean_cycle": pearson_r(so_mean, emg_mean),
        "r_cycle_median": float(np.nanmedian([pearson_r(a, b) for a, b in zip(so_cycles, emg_cycles)])),
        "lag_ms": 1000.0 * lag,
        "r_at_lag": r_lag,
        "on_off_agreement_pct": on_off_agreement_pct(so_mean, emg_mean, threshold=settings["on_threshold"]),
    }


def _by_cycle(values: pd.Series, cycle: pd.Series) -> np.ndarray:
    """(cycles x points) from a long column of one side's cycle curves."""
    return np.array([part.to_numpy(dtype=float) for _, part in values.groupby(cycle)])


def trial_agreement(
    info: dict, curves: pd.DataFrame, cycles: pd.DataFrame, *, settings: dict, groups, sides
) -> pd.DataFrame:
    """One row per side and channel, and per side and group with an electrode, of one
    trial (``curves``: its cycle_curves.csv with SO's and EMG's columns)."""
    rows = []
    used = cycles[cycles["status"] == plan.USED]
    for side in sides:
        own = curves[curves["side"] == side]
        durations = used.loc[used["side"] == side, "duration_s"]
        if own.empty or durations.empty:
            continue
        pct = own.loc[own["cycle"] == own["cycle"].iloc[0], "pct"].to_numpy(dtype=float)

        pairs = []
        for channel, muscles in settings["channels"].items():
            column = emg_lib.channel_column(channel)
            if emg_lib.channel_side(muscles, sides) != side or column not in own or own[column].isna().all():
                continue
            if not all(m in own for m in muscles):
                continue
            pairs.append(("channel", channel, " ".join(muscles), own[muscles].mean(axis=1), own[column]))
        for group in groups:
            column = emg_lib.group_curve_column(group)
            if column in own and own[column].notna().all():
                pairs.append(("group", group, f"{group} (analysis)", own[f"{group}_activation"], own[column]))
        for kind, name, so_muscles, so, emg in pairs:
            found = compare_curves(
                pct,
                _by_cycle(so, own["cycle"]),
                _by_cycle(emg, own["cycle"]),
                duration_s=float(durations.mean()),
                settings=settings,
            )
            rows.append(
                {"subject": info["subject"], "condition": info["condition"], "trial": info["trial"], "side": side}
                | {"kind": kind, "name": name, "so_muscles": so_muscles}
                | found
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def channel_curves(trials: list[tuple[dict, pd.DataFrame]], *, settings: dict, sides) -> pd.DataFrame:
    """Long table for the figure: channel, condition, pct, so and emg of every used cycle
    of every trial (the channel's side only; SO is the mean of the electrode's muscles)."""
    parts = []
    for info, curves in trials:
        for channel, muscles in settings["channels"].items():
            column = emg_lib.channel_column(channel)
            own = curves[curves["side"] == emg_lib.channel_side(muscles, sides)]
            if column not in own or own.empty or not all(m in own for m in muscles):
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "channel": channel,
                        "condition": info["condition"],
                        "pct": own["pct"],
                        "so": own[muscles].mean(axis=1),
                        "emg": own[column],
                    }
                ).dropna()
            )
    columns = ["channel", "condition", "pct", "so", "emg"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def figure(curves: pd.DataFrame, *, compare: list[str]):
    """One panel per channel: the EMG envelope (normalised) over SO's activation, mean +- SD
    over all cycles, per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    channels = list(dict.fromkeys(curves["channel"])) or ["(no EMG)"]
    columns = min(3, len(channels))
    rows = int(np.ceil(len(channels) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False, sharex=True)
    styles = {compare[-1]: "--", compare[0]: "-"}  # one condition compared with itself: solid
    for axis, channel in zip(axes.flat, channels):
        own = curves[curves["channel"] == channel]
        for condition in dict.fromkeys(compare):
            cond = own[own["condition"] == condition]
            if cond.empty:
                continue
            for source, colour in (("so", "tab:blue"), ("emg", "tab:red")):
                stats = cond.groupby("pct")[source].agg(["mean", "std"]).fillna(0.0)
                label = f"{'SO' if source == 'so' else 'EMG'} {condition}"
                axis.plot(stats.index, stats["mean"], styles.get(condition, "-"), color=colour, label=label)
                axis.fill_between(
                    stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=colour, alpha=0.15
                )
        axis.set_title(channel, fontsize=9)
        axis.set_xlabel("% cycle")
        axis.set_ylabel("activation / normalised EMG")
    for axis in list(axes.flat)[len(channels) :]:
        axis.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("EMG envelope (subject-normalised) over SO activation, mean ± SD over cycles")
    fig.tight_layout()
    return fig


def by_variant(main: pd.DataFrame, variants: dict[str, pd.DataFrame], *, main_name: str) -> pd.DataFrame:
    """tables/emg_agreement_sensitivity.csv: the main run's agreement rows and every
    sensitivity variant's, one block per variant (``variant`` first), so that a solver
    variant's agreement with the same EMG reads beside the main solver's; with
    ``r_change_vs_main``, the variant's r_mean_cycle minus the main run's on the same row
    (subject, trial, side, kind, name)."""
    key = ["subject", "trial", "side", "kind", "name"]
    frames = [main.assign(variant=main_name)] + [table.assign(variant=name) for name, table in variants.items()]
    table = pd.concat(frames, ignore_index=True)
    table[key] = table[key].astype(str)
    reference = table.loc[table["variant"] == main_name, [*key, "r_mean_cycle"]].drop_duplicates(key)
    table = table.merge(reference.rename(columns={"r_mean_cycle": "main_r"}), on=key, how="left")
    table["r_change_vs_main"] = table["r_mean_cycle"].astype(float) - table["main_r"].astype(float)
    return table[["variant", *COLUMNS, "r_change_vs_main"]]
