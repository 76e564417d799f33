"""Fast vs OpenSim inverse kinematics on the Hamner running trial (../shared/data).

    python tools/benchmark_fast_ik.py [--start 1.0] [--end 3.0] [--converged] [--out FILE.json]

Scales the Hamner model to subject02 (OpenSim's ScaleTool, as the pipeline does), turns the
running trial's markers to face the model's +X, then in this one process, on the same
frames, model, markers and IK tasks: OpenSim's InverseKinematicsTool at the pipeline's
accuracy (opensim_tools.IK_ACCURACY) and retrorun's fast solver (ik.solver: fast).
Prints CPU seconds (time.process_time: the machine is shared; model loading included) per
trial and per frame for each (the fast solver's model set-up also on its own), the
speedup, the RMS angle difference per coordinate (fast minus OpenSim), and both
solvers' marker RMS. With --converged also OpenSim's IK at
accuracy 1e-9, and the fast solver's difference from it. --out writes the figures as JSON.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import opensim as osim  # noqa: E402
from ik_cases import angle_differences, prepare_shared, rotational, run_both, shared_available  # noqa: E402

from retrorun import fast_ik, formats, opensim_tools  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=float, default=1.0)
    parser.add_argument("--end", type=float, default=3.0)
    parser.add_argument("--converged", action="store_true", help="also run OpenSim's IK at accuracy 1e-9")
    parser.add_argument("--out", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    if not shared_available("hamner"):
        sys.exit("../shared/data/hamner-run is absent: this benchmark reads the Hamner running trial there")
    osim.Logger.setLevelString("error")
    with tempfile.TemporaryDirectory() as scratch:
        case = prepare_shared("hamner", Path(scratch), (args.start, args.end))
        run = run_both(case)
        started = time.process_time()
        fast_ik.load_model(case["model"])  # the fast solver's fixed set-up, timed again on its own
        setup_cpu = time.process_time() - started
        frames = len(run["opensim"])
        kinds = rotational(case["model"])
        differences = angle_differences(run)
        figures = {
            "trial": f"hamner-run subject02_running {args.start:g}-{args.end:g} s",
            "frames": frames,
            "opensim_cpu_s": run["opensim_cpu_s"],
            "fast_cpu_s": run["fast_cpu_s"],
            "speedup": run["opensim_cpu_s"] / run["fast_cpu_s"],
            "fast_setup_cpu_s": setup_cpu,
            "opensim_marker_rms_mean_m": float(run["opensim_errors"]["marker_error_RMS"].mean()),
            "fast_marker_rms_mean_m": float(run["fast_errors"]["marker_error_RMS"].mean()),
            "rms_difference_per_coordinate": {k: round(float(v), 5) for k, v in differences.items()},
        }
        if args.converged:
            previous = opensim_tools.IK_ACCURACY
            opensim_tools.IK_ACCURACY = 1e-9
            started = time.process_time()
            opensim_tools.inverse_kinematics(
                model_path=str(case["model"]),
                trc=str(case["trc"]),
                task_set_file=str(case["tasks"]),
                time_range=case["time_range"],
                out_mot=str(case["root"] / "converged.mot"),
                work_dir=str(case["root"]),
                name="converged",
                subject="s",
                trial="t",
            )
            opensim_tools.IK_ACCURACY = previous
            figures["converged_opensim_cpu_s"] = time.process_time() - started
            converged = formats.read_storage(case["root"] / "converged.mot")[0]
            columns = [c for c in converged.columns if c != "time"]
            difference = run["fast"][columns].to_numpy() - converged[columns].to_numpy()
            figures["rms_difference_to_converged_max"] = float(np.sqrt((difference**2).mean(axis=0)).max())
    print(f"{figures['trial']}: {frames} frames, Hamner model scaled to subject02")
    per_frame = {solver: 1000 * figures[f"{solver}_cpu_s"] / frames for solver in ("opensim", "fast")}
    print(
        f"CPU per trial: OpenSim IK {figures['opensim_cpu_s']:.2f} s ({per_frame['opensim']:.1f} ms per frame), "
        f"fast IK {figures['fast_cpu_s']:.2f} s ({per_frame['fast']:.1f} ms per frame), {figures['speedup']:.1f}x"
    )
    print(
        f"  of which the fast solver's set-up (loading and checking the model): {setup_cpu:.2f} s; "
        f"per frame without it {1000 * (figures['fast_cpu_s'] - setup_cpu) / frames:.1f} ms"
    )
    print(
        f"marker RMS mean: OpenSim {figures['opensim_marker_rms_mean_m'] * 1000:.2f} mm, "
        f"fast {figures['fast_marker_rms_mean_m'] * 1000:.2f} mm"
    )
    print("RMS difference, fast minus OpenSim (deg; m for translations), every coordinate that moves:")
    for name, value in differences.items():
        if value > 0:
            print(f"  {name:20s} {value:8.4f} {'deg' if kinds.get(name) else 'm'}")
    if args.converged:
        print(
            f"OpenSim IK at accuracy 1e-9: {figures['converged_opensim_cpu_s']:.2f} s CPU; fast minus it, worst "
            f"coordinate RMS {figures['rms_difference_to_converged_max']:.4f}"
        )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
