"""Time the up-front check of one trial's EMG file (retrorun.emg.check_recording_file),
here and in another checkout.

    python tools/benchmark_emg_checks.py [--repeats 50] [--rounds 3] [--repo OTHER_CHECKOUT]
                                         [--data DIR] [--file EMG_FILE ...]

When Snakemake plans a study with EMG, every trial's EMG file is checked before any job
(retrorun/validation.py; remembered per file, so this is what a first `snakemake -n`
pays per trial): the file is read (read_emg) and checked against config emg over the
span its trial is analysed (analysed_bounds: the trial's TRC and GRF). This times that
call on:
- csv: a trial of the study tools/benchmark_scale.py --emg plans (the Hamner running
  recording, --data as there, with its generated envelope file: time_s and two channels
  at 1000 Hz, CSV);
- sto: the trial of config/examples/rajagopal-walk-emg (10 envelopes at 2 kHz, an
  OpenSim .sto, with its TRC and GRF);
- each --file: that EMG file (any format read_emg reads, e.g. a C3D with analog
  channels) in place of the csv trial's EMG file, with that trial's TRC and GRF.
Each checkout is timed in a fresh Python that imports retrorun from it (this checkout,
and OTHER_CHECKOUT given --repo, for instance the code before a change: `git worktree
add /tmp/old HEAD~1`), --repeats calls per file after one untimed call; the checkouts
take turns --rounds times, in alternating order, so that other work on the machine
slows both alike. Printed: the median and fastest milliseconds per call, the speed-up,
and whether both checkouts found the same problems and warnings.
"""

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EMG_EXAMPLE = REPO / "config" / "examples" / "rajagopal-walk-emg" / "config.yaml"
# loaded by path, as tests/test_planning_cost.py does: the study it plans (write_study)
_SPEC = importlib.util.spec_from_file_location("benchmark_scale", REPO / "tools" / "benchmark_scale.py")
benchmark_scale = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(benchmark_scale)

# Run in a fresh Python: argv = checkout, cases (JSON: name -> config, EMG file or null),
# repeats; prints JSON: name -> seconds per call, hash of (problems, warnings).
CHILD = """
import hashlib, json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from retrorun import emg
from retrorun.config import load_config, load_study
cases, repeats = json.loads(sys.argv[2]), int(sys.argv[3])
found = {"module": emg.__file__}
for name, (config, path) in cases.items():
    study = load_study(load_config(config))
    trial = study.trials[0]
    call = dict(path=Path(path) if path else emg.emg_source(trial, study.config), where=f"trial {trial.name}",
                settings=study.config["emg"], trial=trial)
    result = emg.check_recording_file(**call)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        emg.check_recording_file(**call)
        seconds.append(time.perf_counter() - start)
    digest = hashlib.sha256(json.dumps(result).encode()).hexdigest()
    found[name] = {"seconds": seconds, "digest": digest, "file": str(call["path"]), "problems": len(result[0])}
print(json.dumps(found))
"""


def time_checkout(checkout: Path, cases: dict, repeats: int) -> dict:
    """check_recording_file's timings on each case with retrorun imported from checkout."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), json.dumps(cases), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
    )
    found = json.loads(done.stdout)
    if not Path(found.pop("module")).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{checkout}: imported retrorun from elsewhere, not from the checkout")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per file and round (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="turns each checkout takes (default 3)")
    parser.add_argument("--repo", type=Path, help="another checkout of the repository, timed the same way")
    parser.add_argument("--data", type=Path, help="folder with the Hamner files (default: the example's)")
    parser.add_argument("--file", type=Path, action="append", default=[], help="another EMG file to time")
    args = parser.parse_args(argv)
    data = (args.data or benchmark_scale.default_data_dir()).resolve()
    checkouts = {"this checkout": REPO}
    if args.repo is not None:
        checkouts[f"--repo {args.repo}"] = args.repo.resolve()
    with tempfile.TemporaryDirectory(prefix="retrorun-emg-checks-") as scratch:
        config = str(benchmark_scale.write_study(Path(scratch) / "study", 2, data, emg=True))
        cases = {"csv": (config, None), "sto": (str(EMG_EXAMPLE), None)}
        cases |= {f"{path.suffix.lstrip('.')} {path.name}": (config, str(path.resolve())) for path in args.file}
        seconds = {(label, case): [] for label in checkouts for case in cases}
        digests = {case: set() for case in cases}
        files = {}
        for round_ in range(args.rounds):
            order = list(checkouts.items())
            for label, checkout in order if round_ % 2 == 0 else order[::-1]:
                found = time_checkout(checkout, cases, args.repeats)
                for case, values in found.items():
                    seconds[label, case] += values["seconds"]
                    digests[case].add(values["digest"])
                    files[case] = (Path(values["file"]).name, values["problems"])
    print(f"check_recording_file: {args.rounds} x {args.repeats} calls per file and checkout")
    for case in cases:
        name, problems = files[case]
        print(f"{case} ({name}; {problems} problem(s) found)")
        medians = {}
        for label, checkout in checkouts.items():
            ms = [s * 1e3 for s in seconds[label, case]]
            medians[label] = statistics.median(ms)
            print(f"  {label:<40} median {medians[label]:.2f} ms, fastest {min(ms):.2f} ms  ({checkout})")
        if args.repo is not None:
            here, other = medians.values()
            print(f"  speed-up (medians): {other / here:.2f}x")
            print(f"  same result: {'yes' if len(digests[case]) == 1 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
