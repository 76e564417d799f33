"""Cubic interpolating splines: SciPy's CubicSpline with natural and not-a-knot ends,
to rounding, in a few lines of NumPy, because importing scipy.interpolate costs
0.3-0.4 s of CPU in every job that would use it (the fast SO's external loads, the
residual step's COM velocity)."""

from __future__ import annotations

import numpy as np


def tridiagonal_solve(lower: np.ndarray, diagonal: np.ndarray, upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """u with lower[i] u[i-1] + diagonal[i] u[i] + upper[i] u[i+1] = rhs[i] for every row i
    (lower[0] and upper[-1] unused); rhs one column or several (rows x columns). The Thomas
    algorithm: no pivoting, for the well-conditioned systems of spline knots."""
    diagonal, rhs = np.array(diagonal, dtype=float), np.array(rhs, dtype=float)
    for i in range(1, len(diagonal)):  # forward elimination
        factor = lower[i] / diagonal[i - 1]
        diagonal[i] -= factor * upper[i - 1]
        rhs[i] -= factor * rhs[i - 1]
    u = np.zeros_like(rhs)
    u[-1] = rhs[-1] / diagonal[-1]
    for i in range(len(diagonal) - 2, -1, -1):  # back substitution
        u[i] = (rhs[i] - upper[i] * u[i + 1]) / diagonal[i]
    return u


def natural_cubic_spline(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The natural cubic interpolating spline through (x, y[:, j]) for every column j,
    at ``at``; beyond x's ends it goes on straight (a natural spline's second
    derivative is zero there), as OpenSim's GCVSpline does: the fast SO's external
    loads between their samples."""
    h = np.diff(x)
    slopes = np.diff(y, axis=0) / h[:, None]
    # second derivatives m, zero at both ends
    n = len(x)
    m = np.zeros_like(y, dtype=float)
    if n > 2:
        lower, upper = np.concatenate(([0.0], h[1:-1])), np.concatenate((h[1:-1], [0.0]))
        m[1:-1] = tridiagonal_solve(lower, 2 * (h[:-1] + h[1:]), upper, 6 * (slopes[1:] - slopes[:-1]))
    inside = np.clip(at, x[0], x[-1])
    k = np.clip(np.searchsorted(x, inside, side="right") - 1, 0, n - 2)
    left, right = (inside - x[k])[:, None], (x[k + 1] - inside)[:, None]
    width = h[k][:, None]
    values = (
        (m[k] * right**3 + m[k + 1] * left**3) / (6 * width)
        + (y[k] / width - m[k] * width / 6) * right
        + (y[k + 1] / width - m[k + 1] * width / 6) * left
    )
    start_slope, end_slope = slopes[0] - h[0] * m[1] / 6, slopes[-1] + h[-1] * m[-2] / 6
    before, after = at < x[0], at > x[-1]
    values[before] += (at[before] - x[0])[:, None] * start_slope
    values[after] += (at[after] - x[-1])[:, None] * end_slope
    return values


def not_a_knot_derivative(x: np.ndarray, y: np.ndarray):
    """The derivative of the not-a-knot cubic spline through (x, y) (SciPy's default
    CubicSpline), as a function of one time (beyond the ends, the end pieces go on);
    x increasing, 4 points or more."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n, dx = len(x), np.diff(x)
    slope = np.diff(y) / dx
    # the knots' first derivatives s: a tridiagonal system
    lower, diagonal, upper, rhs = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    lower[1:-1], diagonal[1:-1], upper[1:-1] = dx[1:], 2 * (dx[:-1] + dx[1:]), dx[:-1]
    rhs[1:-1] = 3 * (dx[1:] * slope[:-1] + dx[:-1] * slope[1:])
    # not-a-knot: the third derivative is continuous at the second and the last-but-one knot
    first, last = x[2] - x[0], x[-1] - x[-3]
    diagonal[0], upper[0] = dx[1], first
    rhs[0] = ((dx[0] + 2 * first) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / first
    lower[-1], diagonal[-1] = last, dx[-2]
    rhs[-1] = (dx[-1] ** 2 * slope[-2] + (2 * last + dx[-1]) * dx[-2] * slope[-1]) / last
    s = tridiagonal_solve(lower, diagonal, upper, rhs)
    c2 = (slope - s[:-1]) / dx - (s[:-1] + s[1:] - 2 * slope) / dx
    c3 = (s[:-1] + s[1:] - 2 * slope) / dx**2

    def derivative(at: float) -> float:
        k = int(np.clip(np.searchsorted(x, at, side="right") - 1, 0, n - 2))
        t = at - x[k]
        return float(3 * c3[k] * t**2 + 2 * c2[k] * t + s[k])

    return derivative
