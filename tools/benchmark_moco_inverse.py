"""MocoInverse (static_optimization.solver: moco_inverse) on one gait cycle.

    python tools/benchmark_moco_inverse.py [--threads 1 2] [--rigid] [--keep DIR]
    python tools/benchmark_moco_inverse.py --trial results/<study>/trials/<subject>/<trial> [--threads 1 2]
    python tools/benchmark_moco_inverse.py --trial ... --set mesh_interval_s=0.04 --set active_force_width_scale=1.5

Without --trial: builds the demo's planar model and one synthetic forward-running
subject (as the workflow's synthetic study does), the SO model (reserves, residuals) and
external loads, and solves its first right cycle (foot strike to foot strike,
coordinates at the marker rate). With --trial: a trial the workflow has processed (any
solver; e.g. the Hamner example): its SO model (so_chunks/0-of-*/work/so_model.osim),
the coordinates SO read (RRA's if the trial has them, else IK's), its external loads,
and its first used cycle (cycles.csv). The solve uses the default settings (compliant
triceps surae; --rigid: rigid tendons everywhere), each thread count in its own process. Prints per solve: IPOPT's
status, iterations and objective, wall and CPU time, peak memory (max RSS of the solving
process), and the per-muscle Pearson r against the fast SO on the same frames. The
machine is shared: CPU time is the steadier figure, wall time shows what the threads buy.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def default_settings() -> dict:
    """The config's defaults of static_optimization.moco_inverse (the schema's)."""
    from retrorun.config import config_schema

    properties = config_schema("static_optimization", "moco_inverse")["properties"]
    return {key: spec["default"] for key, spec in properties.items()}


def parse_overrides(pairs: list[str]) -> dict:
    """KEY=VALUE pairs (VALUE read as YAML) checked against the schema's settings."""
    import yaml

    known = default_settings()
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise SystemExit(f"--set {pair}: expected KEY=VALUE with KEY one of {sorted(known)}")
        overrides[key] = yaml.safe_load(value)
    return overrides


def build(root: Path) -> dict:
    import pandas as pd

    from retrorun.demo import subjects as demo_subjects

    truth = demo_subjects.sample_trial(root, params_dir=REPO / "models" / "retrorun_planar", so_model=True)
    contacts = pd.read_csv(truth["forward_1/contacts"])
    strikes = contacts[contacts["side"] == "r"]["strike_s"].to_numpy()
    return {
        "so_model_path": str(truth["so_model"]),
        "coordinates_mot": str(truth["forward_1/coordinates_sampled_mot"]),
        "external_loads_xml": str(truth["external_loads"]),
        "time_range": [float(strikes[0]), float(strikes[1])],
    }


def from_trial(folder: Path) -> dict:
    """The case of a cycle the workflow has processed (see the module docstring)."""
    import pandas as pd

    models = sorted(folder.glob("so_chunks/0-of-*/work/so_model.osim"))
    if not models:
        raise SystemExit(f"{folder}: no so_chunks/0-of-*/work/so_model.osim (run the workflow's SO on it first)")
    coordinates = folder / "rra_kinematics.mot"
    if not coordinates.exists():
        coordinates = folder / "ik.mot"
    cycles = pd.read_csv(folder / "cycles.csv")
    used = cycles[cycles["status"] == "used"].sort_values(["start_s"])
    if used.empty:
        raise SystemExit(f"{folder}/cycles.csv: no used cycle")
    first = used.iloc[0]
    id_forces = folder / "id_after_reduction.csv"
    return {
        "so_model_path": str(models[0]),
        "coordinates_mot": str(coordinates),
        "external_loads_xml": str(folder / "external_loads.xml"),
        "time_range": [float(first["start_s"]), float(first["end_s"])],
        # for QC's saturation and reserve share of both solvers
        "actuators_csv": str(models[0].parents[1] / "so_actuators.csv"),
        "id_forces_csv": str(id_forces if id_forces.exists() else folder / "id_generalized_forces.csv"),
    }


def solve_once(case_file: str, threads: int, rigid: bool, out_file: str, overrides: dict) -> None:
    """One solve in this process (run as a child, so max RSS is this solve's alone)."""
    import numpy as np

    from retrorun import fast_so, moco_inverse, opensim_log

    case = json.loads(Path(case_file).read_text())
    settings = default_settings()
    settings.update(threads=threads, compliant_tendons=[] if rigid else settings["compliant_tendons"])
    settings.update(overrides)
    common = {k: case[k] for k in ("so_model_path", "coordinates_mot", "external_loads_xml")}
    window = tuple(case["time_range"])
    with opensim_log.quiet_console():
        wall, cpu = time.time(), time.process_time()
        activation, force, status = moco_inverse.solve(
            **common,
            time_range=window,
            settings=settings,
            activation_exponent=2,
            sides=["_r", "_l"],
            work_dir=str(Path(out_file).parent / f"work_{threads}_{int(rigid)}"),
        )
        wall, cpu = time.time() - wall, time.process_time() - cpu
        fast, fast_force, problem = fast_so.static_optimization(
            **common, time_range=window, activation_exponent=2, subject="S01", trial="forward_1"
        )
    muscles = [a for a, m in zip(problem.actuators, problem.is_muscle) if m]
    folder = Path(out_file).parent
    tag = f"{threads}_{int(rigid)}"
    for name, table in (("moco_activation", activation), ("moco_force", force), ("fast_activation", fast)):
        table.to_csv(folder / f"{name}_{tag}.csv", index=False)
    fast_force.to_csv(folder / f"fast_force_{tag}.csv", index=False)
    r = {}
    for muscle in muscles:
        a, b = activation[muscle].to_numpy(), fast[muscle].to_numpy()
        if a.std() > 1e-3 and b.std() > 1e-3:
            r[muscle] = round(float(np.corrcoef(a, b)[0, 1]), 3)
    result = {
        "threads": threads,
        "rigid": rigid,
        "overrides": overrides,
        "cycle_s": window[1] - window[0],
        "frames": len(activation),
        "wall_s": wall,
        "cpu_s": cpu,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "status": status["status"],
        "iterations": status["iterations"],
        "objective": status["objective"],
        "r_per_muscle": r,
        "median_r": float(np.median(list(r.values()))),
        "muscles": muscles,
    }
    Path(out_file).write_text(json.dumps(result, indent=2))


def quality(root: Path, tag: str, case: dict, muscles: list[str]) -> dict[str, dict]:
    """QC's saturated-frame share (activation >= 0.95, as qc.saturation_activation's
    default) and peak reserve share of the ID moment (qc.reserves), and the mean and peak
    over the window of the example configs' quadriceps and hamstrings (plain means of
    each side's muscles, where the model has them), for both solvers."""
    import pandas as pd

    from retrorun import qc, tables

    actuators = pd.read_csv(case["actuators_csv"])
    id_forces = pd.read_csv(case["id_forces_csv"])
    rotational = dict(zip(actuators["name"], actuators["rotational"]))
    groups = {
        "quadriceps": ["rect_fem", "vas_med", "vas_int", "vas_lat"],
        "hamstrings": ["semimem", "semiten", "bifemlh"],
    }
    figures = {}
    for solver in ("fast", "moco"):
        activation = pd.read_csv(root / f"{solver}_activation_{tag}.csv").rename(columns={"time": "time_s"})
        force = tables.forces_table(
            pd.read_csv(root / f"{solver}_force_{tag}.csv"), muscles=muscles, rotational_actuators=rotational
        )
        row = qc.saturation(activation[["time_s", *muscles]], level=0.95)
        row |= qc.reserves(force, actuators, id_forces)
        for group, names in groups.items():
            for side in ("_r", "_l"):
                columns = [n + side for n in names if n + side in activation]
                if len(columns) == len(names):
                    mean = activation[columns].mean(axis=1)
                    row[f"{group}{side}_mean"] = round(float(mean.mean()), 3)
                    row[f"{group}{side}_peak"] = round(float(mean.max()), 3)
        figures[solver] = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--rigid", action="store_true", help="rigid tendons everywhere")
    parser.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    parser.add_argument("--trial", type=Path, help="a processed trial's folder (results/<study>/trials/<s>/<t>)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a static_optimization.moco_inverse setting other than its default (YAML value), repeatable",
    )
    parser.add_argument("--solve-once", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solve_once:
        case_file, threads, rigid, out_file, overrides = args.solve_once
        solve_once(case_file, int(threads), rigid == "1", out_file, json.loads(overrides))
        return
    overrides = parse_overrides(args.set)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="moco_inverse_bench_"))
    root.mkdir(parents=True, exist_ok=True)
    case_file = root / "case.json"
    case = from_trial(args.trial.resolve()) if args.trial else build(root)
    case_file.write_text(json.dumps(case))
    for threads in args.threads:
        out_file = root / f"result_{threads}.json"
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--solve-once",
                str(case_file),
                str(threads),
                str(int(args.rigid)),
                str(out_file),
                json.dumps(overrides),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(out_file.read_text())
        print(
            f"threads {threads} {overrides or ''}: {result['status']} in {result['iterations']} iterations, objective "
            f"{result['objective']:.4g}; cycle {result['cycle_s']:.3f} s ({result['frames']} frames): wall "
            f"{result['wall_s']:.1f} s, CPU {result['cpu_s']:.1f} s, max RSS {result['max_rss_mb']:.0f} MB"
        )
        print(f"  r vs fast SO: median {result['median_r']:.2f}; {result['r_per_muscle']}")
        if "actuators_csv" in case:
            for solver, figures in quality(root, f"{threads}_{int(args.rigid)}", case, result["muscles"]).items():
                print(f"  {solver}: {figures}")


if __name__ == "__main__":
    main()
