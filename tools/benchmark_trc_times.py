"""Time retrorun.formats.read_trc_times on one TRC file, here and in another checkout.

    python tools/benchmark_trc_times.py MARKERS.trc [--repeats 200] [--rounds 3] [--repo OTHER_CHECKOUT]

read_trc_times runs once per trial when a study is planned (the up-front check of every
recording, retrorun/validation.py), so its cost is paid per trial by every first
`snakemake -n`. This reads MARKERS.trc --repeats times (after one untimed read) in a
fresh Python that imports retrorun from this checkout and, given --repo, in one that
imports it from OTHER_CHECKOUT (for instance the code before a change:
`git worktree add /tmp/old HEAD~1`), and prints for each the median and fastest
milliseconds per call. The checkouts take turns --rounds times, so that other work on
the machine slows both alike; the line "same result" says whether both read the same
header and bit-identical Time column.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run in a fresh Python: argv = checkout, TRC file, repeats; prints JSON.
CHILD = """
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
from retrorun import formats
path, repeats = sys.argv[2], int(sys.argv[3])
markers = formats.read_trc_times(path)
seconds = []
for _ in range(repeats):
    start = time.perf_counter()
    formats.read_trc_times(path)
    seconds.append(time.perf_counter() - start)
summary = json.dumps([markers.marker_names, markers.rate_hz, markers.header_units, markers.time_s.dtype.str])
digest = hashlib.sha256(summary.encode() + markers.time_s.tobytes()).hexdigest()
print(json.dumps({"module": formats.__file__, "seconds": seconds, "digest": digest, "frames": len(markers.time_s)}))
"""


def time_checkout(checkout: Path, trc: Path, repeats: int) -> dict:
    """read_trc_times' timings on trc with retrorun imported from checkout."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), str(trc), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    if not Path(found["module"]).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{checkout}: imported retrorun from {found['module']}, not from the checkout")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trc", type=Path, help="a TRC file")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="turns each checkout takes (default 3)")
    parser.add_argument("--repo", type=Path, help="another checkout of the repository, timed the same way")
    args = parser.parse_args(argv)
    checkouts = {"this checkout": REPO}
    if args.repo is not None:
        checkouts[f"--repo {args.repo}"] = args.repo
    seconds = {label: [] for label in checkouts}
    digests = {label: set() for label in checkouts}
    frames = 0
    for _ in range(args.rounds):
        for label, checkout in checkouts.items():
            found = time_checkout(checkout, args.trc, args.repeats)
            seconds[label] += found["seconds"]
            digests[label].add(found["digest"])
            frames = found["frames"]
    print(f"read_trc_times({args.trc}): {frames} frames, {args.rounds} x {args.repeats} calls per checkout")
    for label, checkout in checkouts.items():
        ms = [s * 1e3 for s in seconds[label]]
        print(f"  {label:<40} median {statistics.median(ms):.3f} ms, fastest {min(ms):.3f} ms  ({checkout})")
    if args.repo is not None:
        here, other = (seconds[label] for label in checkouts)
        print(f"  speed-up (medians): {statistics.median(other) / statistics.median(here):.2f}x")
        print(f"  same result: {'yes' if len(set().union(*digests.values())) == 1 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
