"""filter_hz is the -3 dB point of the zero-lag low-pass as applied (two passes)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrorun import filtering
from retrorun.filtering import lowpass


def applied_gain_db(*, rate_hz: float, cutoff_hz: float, frequency_hz: float) -> float:
    """Gain (dB) of ``lowpass`` on a pure sine, measured by a least-squares fit of the
    sine's amplitude away from the record's ends."""
    time_s = np.arange(int(60 * rate_hz)) / rate_hz
    sine = np.sin(2 * np.pi * frequency_hz * time_s + 0.3)
    filtered = lowpass(sine, rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    middle = slice(len(time_s) // 4, 3 * len(time_s) // 4)
    basis = np.column_stack(
        [np.sin(2 * np.pi * frequency_hz * time_s[middle]), np.cos(2 * np.pi * frequency_hz * time_s[middle])]
    )
    amplitude_in = np.hypot(*np.linalg.lstsq(basis, sine[middle], rcond=None)[0])
    amplitude_out = np.hypot(*np.linalg.lstsq(basis, filtered[middle], rcond=None)[0])
    return float(20 * np.log10(amplitude_out / amplitude_in))


@pytest.mark.parametrize("rate_hz", [100.0, 120.0, 200.0, 250.0, 1000.0, 2000.0])
@pytest.mark.parametrize("cutoff_hz", [6.0, 12.0, 15.0, 20.0])
def test_gain_at_filter_hz_is_minus_3_db(rate_hz, cutoff_hz):
    assert applied_gain_db(rate_hz=rate_hz, cutoff_hz=cutoff_hz, frequency_hz=cutoff_hz) == pytest.approx(
        -3.01, abs=0.05
    )


def test_passband_and_stopband():
    # a zero-lag 4th-order response: flat well below the cutoff, -24 dB/octave beyond
    assert applied_gain_db(rate_hz=1000.0, cutoff_hz=12.0, frequency_hz=3.0) > -0.05
    assert applied_gain_db(rate_hz=1000.0, cutoff_hz=12.0, frequency_hz=48.0) < -40.0


def test_design_cutoff_is_winters_correction_at_high_rates():
    # far below Nyquist the pre-warp vanishes: f_design = f / 0.802 (Winter 2009)
    assert filtering.design_cutoff_hz(12.0, rate_hz=100000.0) == pytest.approx(12.0 / 0.8022, rel=1e-3)
    with pytest.raises(ValueError, match="Nyquist"):
        filtering.design_cutoff_hz(60.0, rate_hz=100.0)


@pytest.mark.parametrize("rate_hz", [60.0, 99.9, 100.0, 250.0, 1000.0, 2400.0])
@pytest.mark.parametrize("cutoff_hz", [3.0, 12.0, 0.45])  # 0.45: a share of Nyquist
@pytest.mark.parametrize("shape", [(2,), (5, 1), (91, 3), (500, 40), (5180, 3)])
def test_the_filter_is_scipys_filtfilt_bit_for_bit(rate_hz, cutoff_hz, shape):
    from scipy.signal import butter, filtfilt

    cutoff_hz = cutoff_hz * rate_hz if cutoff_hz < 1 else cutoff_hz
    b, a = filtering.lowpass_coefficients(rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    scipy_b, scipy_a = butter(
        filtering.FILTER_ORDER, filtering.design_cutoff_hz(cutoff_hz, rate_hz=rate_hz), fs=rate_hz
    )
    assert np.array_equal(b, scipy_b) and np.array_equal(a, scipy_a)
    signal = np.random.default_rng(len(shape) + shape[0]).standard_normal(shape).cumsum(axis=0) * 100
    padlen = min(3 * 3 * 10, shape[0] - 1)
    expected = filtfilt(scipy_b, scipy_a, signal, axis=0, padlen=padlen)
    assert np.array_equal(lowpass(signal, rate_hz=rate_hz, cutoff_hz=cutoff_hz), expected)


def test_filtering_does_not_import_scipy_signal():
    # a second of CPU in every job that filters (IK, GRF, the demo's error budget)
    script = (
        "import sys, numpy as np\n"
        "from retrorun.filtering import lowpass\n"
        "lowpass(np.ones((300, 2)), rate_hz=100.0, cutoff_hz=12.0)\n"
        "assert 'scipy.signal' not in sys.modules, 'scipy.signal imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[1])
