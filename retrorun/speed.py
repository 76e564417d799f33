"""Running speed of each analysed cycle, trial and subject, and the subjects whose
conditions were not run at a matched speed.

Overground, a cycle's speed is the horizontal distance the pelvis travels over it
divided by its duration, from IK's root translations (``analysis.speed_coordinates``,
ground X and Z in OpenSim's Y-up frame). The distance is the magnitude of the
displacement, so a runner facing -X runs as fast as one facing +X. On a treadmill the
pelvis stays put: the trials sheet's ``speed_m_s`` (the belt's) is the speed instead.
Knee moments and muscle activations both grow with speed, so a forward-backward
difference means little where a subject ran one condition faster than the other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPEED = "speed_m_s"
# below this the pelvis stays put (slower than any gait studied: walking starts about
# 0.5 m/s): a treadmill, whose belt speed the trials sheet must give
MIN_OVERGROUND_SPEED_M_S = 0.3


def overground_note(speed_m_s: float) -> str:
    """Why a pelvis speed is no running speed ("" when it is one)."""
    if not np.isfinite(speed_m_s):
        return "no pelvis translation of analysis.speed_coordinates in the IK: give speed_m_s in the trials sheet"
    if speed_m_s < MIN_OVERGROUND_SPEED_M_S:
        return (
            f"the pelvis moved at {speed_m_s:.2f} m/s over the cycle (a treadmill?): give the belt speed as "
            "speed_m_s in the trials sheet"
        )
    return ""


def cycle_speed_m_s(ik: pd.DataFrame, *, start_s: float, end_s: float, coordinates: list[str]) -> float:
    """Mean horizontal speed (m/s) of the pelvis from ``start_s`` to ``end_s``: the
    magnitude of its displacement in the named IK translations (``<name>_m``) over the
    duration; NaN when the IK has none of them."""
    columns = [f"{name}_m" for name in coordinates if f"{name}_m" in ik]
    if not columns or not end_s > start_s:
        return float("nan")
    time = ik["time_s"].to_numpy(dtype=float)
    displacement = [
        np.interp(end_s, time, ik[c].to_numpy(dtype=float)) - np.interp(start_s, time, ik[c].to_numpy(dtype=float))
        for c in columns
    ]
    return float(np.linalg.norm(displacement) / (end_s - start_s))


def trial_speed_m_s(cycle_metrics: pd.DataFrame) -> float:
    """A trial's speed over its analysed cycles: their total distance over their total
    time (``cycle`` rows ``speed_m_s`` and ``duration_s`` of cycle_metrics.csv)."""
    own = cycle_metrics[cycle_metrics["group"] == "cycle"].pivot_table(
        index=["side", "cycle"], columns="metric", values="value", aggfunc="first"
    )
    if own.empty or SPEED not in own or "duration_s" not in own:
        return float("nan")
    own = own[[SPEED, "duration_s"]].dropna()
    if own.empty:
        return float("nan")
    return float((own[SPEED] * own["duration_s"]).sum() / own["duration_s"].sum())


def speed_mismatches(subjects: pd.DataFrame, *, compare: list[str], max_difference: float) -> pd.DataFrame:
    """Subjects whose mean speed in the second compared condition differs from the first's
    by more than ``max_difference`` (a share of the first's): subject, both speeds, the
    relative difference and a note. ``subjects`` is analysis.subject_means' table."""
    columns = ["subject", f"{SPEED}_a", f"{SPEED}_b", "relative_difference", "note"]
    own = subjects[(subjects["group"] == "cycle") & (subjects["metric"] == SPEED)]
    wide = own.pivot_table(index="subject", columns="condition", values="mean", aggfunc="first")
    first, second = compare
    # a condition compared with itself (a one-condition study) has no speed to match
    if wide.empty or not set(compare) <= set(wide.columns) or first == second:
        return pd.DataFrame(columns=columns)
    wide = wide[[first, second]].dropna()
    relative = (wide[second] - wide[first]) / wide[first]
    flagged = relative[relative.abs() > max_difference]
    return pd.DataFrame(
        [
            {
                "subject": subject,
                f"{SPEED}_a": wide.loc[subject, first],
                f"{SPEED}_b": wide.loc[subject, second],
                "relative_difference": value,
                "note": (
                    f"{subject} ran {second} at {wide.loc[subject, second]:.2f} m/s and {first} at "
                    f"{wide.loc[subject, first]:.2f} m/s ({100 * value:+.1f} %, more than "
                    f"analysis.max_speed_difference {100 * max_difference:g} %): speeds not matched"
                ),
            }
            for subject, value in flagged.items()
        ],
        columns=columns,
    )
