"""Time normalisation of a cycle (or stance): 0-100 % in 101 points.

Which cycles are analysed is decided in one place, ``cycle_plan``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_POINTS = 101  # 0, 1, ..., 100 % of the cycle
PERCENT = np.linspace(0.0, 100.0, N_POINTS)


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
        raise ValueError(
            f"the cycle {start_s:.4f}-{end_s:.4f} s is not inside the data {time_s[0]:.4f}-{time_s[-1]:.4f} s"
        )
    instants = np.linspace(start_s, end_s, n_points)
    if values.ndim == 1:
        return np.interp(instants, time_s, values)
    return np.column_stack([np.interp(instants, time_s, values[:, k]) for k in range(values.shape[1])])


def normalise_table(table: pd.DataFrame, *, start_s: float, end_s: float, n_points: int = N_POINTS) -> pd.DataFrame:
    """Every column but ``time_s`` of ``table`` normalised to the cycle: a ``pct`` column first."""
    columns = [c for c in table.columns if c != "time_s"]
    data = time_normalise(
        table["time_s"].to_numpy(),
        table[columns].to_numpy(dtype=float),
        start_s=start_s,
        end_s=end_s,
        n_points=n_points,
    )
    out = pd.DataFrame(data, columns=columns)
    out.insert(0, "pct", np.linspace(0.0, 100.0, n_points))
    return out
