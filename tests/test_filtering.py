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


# ------------------------------------------------------------------------ band-pass (EMG)

RATES_HZ = [500.0, 1000.0, 1111.1, 2000.0, 2400.0, 4000.0]
NEAR_NYQUIST = "near Nyquist"  # (0.6, 0.998) of Nyquist
BANDS_HZ = [(20.0, 450.0), (10.0, 500.0), (30.0, 300.0), (5.0, 40.0), NEAR_NYQUIST]
# every rate with every band below its Nyquist frequency
RATE_BANDS = [
    (rate, (0.6 * rate / 2, 0.998 * rate / 2) if band == NEAR_NYQUIST else band)
    for rate in RATES_HZ
    for band in BANDS_HZ
    if band == NEAR_NYQUIST or band[1] < rate / 2
]


def padlen(order: int) -> int:
    """SciPy's default sosfiltfilt padding of an ``order``-section band-pass."""
    return 3 * (2 * order + 1)


@pytest.fixture(params=["python", "scipy"])
def path(request, monkeypatch):
    """Each filter call on the Python path or on SciPy's (filtering.PYTHON_FILTER_LIMIT)."""
    monkeypatch.setattr(filtering, "PYTHON_FILTER_LIMIT", float("inf") if request.param == "python" else 0)
    return request.param


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6, 8])
@pytest.mark.parametrize(("rate_hz", "band_hz"), RATE_BANDS)
def test_the_band_pass_design_is_scipys_butter_bit_for_bit(rate_hz, band_hz, order):
    from scipy.signal import butter

    expected = butter(order, list(band_hz), btype="bandpass", fs=rate_hz, output="sos")
    assert np.array_equal(filtering.bandpass_sos(order, band_hz, rate_hz=rate_hz), expected)


def test_a_band_outside_zero_to_nyquist_is_refused():
    for band in [(0.0, 100.0), (100.0, 50.0), (20.0, 250.0), (20.0, 300.0)]:
        with pytest.raises(ValueError, match="Nyquist frequency 250 Hz"):
            filtering.bandpass_sos(4, band, rate_hz=500.0)
    with pytest.raises(ValueError, match="order"):
        filtering.bandpass_sos(0, (20.0, 200.0), rate_hz=500.0)


def random_signals(shape, seed):
    """Three signals of one shape: white noise at a small, a unit and a large scale, and
    a random walk with an offset (a drifting baseline)."""
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal(shape) * 1e-5,
        rng.standard_normal(shape),
        rng.standard_normal(shape) * 3e4,
        rng.standard_normal(shape).cumsum(axis=0) + 250.0,
    ]


def shapes(order):
    """Lengths just above the padding, short and long; one column, 1-D and several columns."""
    n = padlen(order) + 1
    return [(n,), (n, 1), (n + 1, 3), (400,), (257, 4), (6_000,)]


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize(("rate_hz", "band_hz"), RATE_BANDS)
def test_sosfiltfilt_is_scipys_bit_for_bit(path, rate_hz, band_hz, order):
    from scipy.signal import butter, sosfiltfilt

    sos = butter(order, list(band_hz), btype="bandpass", fs=rate_hz, output="sos")
    for seed, shape in enumerate(shapes(order)):
        for signal in random_signals(shape, seed + int(rate_hz)):
            found = filtering.sosfiltfilt(sos, signal)
            assert np.array_equal(found, sosfiltfilt(sos, signal, axis=0)), (shape, path)


@pytest.mark.parametrize("order", [2, 4])
@pytest.mark.parametrize(("rate_hz", "band_hz"), RATE_BANDS)
def test_sosfilt_is_scipys_bit_for_bit_from_rest_and_from_a_state(path, rate_hz, band_hz, order):
    from scipy.signal import butter, sosfilt

    sos = butter(order, list(band_hz), btype="bandpass", fs=rate_hz, output="sos")
    rng = np.random.default_rng(int(rate_hz) + order)
    for seed, shape in enumerate([(1,), (2, 2), (90,), (257, 3), (6_000,)]):
        for signal in random_signals(shape, seed):
            assert np.array_equal(filtering.sosfilt(sos, signal), sosfilt(sos, signal, axis=0)), (shape, path)
            state = rng.standard_normal((order, 2, *shape[1:])) * np.std(signal)
            expected, _ = sosfilt(sos, signal, axis=0, zi=state)
            assert np.array_equal(filtering.sosfilt(sos, signal, initial=state), expected), (shape, path)


def test_both_paths_give_the_same_bits_on_a_long_recording(monkeypatch):
    # a minute of 2 kHz EMG-like noise on a drifting baseline, 4 channels
    sos = filtering.bandpass_sos(4, (20.0, 450.0), rate_hz=2000.0)
    rng = np.random.default_rng(7)
    signal = rng.standard_normal((120_000, 4)) * 0.3 + rng.standard_normal((120_000, 4)).cumsum(axis=0) * 1e-3
    found = {}
    for path, limit in (("python", float("inf")), ("scipy", 0)):
        monkeypatch.setattr(filtering, "PYTHON_FILTER_LIMIT", limit)
        found[path] = filtering.sosfiltfilt(sos, signal), filtering.sosfilt(sos, signal)
    assert all(np.array_equal(p, s) for p, s in zip(found["python"], found["scipy"]))


@pytest.mark.parametrize("order", [2, 4])
def test_a_signal_no_longer_than_the_padding_is_refused_as_scipy_refuses_it(path, order):
    from scipy.signal import sosfiltfilt

    sos = filtering.bandpass_sos(order, (20.0, 450.0), rate_hz=2000.0)
    for length in (1, padlen(order)):
        signal = np.ones((length, 2))
        with pytest.raises(ValueError, match="greater than padlen"):
            sosfiltfilt(sos, signal, axis=0)
        with pytest.raises(ValueError, match=f"{length} samples is too short .* more than {padlen(order)} samples"):
            filtering.sosfiltfilt(sos, signal)
    assert filtering.sosfiltfilt(sos, np.ones(padlen(order) + 1)).shape == (padlen(order) + 1,)


def test_the_python_path_is_taken_below_the_limit_and_scipy_above_it(monkeypatch):
    # the limit counts second-order-section updates: samples (with the padding) x columns
    # x sections x passes
    sos = filtering.bandpass_sos(4, (20.0, 450.0), rate_hz=2000.0)
    signal = np.random.default_rng(3).standard_normal((1000, 2))
    updates = 2 * 4 * (1000 + 2 * padlen(4)) * 2
    calls = []
    monkeypatch.setattr(filtering, "_sections_pass", lambda *args: calls.append(args) or args[1])
    monkeypatch.setattr(filtering, "PYTHON_FILTER_LIMIT", updates)
    filtering.sosfiltfilt(sos, signal)
    assert len(calls) == 2
    monkeypatch.setattr(filtering, "PYTHON_FILTER_LIMIT", updates - 1)
    filtering.sosfiltfilt(sos, signal)
    assert len(calls) == 2
