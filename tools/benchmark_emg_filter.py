"""Time the EMG band-pass (retrorun.filtering.sosfiltfilt) on its Python path against
importing scipy.signal and running SciPy's compiled sosfiltfilt, to set the crossover
between them (retrorun.filtering.PYTHON_FILTER_LIMIT).

    python tools/benchmark_emg_filter.py [--rate 2000] [--seconds 1 5 20 60 300 600] [--repeats 3]

Each figure is the CPU time of one call in a fresh Python that has imported NumPy, pandas
and retrorun.filtering (as a job has): the Python path with the limit lifted, and
``import scipy.signal`` plus SciPy's sosfiltfilt; one channel of raw EMG at ``--rate``
through the EMG's band-pass (retrorun.emg: order 4, 20-450 Hz, forwards and backwards),
the median of ``--repeats`` processes. Printed per length: both times, the Python path's
cost per second-order-section update, and the updates at which one call breaks even.
Then one demo trial's envelopes (2.15 s at 2000 Hz, 4 channels, retrorun.emg.raw_to_envelope)
as the code does them and as they were done with SciPy (butter and sosfiltfilt, the
import included), both checked to give the same bits.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PREAMBLE = """
import json, time
import numpy as np, pandas
from retrorun import emg, filtering
sos = filtering.bandpass_sos(emg.FILTER_ORDER, (20.0, 450.0), rate_hz={rate})
raw = np.random.default_rng(0).standard_normal({samples})
"""

PYTHON_PATH = """
filtering.PYTHON_FILTER_LIMIT = float("inf")
start = time.process_time()
filtering.sosfiltfilt(sos, raw)
print(json.dumps(time.process_time() - start))
"""

SCIPY_PATH = """
start = time.process_time()
from scipy import signal
signal.sosfiltfilt(sos, raw, axis=0)
print(json.dumps(time.process_time() - start))
"""

DEMO_TRIAL = """
import json, time
import numpy as np, pandas
from retrorun import emg, filtering
channels = np.random.default_rng(1).standard_normal((4, round(2.15 * 2000))) * 0.5 + 1.0
start = time.process_time()
new = [emg.raw_to_envelope(c, rate_hz=2000.0, band_pass_hz=(20, 450), low_pass_hz=6.0) for c in channels]
new_s = time.process_time() - start
start = time.process_time()
from scipy import signal
old = []
for c in channels:
    sos = signal.butter(emg.FILTER_ORDER, [20, 450], btype="bandpass", fs=2000.0, output="sos")
    band = signal.sosfiltfilt(sos, c - np.mean(c))
    old.append(np.clip(filtering.lowpass(np.abs(band), rate_hz=2000.0, cutoff_hz=6.0), 0.0, None))
old_s = time.process_time() - start
print(json.dumps([new_s, old_s, all(np.array_equal(a, b) for a, b in zip(new, old))]))
"""


def run(code: str):
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, nargs="+", default=[1, 5, 20, 60, 300, 600])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from retrorun import emg, filtering

    sections = len(filtering.bandpass_sos(emg.FILTER_ORDER, (20.0, 450.0), rate_hz=args.rate))
    padlen = 3 * (2 * sections + 1)
    print(f"one channel at {args.rate:g} Hz, order-{emg.FILTER_ORDER} band-pass forwards and backwards; CPU s")
    print(f"{'s':>6} {'updates':>10} {'python':>8} {'import+scipy':>13} {'ns/update':>10} {'break-even updates':>19}")
    for seconds in args.seconds:
        samples = round(seconds * args.rate)
        preamble = PREAMBLE.format(rate=args.rate, samples=samples)
        python_s = statistics.median(run(preamble + PYTHON_PATH) for _ in range(args.repeats))
        scipy_s = statistics.median(run(preamble + SCIPY_PATH) for _ in range(args.repeats))
        updates = 2 * sections * (samples + 2 * padlen)
        per_update = python_s / updates
        print(
            f"{seconds:6g} {updates:10d} {python_s:8.3f} {scipy_s:13.3f} {1e9 * per_update:10.0f} "
            f"{scipy_s / per_update:19.3g}"
        )
    results = [run(DEMO_TRIAL) for _ in range(args.repeats)]
    new_s, old_s = (statistics.median(r[i] for r in results) for i in (0, 1))
    same = all(r[2] for r in results)
    print(
        f"demo trial (2.15 s at 2000 Hz, 4 channels), raw_to_envelope: {new_s:.3f} s now, {old_s:.3f} s with "
        f"SciPy (import included); same bits: {same}"
    )


if __name__ == "__main__":
    main()
