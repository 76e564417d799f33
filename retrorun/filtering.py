"""Low-pass filtering of kinematics and ground reaction forces.

One cutoff for both (Bisseling & Hof 2006, J Biomech 39:2438; Kristianslund, Krosshaug
& van den Bogert 2012, J Biomech 45:666): mismatched cutoffs create impact artefacts in
running joint moments. The filter is the common zero-lag Butterworth: 2nd order run
forwards and backwards.

``cutoff_hz`` (config ``filter_hz``) is the -3 dB point of the filter as applied. Each
pass attenuates, so the per-pass design cutoff is raised by Winter's correction for n
passes of a 2nd-order filter, C = (2^(1/n) - 1)^(1/4) (Winter 2009, Biomechanics and
Motor Control of Human Movement, 4th ed., ch. 3), taken on the bilinear transform's
pre-warped frequency axis, tan(pi f / rate): the two-pass gain is then exactly
1/sqrt(2) at ``cutoff_hz`` (a plain 2nd-order design at 12 Hz, run twice, is at -3 dB
at 9.7 Hz and at -6 dB at 12 Hz).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FILTER_ORDER = 2  # per pass
FILTER_PASSES = 2  # forwards and backwards (filtfilt): zero lag
WINTER_CORRECTION = (2 ** (1 / FILTER_PASSES) - 1) ** (1 / (2 * FILTER_ORDER))  # 0.802 for two passes
# The filter as the methods section states it (retrorun/methods.py), with the config's
# filter_hz for {cutoff_hz}: kept beside the code it describes, so they change together.
METHODS_DESCRIPTION = (
    f"a zero-lag Butterworth low-pass filter (order {FILTER_ORDER} run forwards and backwards, "
    f"{2 * FILTER_ORDER}th-order response; SciPy's filtfilt) with its cut-off at {{cutoff_hz:g}} Hz, the -3 dB "
    "point of the forward-backward response as applied (each pass designed at a higher cut-off, corrected for "
    "the two passes)"
)


def design_cutoff_hz(cutoff_hz: float, *, rate_hz: float) -> float:
    """The per-pass Butterworth design cutoff whose two-pass (filtfilt) response is at
    -3 dB at ``cutoff_hz``: tan(pi f_design / rate) = tan(pi cutoff / rate) / C."""
    if not 0 < cutoff_hz < rate_hz / 2:
        raise ValueError(f"cutoff_hz must be between 0 and the Nyquist frequency {rate_hz / 2:g} Hz, got {cutoff_hz}")
    return float(rate_hz / np.pi * np.arctan(np.tan(np.pi * cutoff_hz / rate_hz) / WINTER_CORRECTION))


def lowpass_coefficients(*, rate_hz: float, cutoff_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of one pass of the filter ``lowpass`` applies forwards and backwards: SciPy's
    ``butter(FILTER_ORDER, design_cutoff_hz, fs=rate_hz)``, computed the same way (the
    analog prototype's poles pre-warped and mapped by the bilinear transform), bit for bit."""
    design_hz = design_cutoff_hz(cutoff_hz, rate_hz=rate_hz)
    fs = 2.0  # SciPy designs on frequencies normalised to Nyquist = 1
    warped = 2 * fs * np.tan(np.pi * (2 * design_hz / rate_hz) / fs)
    m = np.arange(-FILTER_ORDER + 1, FILTER_ORDER, 2, dtype=np.float64)
    poles = warped * -np.exp(1j * np.pi * m / (2 * FILTER_ORDER))
    gain = warped**FILTER_ORDER * np.real(1.0 / np.prod(2 * fs - poles))
    b = gain * np.poly(-np.ones(FILTER_ORDER))
    a = np.poly((2 * fs + poles) / (2 * fs - poles))
    return np.real(b), np.real(a)


def lowpass(signal: np.ndarray, *, rate_hz: float, cutoff_hz: float) -> np.ndarray:
    """Zero-lag Butterworth low-pass along axis 0, -3 dB at ``cutoff_hz``; NaN-free input required.

    SciPy's ``filtfilt(b, a, signal, axis=0, padlen=...)`` (odd extension at both ends,
    each pass started in its steady state for the end value), bit for bit, in NumPy:
    importing scipy.signal costs about a second of CPU in every job that filters."""
    if cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be > 0, got {cutoff_hz}")
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
    signal = np.asarray(signal, dtype=float)
    if cutoff_hz >= rate_hz / 2:
        return signal.copy()  # nothing above Nyquist to remove
    b, a = lowpass_coefficients(rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    padlen = max(min(3 * max(len(a), len(b)) * 10, signal.shape[0] - 1), 0)
    columns = signal.reshape(signal.shape[0], -1)
    if padlen > 0:
        first, last = columns[:1], columns[-1:]
        columns = np.concatenate(
            (2 * first - columns[padlen:0:-1], columns, 2 * last - columns[-2 : -(padlen + 2) : -1])
        )
    steady = _steady_state(b, a)
    forward = _second_order_pass(b, a, columns, np.outer(steady, columns[0]))
    backward = _second_order_pass(b, a, forward[::-1], np.outer(steady, forward[-1]))[::-1]
    if padlen > 0:
        backward = backward[padlen:-padlen]
    return backward.reshape(signal.shape)


def _steady_state(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """SciPy's lfilter_zi: the filter's state after a long run of ones."""
    companion = np.zeros((len(a) - 1, len(a) - 1))
    companion[0] = -a[1:] / a[0]
    companion[1:, :-1] += np.eye(len(a) - 2)
    return np.linalg.solve(np.eye(len(a) - 1) - companion.T, b[1:] - a[1:] * b[0])


def _second_order_pass(b: np.ndarray, a: np.ndarray, columns: np.ndarray, state: np.ndarray) -> np.ndarray:
    """One pass of SciPy's lfilter (transposed direct form II) over each column from the
    given state (2 x columns), with its operations in its order, so the result is the
    same to the last bit; Python floats, not NumPy scalars, for speed."""
    b0, b1, b2 = (float(v) for v in b)
    a1, a2 = float(a[1]), float(a[2])
    out = np.empty_like(columns)
    for j in range(columns.shape[1]):
        z0, z1 = float(state[0, j]), float(state[1, j])
        filtered = []
        for x in columns[:, j].tolist():
            y = z0 + b0 * x
            z0 = z1 + x * b1 - y * a1
            z1 = x * b2 - y * a2
            filtered.append(y)
        out[:, j] = filtered
    return out


def sample_rate(time_s: np.ndarray) -> float:
    time_s = np.asarray(time_s, dtype=float)
    steps = np.diff(time_s)
    if len(steps) == 0 or np.any(steps <= 0):
        raise ValueError("time must increase strictly")
    # the mean rate: time columns are often rounded (600 Hz written as 0.0017 s steps)
    return (len(time_s) - 1) / float(time_s[-1] - time_s[0])


def on_uniform_grid(time_s: np.ndarray) -> np.ndarray:
    """The times of a record at one rate, put back on that rate's grid when the file
    rounded them (60 Hz written as 0.017, 0.033 s), if every time is within a quarter
    step of it; other times are returned as they are. The rate is the least-squares
    one, taken as a whole number of Hz when within 0.1 % of it (lab rates are, and the
    rounded last time would otherwise tilt the grid); the grid's origin is the first
    time moved by the median offset of all, which rounding leaves at zero."""
    time_s = np.asarray(time_s, dtype=float)
    if len(time_s) < 3:
        return time_s
    index = np.arange(len(time_s))
    rate = 1.0 / np.polyfit(index, time_s, 1)[0]
    if abs(rate - round(rate)) < 1e-3 * rate:
        rate = float(round(rate))
    origin = time_s[0] + np.median(time_s - time_s[0] - index / rate)
    grid = origin + index / rate
    return grid if np.abs(time_s - grid).max() < 0.25 / rate else time_s


def filter_table(table: pd.DataFrame, *, cutoff_hz: float, columns: list[str] | None = None) -> pd.DataFrame:
    """Filter the given columns (default: all but 'time') of a table with a 'time' column."""
    out = table.copy()
    columns = columns if columns is not None else [c for c in table.columns if c != "time"]
    if columns:
        rate = sample_rate(table["time"].to_numpy())
        out[columns] = lowpass(table[columns].to_numpy(dtype=float), rate_hz=rate, cutoff_hz=cutoff_hz)
    return out


def filter_plate(
    force: np.ndarray,
    point: np.ndarray,
    torque: np.ndarray,
    *,
    rate_hz: float,
    cutoff_hz: float,
    contact_threshold_n: float,
    vertical_axis: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Filter one plate's force, centre of pressure and free torque.

    Plate noise out of contact (raw vertical force below the threshold) is set to zero
    before filtering. The force is then filtered exactly like the kinematics and not cut
    back to zero at the contact edges afterwards: the filtered kinematics ramp into and
    out of each contact the same way, and cutting the force there leaves large residual
    forces in those frames (demo study, 2 subjects at 10 Hz: peak SO residual force
    7-19 % of peak GRF with the cut, 3.5-4.7 % without it).
    Only where filtering would make the plate pull on the foot is the load set to zero.
    The centre of pressure is undefined out of contact; it is held at the nearest contact
    value before filtering so the filter does not smear jumps into the stance phase.
    """
    contact = force[:, vertical_axis] >= contact_threshold_n
    force_f = lowpass(np.where(contact[:, None], force, 0.0), rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    torque_f = lowpass(np.where(contact[:, None], torque, 0.0), rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    point_held = point.copy()
    if contact.any():
        frames = np.arange(len(contact))
        contact_frames = frames[contact]
        after = np.searchsorted(contact_frames, frames)
        left = contact_frames[np.clip(after - 1, 0, len(contact_frames) - 1)]
        right = contact_frames[np.clip(after, 0, len(contact_frames) - 1)]
        nearest = np.where(np.abs(frames - left) <= np.abs(right - frames), left, right)
        point_held = point[nearest]
    point_f = lowpass(point_held, rate_hz=rate_hz, cutoff_hz=cutoff_hz)
    pulling = force_f[:, vertical_axis] <= 0.0
    force_f[pulling] = 0.0
    torque_f[pulling] = 0.0
    return force_f, point_f, torque_f
