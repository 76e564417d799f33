"""Metrics of one gait cycle from time-normalised curves (0-100 % of the cycle).

Means over a phase are time averages (trapezoidal integral over the phase divided by
its length), the phase boundary interpolated, so they do not depend on how many
samples fall in the phase.

Activation curves reach these functions already above each muscle's floor (the model's
``min_control``, static optimization's lower bound; ``groups.above_floor``): 0 means the
group is silent, not 0.01.

Co-contraction index (CCI): Falconer & Winter 1985 (Electromyogr Clin Neurophysiol
25:135-149), the common area of the two curves over their total area,
``CCI = 200 * integral(min(a, b)) / integral(a + b)`` in %: 0 % when only one group is
active, 100 % when both are equally active throughout.
"""

from __future__ import annotations

import numpy as np

ACTIVATION_METRICS = [
    "mean_cycle",
    "mean_stance",
    "mean_swing",
    "integrated_s",
    "integrated_stance_s",
    "peak",
    "peak_timing_pct",
]
# Mean activation above the floor under which a group counts as silent over a phase: a
# tenth of the 0.01 floor itself, far above SO's convergence noise (about 1e-6) and far
# below any activation a muscle group is reported for.
SILENT_ACTIVATION = 1e-3
PAIR_METRICS = [
    "quadriceps_share_cycle",
    "quadriceps_share_stance",
    "ratio_mean_cycle",
    "ratio_mean_stance",
    "cci_cycle_pct",
    "cci_stance_pct",
]
# the first and second group of the quadriceps-hamstrings pair, as named in its metrics
QH_NAMES = ("quadriceps", "hamstrings")
KNEE_METRICS = ["peak_extension_moment_nm_per_kg", "peak_extension_moment_timing_pct_stance"]
CYCLE_METRICS = ["duration_s", "stance_pct", "speed_m_s"]


def _check(pct: np.ndarray, values: np.ndarray) -> None:
    if pct.ndim != 1 or values.shape != pct.shape or pct.size < 2:
        raise ValueError(f"pct and values must be 1-D of equal length >= 2, got {pct.shape} and {values.shape}")
    if np.any(np.diff(pct) <= 0):
        raise ValueError("pct must increase strictly")


def phase_mean(pct, values, *, start_pct: float, end_pct: float) -> float:
    """Time average of ``values`` between ``start_pct`` and ``end_pct`` (linear between samples)."""
    pct, values = np.asarray(pct, dtype=float), np.asarray(values, dtype=float)
    _check(pct, values)
    if not pct[0] <= start_pct < end_pct <= pct[-1]:
        raise ValueError(f"the phase {start_pct}-{end_pct} % must lie in {pct[0]}-{pct[-1]} % and be non-empty")
    inside = (pct > start_pct) & (pct < end_pct)
    x = np.concatenate([[start_pct], pct[inside], [end_pct]])
    y = np.interp(x, pct, values)
    return float(np.trapezoid(y, x) / (end_pct - start_pct))


def activation_metrics(pct, activation, *, stance_pct: float, cycle_s: float) -> dict[str, float]:
    """Mean over cycle, stance (0 to toe off) and swing, integral over the cycle (activation
    x s), peak and its timing (% cycle) of one activation curve."""
    pct, activation = np.asarray(pct, dtype=float), np.asarray(activation, dtype=float)
    _check(pct, activation)
    if not pct[0] < stance_pct < pct[-1]:
        raise ValueError(f"stance_pct must lie inside the cycle ({pct[0]}-{pct[-1]} %), got {stance_pct}")
    if cycle_s <= 0:
        raise ValueError(f"cycle_s must be > 0 s, got {cycle_s}")
    mean_cycle = phase_mean(pct, activation, start_pct=pct[0], end_pct=pct[-1])
    mean_stance = phase_mean(pct, activation, start_pct=pct[0], end_pct=stance_pct)
    peak_at = int(np.argmax(activation))
    return {
        "mean_cycle": mean_cycle,
        "mean_stance": mean_stance,
        "mean_swing": phase_mean(pct, activation, start_pct=stance_pct, end_pct=pct[-1]),
        "integrated_s": mean_cycle * cycle_s,
        # the subject's Q:H is the ratio of these summed over its cycles (analysis.subject_means)
        "integrated_stance_s": mean_stance * cycle_s * (stance_pct - pct[0]) / (pct[-1] - pct[0]),
        "peak": float(activation[peak_at]),
        "peak_timing_pct": float(pct[peak_at]),
    }


def stance_activation_metrics(pct, activation, *, stance_s: float) -> dict[str, float]:
    """The stance measures of ``activation_metrics`` for a curve normalised 0-100 % of one
    stance (analysis.unit stance): mean and integral over the stance, peak and its timing."""
    pct, activation = np.asarray(pct, dtype=float), np.asarray(activation, dtype=float)
    _check(pct, activation)
    if stance_s <= 0:
        raise ValueError(f"stance_s must be > 0 s, got {stance_s}")
    mean_stance = phase_mean(pct, activation, start_pct=pct[0], end_pct=pct[-1])
    peak_at = int(np.argmax(activation))
    return {
        "mean_stance": mean_stance,
        "integrated_stance_s": mean_stance * stance_s,
        "peak": float(activation[peak_at]),
        "peak_timing_pct": float(pct[peak_at]),
    }


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; NaN when the denominator group is silent (mean activation
    above its floor under ``SILENT_ACTIVATION``): a ratio to nothing is undefined, not huge."""
    return float(numerator / denominator) if denominator >= SILENT_ACTIVATION else float("nan")


def share(part: float, other: float) -> float:
    """part / (part + other), bounded 0-1: defined whenever either group is active (their
    summed mean activation above the floor at least ``SILENT_ACTIVATION``), so a silent
    hamstrings group gives 1, not an undefined or huge ratio."""
    total = part + other
    return float(part / total) if total >= SILENT_ACTIVATION else float("nan")


def cocontraction_index_pct(pct, a, b, *, start_pct: float, end_pct: float) -> float:
    """Falconer & Winter 1985 co-contraction index (%) of curves ``a`` and ``b`` over a phase."""
    pct, a, b = (np.asarray(v, dtype=float) for v in (pct, a, b))
    _check(pct, a)
    _check(pct, b)
    common = phase_mean(pct, np.minimum(a, b), start_pct=start_pct, end_pct=end_pct)
    total = phase_mean(pct, a + b, start_pct=start_pct, end_pct=end_pct)
    return 200.0 * common / total if total > 0 else float("nan")


def pair_metrics(
    pct, first, second, *, stance_pct: float, notes: dict | None = None, names: tuple[str, str] = QH_NAMES
) -> dict[str, float]:
    """Share of the first group F / (F + S) and ratio F / S of mean activation over cycle
    and stance, and the CCI, of two group curves; ``names`` (first, second) name the
    groups in the metric names and notes (``quadriceps_share_stance``). ``notes``, when
    given, receives metric name -> why its value is NaN."""
    pct = np.asarray(pct, dtype=float)
    first_name, second_name = names
    f_cycle = phase_mean(pct, first, start_pct=pct[0], end_pct=pct[-1])
    s_cycle = phase_mean(pct, second, start_pct=pct[0], end_pct=pct[-1])
    f_stance = phase_mean(pct, first, start_pct=pct[0], end_pct=stance_pct)
    s_stance = phase_mean(pct, second, start_pct=pct[0], end_pct=stance_pct)
    share_cycle, share_stance = f"{first_name}_share_cycle", f"{first_name}_share_stance"
    if notes is not None:
        for name, s in (("ratio_mean_cycle", s_cycle), ("ratio_mean_stance", s_stance)):
            if not s >= SILENT_ACTIVATION:
                notes[name] = (
                    f"{second_name} at their activation floor over the {name.rsplit('_', 1)[1]} (mean {s:.2g} "
                    f"above it, under {SILENT_ACTIVATION:g}): the ratio is undefined"
                )
        for name, f, s in ((share_cycle, f_cycle, s_cycle), (share_stance, f_stance, s_stance)):
            if not f + s >= SILENT_ACTIVATION:
                notes[name] = (
                    f"{first_name} and {second_name} both at their activation floor over the "
                    f"{name.rsplit('_', 1)[1]}: the share is undefined"
                )
    return {
        share_cycle: share(f_cycle, s_cycle),
        share_stance: share(f_stance, s_stance),
        "ratio_mean_cycle": ratio(f_cycle, s_cycle),
        "ratio_mean_stance": ratio(f_stance, s_stance),
        "cci_cycle_pct": cocontraction_index_pct(pct, first, second, start_pct=pct[0], end_pct=pct[-1]),
        "cci_stance_pct": cocontraction_index_pct(pct, first, second, start_pct=pct[0], end_pct=stance_pct),
    }


def exceeds_pct(pct, above, below, *, start_pct: float, end_pct: float) -> float:
    """Share (%) of the phase in which curve ``above`` is higher than ``below``, the curves
    linear between samples (each crossing interpolated, so the answer does not move in
    steps of one sample). Where both are silent (equal) neither exceeds: the rear chain
    "takes over" only where it is actually more active."""
    pct, above, below = (np.asarray(v, dtype=float) for v in (pct, above, below))
    _check(pct, above)
    _check(pct, below)
    if not pct[0] <= start_pct < end_pct <= pct[-1]:
        raise ValueError(f"the phase {start_pct}-{end_pct} % must lie in {pct[0]}-{pct[-1]} % and be non-empty")
    inside = (pct > start_pct) & (pct < end_pct)
    x = np.concatenate([[start_pct], pct[inside], [end_pct]])
    d = np.interp(x, pct, above) - np.interp(x, pct, below)
    total = 0.0
    for x0, x1, d0, d1 in zip(x[:-1], x[1:], d[:-1], d[1:]):
        if d0 > 0 and d1 > 0:
            total += x1 - x0
        elif d0 > 0 or d1 > 0:  # one crossing: the positive part of the segment
            total += (x1 - x0) * max(d0, d1) / abs(d1 - d0)
    return 100.0 * total / (end_pct - start_pct)


def knee_extension_peak(
    pct, extension_moment_nm_per_kg, *, stance_pct: float, notes: dict | None = None
) -> dict[str, float]:
    """Peak knee extension moment in stance (N·m/kg) and its timing (% of stance), to hold
    against Roos et al. 2012 (J Biomech 45:1656; forward and backward running at matched
    speed). A stance maximum that is not positive is no extension peak (usually a wrong
    knee sign): both values are NaN and ``notes`` (when given) says why."""
    pct, moment = np.asarray(pct, dtype=float), np.asarray(extension_moment_nm_per_kg, dtype=float)
    _check(pct, moment)
    stance = pct <= stance_pct
    if not stance.any():
        raise ValueError(f"no sample in stance (0-{stance_pct} %)")
    at = int(np.argmax(np.where(stance, moment, -np.inf)))
    if not moment[at] > 0:
        if notes is not None:
            reason = (
                f"no positive knee extension moment in stance (largest {moment[at]:.3g} N·m/kg): check the knee "
                "coordinate's sign (analysis.knee_extension_sign)"
            )
            notes |= dict.fromkeys(KNEE_METRICS, reason)
        return dict.fromkeys(KNEE_METRICS, float("nan"))
    return {
        "peak_extension_moment_nm_per_kg": float(moment[at]),
        "peak_extension_moment_timing_pct_stance": float(100.0 * pct[at] / stance_pct),
    }
