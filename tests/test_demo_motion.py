"""The demo's motion synthesis: evaluating a periodic signal from its spectrum."""

import numpy as np
import pytest

from retrorun.demo.motion import _periodic_eval


@pytest.mark.parametrize("n", [600, 4000, 601])
def test_periodic_signal_is_reproduced_on_its_grid_and_between(n):
    """At the grid's own phases the evaluation gives back the sampled signal; between
    them it is the direct sum over harmonics (the trigonometric interpolant)."""
    rng = np.random.default_rng(n)
    signal = np.cumsum(np.cumsum(rng.normal(size=n)))
    signal -= np.linspace(0, 1, n, endpoint=False) * (signal[-1] - signal[0])  # nearly periodic
    spectrum = np.fft.rfft(signal)
    on_grid = _periodic_eval(spectrum, np.arange(n) / n, n)
    assert np.abs(on_grid - signal).max() <= 1e-11 * np.abs(signal).max()

    phase = rng.uniform(0, 1, 300)
    k = np.arange(len(spectrum))
    weights = np.where((k == 0) | ((n % 2 == 0) & (k == n // 2)), 1.0, 2.0)
    direct = (np.exp(2j * np.pi * np.outer(phase, k)) * (weights * spectrum)).real.sum(axis=1) / n
    assert np.abs(_periodic_eval(spectrum, phase, n) - direct).max() <= 1e-11 * np.abs(signal).max()
