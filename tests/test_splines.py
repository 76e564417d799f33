"""The splines retrorun evaluates itself (importing scipy.interpolate costs every job
0.3-0.4 s) are SciPy's CubicSpline."""

import numpy as np
import pytest

from retrorun.splines import natural_cubic_spline, not_a_knot_derivative, tridiagonal_solve


def test_natural_cubic_spline_is_scipys():
    """ExternalForce's GCV spline of degree 3 with zero error variance is the natural
    cubic interpolating spline; fast_so evaluates it itself (no scipy import per job)."""
    from scipy.interpolate import CubicSpline

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.uniform(0.5, 1.5, 300)) / 600  # uneven sampling
    y = rng.normal(size=(300, 3)) * 100
    at = np.concatenate([[x[0]], np.sort(rng.uniform(x[0], x[-1], 50)), [x[-1]]])
    assert natural_cubic_spline(x, y, at) == pytest.approx(CubicSpline(x, y, bc_type="natural")(at), abs=1e-10)
    # by hand: through (0,0) (1,1) (2,0) (3,1) (4,0), second derivatives 0, -30/7, 36/7, -30/7, 0
    assert natural_cubic_spline(np.arange(5.0), np.array([[0, 1, 0, 1, 0.0]]).T, np.array([0.5]))[
        0, 0
    ] == pytest.approx(43 / 56)


@pytest.mark.parametrize("n", [4, 5, 50, 3000])
@pytest.mark.parametrize("uniform", [True, False])
def test_not_a_knot_derivative_is_scipys(n, uniform):
    # the COM's vertical velocity of the residual step
    from scipy.interpolate import CubicSpline

    rng = np.random.default_rng(n)
    x = np.arange(n) / 100.0 if uniform else np.cumsum(rng.uniform(0.005, 0.02, n))
    y = 1.0 + 0.05 * np.sin(2 * np.pi * 2.7 * x) + 1e-3 * rng.standard_normal(n)
    expected, velocity = CubicSpline(x, y).derivative(), not_a_knot_derivative(x, y)
    # at the knots, between them and a frame beyond either end
    for at in [*x[:3], *x[-3:], *rng.uniform(x[0], x[-1], 20), x[0] - 0.01, x[-1] + 0.01]:
        assert velocity(at) == pytest.approx(float(expected(at)), rel=1e-12, abs=1e-12)


def test_tridiagonal_solve_one_and_several_columns():
    rng = np.random.default_rng(3)
    n = 7
    lower, upper = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, n)
    diagonal = 3 + rng.uniform(0, 1, n)
    matrix = np.diag(diagonal) + np.diag(lower[1:], -1) + np.diag(upper[:-1], 1)
    rhs = rng.normal(size=(n, 2))
    assert tridiagonal_solve(lower, diagonal, upper, rhs) == pytest.approx(np.linalg.solve(matrix, rhs), abs=1e-12)
    assert tridiagonal_solve(lower, diagonal, upper, rhs[:, 0]) == pytest.approx(
        np.linalg.solve(matrix, rhs[:, 0]), abs=1e-12
    )
