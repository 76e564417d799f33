"""Gait cycles (one foot strike to the next of the same foot) and time normalisation.

A cycle is kept (``status`` used) only when both its strikes and the toe off between
them were seen, it lies inside the analysis window (where SO activations exist) and
its duration is plausible; every other candidate is kept in the table with the reason,
so the QC can count what was skipped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

N_POINTS = 101  # 0, 1, ..., 100 % of the cycle
PERCENT = np.linspace(0.0, 100.0, N_POINTS)

USED = "used"
OUTSIDE_WINDOW = "outside_window"
MISSING_CONTACT = "missing_contact"
IMPLAUSIBLE_DURATION = "implausible_duration"
STATUSES = [USED, OUTSIDE_WINDOW, MISSING_CONTACT, IMPLAUSIBLE_DURATION]

CYCLE_COLUMNS = ["side", "cycle", "strike_s", "toe_off_s", "next_strike_s", "duration_s", "stance_pct", "status", "reason"]


def gait_cycles(contacts: pd.DataFrame, *, window_start_s: float, window_end_s: float, min_cycle_s: float,
                max_cycle_s: float, record_start_s: float | None = None, record_end_s: float | None = None,
                tolerance_s: float = 1e-6) -> pd.DataFrame:
    """Candidate cycles from ``detect_side_contacts`` output, one per contact with a strike.

    ``record_start_s``/``record_end_s`` (the GRF's time range), when given, tell a cycle
    cut by the record edge that must also cross the window edge (outside_window) from
    one that is truly missing a contact inside the window.

    ``cycle`` numbers the used cycles of a side from 0 (-1 for skipped candidates).
    ``stance_pct`` is toe off as a percentage of the cycle.
    """
    if window_end_s <= window_start_s:
        raise ValueError(f"window_end_s ({window_end_s}) must be after window_start_s ({window_start_s})")
    if not 0 < min_cycle_s < max_cycle_s:
        raise ValueError(f"need 0 < min_cycle_s < max_cycle_s, got {min_cycle_s} and {max_cycle_s}")
    rows = []
    for side, own in contacts.groupby("side", sort=False):
        own = own.sort_values("contact").reset_index(drop=True)
        used = 0
        for i, contact in own.iterrows():
            strike, toe_off = contact["strike_s"], contact["toe_off_s"]
            following = own["strike_s"].iloc[i + 1] if i + 1 < len(own) else np.nan
            row = {"side": side, "cycle": -1, "strike_s": strike, "toe_off_s": toe_off, "next_strike_s": following,
                   "duration_s": following - strike, "stance_pct": 100.0 * (toe_off - strike) / (following - strike)}
            status, reason = _classify(strike, toe_off, following, window_start_s - tolerance_s,
                                       window_end_s + tolerance_s, min_cycle_s, max_cycle_s,
                                       # unknown record edges prove nothing about the window
                                       np.inf if record_start_s is None else record_start_s,
                                       -np.inf if record_end_s is None else record_end_s)
            if not np.isfinite(strike) and i + 1 >= len(own):
                continue  # a lone contact cut by the record start begins no cycle at all
            row["status"], row["reason"] = status, reason
            if status == USED:
                row["cycle"] = used
                used += 1
            rows.append(row)
    return pd.DataFrame(rows, columns=CYCLE_COLUMNS)


def _classify(strike, toe_off, following, start, end, min_cycle_s, max_cycle_s, record_start,
              record_end) -> tuple[str, str]:
    # a strike the record does not hold happened before its start, a next strike after its end
    if not np.isfinite(strike):
        if (np.isfinite(following) and following < start) or record_start <= start:
            return OUTSIDE_WINDOW, f"the cycle began before the analysis window {start:.3f}-{end:.3f} s"
        return MISSING_CONTACT, "the contact was under way when the record started: no foot strike"
    if strike < start or strike > end or (np.isfinite(following) and following > end):
        return OUTSIDE_WINDOW, f"the cycle is not inside the analysis window {start:.3f}-{end:.3f} s"
    if not np.isfinite(following) and record_end >= end:
        return OUTSIDE_WINDOW, (f"no next foot strike of this foot up to the end of the GRF ({record_end:.3f} s): the cycle "
                                f"would end after the analysis window {start:.3f}-{end:.3f} s (or the foot left the plates)")
    if not np.isfinite(following):
        return MISSING_CONTACT, "no next foot strike of this foot in the record"
    if not np.isfinite(toe_off) or toe_off >= following:
        return MISSING_CONTACT, "no toe off between the two foot strikes"
    duration = following - strike
    if duration > max_cycle_s:
        return IMPLAUSIBLE_DURATION, f"{duration:.3f} s is longer than max_cycle_s {max_cycle_s} s (a contact missed?)"
    if duration < min_cycle_s:
        return IMPLAUSIBLE_DURATION, f"{duration:.3f} s is shorter than min_cycle_s {min_cycle_s} s"
    return USED, ""


def time_normalise(time_s, values, *, start_s: float, end_s: float, n_points: int = N_POINTS) -> np.ndarray:
    """``values`` (n,) or (n, k) sampled at ``time_s``, resampled at ``n_points`` instants
    evenly spaced from ``start_s`` to ``end_s`` (0-100 % of the cycle) by linear interpolation."""
    time_s = np.asarray(time_s, dtype=float)
    values = np.asarray(values, dtype=float)
    if time_s.ndim != 1 or values.shape[0] != time_s.size:
        raise ValueError(f"values must have one row per time sample ({time_s.size}), got shape {values.shape}")
    if time_s.size < 2 or np.any(np.diff(time_s) <= 0):
        raise ValueError("time_s needs at least 2 strictly increasing samples")
    if not end_s > start_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({start_s})")
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    slack = 1e-6 * max(1.0, abs(end_s))
    if start_s < time_s[0] - slack or end_s > time_s[-1] + slack:
        raise ValueError(f"the cycle {start_s:.4f}-{end_s:.4f} s is not inside the data {time_s[0]:.4f}-{time_s[-1]:.4f} s")
    instants = np.linspace(start_s, end_s, n_points)
    if values.ndim == 1:
        return np.interp(instants, time_s, values)
    return np.column_stack([np.interp(instants, time_s, values[:, k]) for k in range(values.shape[1])])


def normalise_table(table: pd.DataFrame, *, start_s: float, end_s: float, n_points: int = N_POINTS) -> pd.DataFrame:
    """Every column but ``time_s`` of ``table`` normalised to the cycle: a ``pct`` column first."""
    columns = [c for c in table.columns if c != "time_s"]
    data = time_normalise(table["time_s"].to_numpy(), table[columns].to_numpy(dtype=float),
                          start_s=start_s, end_s=end_s, n_points=n_points)
    out = pd.DataFrame(data, columns=columns)
    out.insert(0, "pct", np.linspace(0.0, 100.0, n_points))
    return out
