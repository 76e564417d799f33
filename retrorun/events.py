"""Gait events from the vertical ground reaction force of one foot: foot strike and toe off.

Only the vertical force is read, so the direction of travel plays no part: a backward
trial is detected exactly as a forward one (detectors that read the anterior-posterior
force or centre of pressure assume forward progression and break on backward trials).
The force read here is the raw one (``grf.raw_contacts``): a low-pass filter at the
kinematics' cutoff smears the contact edges by tens of milliseconds. Each foot's force
comes from its own column of ``grf.csv``, as the external loads assigned plates to
feet, so a treadmill with two belts, overground plates or a single plate all look the
same here: a foot that never loads a plate simply has no contacts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTACT_COLUMNS = ["contact", "strike_s", "toe_off_s"]


def vertical_force_column(side: str) -> str:
    """The column of ``grf.csv`` holding ``side``'s vertical force (ground frame, Y up)."""
    return f"{side}_force_y_n"


def detect_contacts(time_s, vertical_force_n, *, threshold_n: float, min_contact_s: float = 0.0) -> pd.DataFrame:
    """Contacts of one foot: where the vertical force is at or above ``threshold_n``.

    Returns one row per contact with ``strike_s`` and ``toe_off_s``, each found by
    linear interpolation of the threshold crossing between samples. A contact already
    under way when the record starts has no strike (NaN); one still under way when it
    ends has no toe off (NaN). Contacts shorter than ``min_contact_s`` are dropped as
    noise (a spike while the foot is in the air).
    """
    time_s = np.asarray(time_s, dtype=float)
    force = np.asarray(vertical_force_n, dtype=float)
    if time_s.ndim != 1 or force.shape != time_s.shape:
        raise ValueError(
            f"time_s and vertical_force_n must be 1-D and of equal length, got {time_s.shape} and {force.shape}"
        )
    if threshold_n <= 0:
        raise ValueError(f"threshold_n must be > 0 N, got {threshold_n}")
    if min_contact_s < 0:
        raise ValueError(f"min_contact_s must be >= 0 s, got {min_contact_s}")
    if time_s.size and np.any(np.diff(time_s) <= 0):
        raise ValueError("time_s must increase strictly")
    # a missing sample (NaN) counts as unloaded: no contact can be made up from it
    loaded = np.nan_to_num(force, nan=0.0) >= threshold_n
    rows = []
    if loaded.any():
        edges = np.diff(loaded.astype(int))
        starts = list(np.flatnonzero(edges == 1) + 1)
        ends = list(np.flatnonzero(edges == -1))
        if loaded[0]:
            starts.insert(0, 0)
        if loaded[-1]:
            ends.append(len(loaded) - 1)
        for first, last in zip(starts, ends):
            strike = np.nan if first == 0 else _crossing(time_s, force, first - 1, first, threshold_n)
            toe_off = np.nan if last == len(loaded) - 1 else _crossing(time_s, force, last, last + 1, threshold_n)
            # the span measured with the samples when an edge is unknown
            span = (toe_off if np.isfinite(toe_off) else time_s[last]) - (
                strike if np.isfinite(strike) else time_s[first]
            )
            edge = first == 0 or last == len(loaded) - 1
            if span < min_contact_s and not edge:
                continue
            rows.append({"strike_s": strike, "toe_off_s": toe_off})
    table = pd.DataFrame(rows, columns=["strike_s", "toe_off_s"])
    table.insert(0, "contact", np.arange(len(table), dtype=int))
    return table


def _crossing(time_s: np.ndarray, force: np.ndarray, i: int, j: int, threshold_n: float) -> float:
    a, b = np.nan_to_num(force[[i, j]], nan=0.0)
    if a == b:
        return float(time_s[j])
    return float(time_s[i] + (threshold_n - a) / (b - a) * (time_s[j] - time_s[i]))


def detect_side_contacts(grf: pd.DataFrame, *, sides, threshold_n: float, min_contact_s: float = 0.0) -> pd.DataFrame:
    """Contacts of every side in a ``grf.csv`` table: columns side + CONTACT_COLUMNS.

    A side without a vertical force column (its foot is on no plate) has no contacts.
    """
    parts = []
    for side in sides:
        column = vertical_force_column(side)
        if column not in grf:
            continue
        contacts = detect_contacts(grf["time_s"], grf[column], threshold_n=threshold_n, min_contact_s=min_contact_s)
        contacts.insert(0, "side", side)
        parts.append(contacts)
    if not parts:
        return pd.DataFrame(columns=["side", *CONTACT_COLUMNS])
    return pd.concat(parts, ignore_index=True)
