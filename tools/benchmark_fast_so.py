"""Fast vs OpenSim static optimization, side by side on the shared running and walking data.

    python tools/benchmark_fast_so.py [--hamner-end 3.7] [--repeat 2] [--keep DIR]

For the Hamner running trial (92 muscles) and the gait2392 walking trial (92 muscles)
from ../shared/data, runs the workflow's trial (residual reduction none) in a scratch folder, then
in this one process, on the same frames of the trial's analysis window: OpenSim's
StaticOptimization (AnalyzeTool) and retrorun's fast solver. Prints

- CPU time (time.process_time: the machine is shared, wall time is noisy; wall time
  is printed too) of each, per frame, the fast solver's per-frame parts and its fixed
  set-up (model loading, external-load and kinematics splines) shown separately and amortised
  over the window's frames, and the speedup counting everything;
- agreement: per-muscle mean and max |activation difference|, the muscle + reserve
  (+ residual) generalized forces against inverse dynamics (worst coordinate, as a
  share of its peak ID moment), frames with a saturated muscle, and peak reserve
  shares, for both solvers;
- the QP libraries' CPU per frame on the same QPs.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrorun import fast_so, formats, opensim_tools  # noqa: E402

DATASETS = {"hamner-run": ("subject02", "run"), "gait2392-walk": ("subject01", "walk1")}
# The SO window of each trial (s): the frames every figure here is measured on (Hamner's
# end can be moved with --hamner-end). Given as the trial's region, so IK covers it.
WINDOWS = {"hamner-run": (0.7, 3.7), "gait2392-walk": (0.6, 1.8)}
SATURATED = 0.95  # qc.saturation_activation default


def prepare(name: str, workdir: Path, window: tuple[float, float]) -> tuple[Path, dict, tuple[float, float]]:
    """Run the example study's trial to its end; returns (trial folder, config, window)."""
    example = REPO / "config" / "examples" / name
    config = yaml.safe_load((example / "config.yaml").read_text())
    config["model"] = {k: str((example / v).resolve()) for k, v in config["model"].items()}
    trials = pd.read_csv(example / "trials.tsv", sep="\t")
    subjects = pd.read_csv(example / "subjects.tsv", sep="\t")
    for table, columns in ((trials, ["markers", "grf"]), (subjects, ["static_markers"])):
        for column in columns:
            table[column] = [str((example / p).resolve()) for p in table[column]]
    trials["start_s"], trials["end_s"] = window
    workdir.mkdir(parents=True, exist_ok=True)
    trials.to_csv(workdir / "trials.tsv", sep="\t", index=False)
    subjects.to_csv(workdir / "subjects.tsv", sep="\t", index=False)
    config["subjects"], config["trials"] = "subjects.tsv", "trials.tsv"
    # IK and ID are all this needs; a trial's stages run as one job or two (TRIAL_IN_ONE_JOB,
    # workflow/rules/common.smk), so the trial is run to its end (its qc.json), without RRA
    # (minutes, and the SO compared here reads the first ID)
    config["residual_reduction"] = {"method": "none"}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    subject, trial = DATASETS[name]
    trial_dir = workdir / "results" / config["study"] / "trials" / subject / trial
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            # first: --quiet takes the words after it as its values, up to the next option
            str((trial_dir / "qc.json").relative_to(workdir)),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--configfile",
            str(workdir / "config.yaml"),
            "--cores",
            "1",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    return trial_dir, config, window


def compare(name: str, trial_dir: Path, config: dict, window: tuple[float, float], repeat: int) -> None:
    settings = {
        "max_isometric_force_scale": 1.0,
        "reserve_optimal_force": 1.0,
        "residual_optimal_force": 100.0,
        "unmuscled_optimal_force": 100.0,
        **config.get("static_optimization", {}),
    }
    subject = DATASETS[name][0]
    scaled = trial_dir.parents[1] / ".." / "subjects" / subject / "scaled_model.osim"
    work = trial_dir / "bench"
    so_model = work / "so_model.osim"
    opensim_tools.prepare_so_model(
        model_path=str(scaled.resolve()),
        out_model=str(so_model),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"],
        reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"],
    )
    ik, _ = formats.read_storage(trial_dir / "ik.mot")
    times = ik["time"].to_numpy()
    inside = times[(times >= window[0] - 1e-9) & (times <= window[1] + 1e-9)]
    window = (float(inside[0]), float(inside[-1]))
    common = dict(
        so_model_path=str(so_model),
        coordinates_mot=str(trial_dir / "ik.mot"),
        external_loads_xml=str(trial_dir / "external_loads.xml"),
        time_range=window,
    )

    opensim_cpu = fast_cpu = opensim_wall = fast_wall = np.inf
    for _ in range(repeat):  # the least CPU of each: other work on the machine only adds
        cpu, wall = time.process_time(), time.time()
        activation_sto, _ = opensim_tools.static_optimization(
            **common, activation_exponent=2, work_dir=str(work / "opensim"), name="so", subject=subject, trial=name
        )
        opensim_cpu, opensim_wall = min(opensim_cpu, time.process_time() - cpu), min(opensim_wall, time.time() - wall)
        cpu, wall = time.process_time(), time.time()
        activation, _, run = fast_so.static_optimization(**common, activation_exponent=2, subject=subject, trial=name)
        if time.process_time() - cpu < fast_cpu:
            problem = run
        fast_cpu, fast_wall = min(fast_cpu, time.process_time() - cpu), min(fast_wall, time.time() - wall)
    reference, _ = formats.read_storage(activation_sto)

    n = len(activation)
    assert len(reference) == n and np.allclose(reference["time"], activation["time"]), "frames differ"
    muscles = [a for a, m in zip(problem.actuators, problem.is_muscle) if m]
    parts = problem.cpu_s
    fixed = sum(parts.get(k, 0.0) for k in ("setup", "kinematics"))
    per_frame = {k: v / n * 1000 for k, v in parts.items() if k not in ("setup", "kinematics", "build")}
    print(
        f"\n=== {name}: {len(muscles)} muscles, {len(problem.actuators) - len(muscles)} other actuators, "
        f"{len(problem.coordinates)} acceleration constraints, {n} frames {window[0]:.3f}-{window[1]:.3f} s"
    )
    print(f"opensim SO: {opensim_cpu:.2f} s CPU ({opensim_cpu / n * 1000:.1f} ms/frame), {opensim_wall:.2f} s wall")
    print(f"fast SO:    {fast_cpu:.2f} s CPU ({fast_cpu / n * 1000:.2f} ms/frame all in), {fast_wall:.2f} s wall")
    print(
        f"  fixed set-up {fixed:.3f} s CPU (model {parts['setup']:.3f}, kinematics splines {parts['kinematics']:.3f}"
        f") = {fixed / n * 1000:.2f} ms/frame amortised over {n} frames"
    )
    print(
        "  per frame (ms CPU): "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_frame.items())
        + f"; sum {sum(per_frame.values()):.2f}"
    )
    print(
        f"  speedup, everything counted: {opensim_cpu / fast_cpu:.1f}x CPU ({opensim_wall / fast_wall:.1f}x wall); "
        f"per-frame parts only: {opensim_cpu / n * 1000 / sum(per_frame.values()):.1f}x"
    )

    difference = np.abs(activation[muscles].to_numpy() - reference[muscles].to_numpy())
    per_muscle_mean, per_muscle_max = difference.mean(axis=0), difference.max(axis=0)
    print(
        f"activations: mean |diff| {difference.mean():.5f}; worst muscle mean {per_muscle_mean.max():.5f} "
        f"({muscles[per_muscle_mean.argmax()]}), max {per_muscle_max.max():.5f} ({muscles[per_muscle_max.argmax()]}); "
        f"targets <= 0.005 and <= 0.03"
    )
    id_table, _ = formats.read_storage(trial_dir / "id.sto")
    id_at = {c: np.interp(problem.times, id_table["time"], id_table[c]) for c in id_table.columns[1:]}
    balance = IDBalance(trial_dir, scaled.resolve(), problem)
    for label, controls in (
        ("fast", activation[problem.actuators].to_numpy()),
        ("opensim", reference[problem.actuators].to_numpy()),
    ):
        moments = np.einsum("kca,ka->kc", problem.moment_per_control, controls)
        print(f"{label:8s}: muscles + actuators vs ID, " + balance.report(moments))
        saturated = int((controls[:, problem.is_muscle] >= SATURATED).any(axis=1).sum())
        reserves = [j for j, a in enumerate(problem.actuators) if a.startswith("reserve_")]
        reserve_share = 0.0
        for j in reserves:
            coordinate = problem.actuators[j][len("reserve_") :]
            column = next((k for k in (f"{coordinate}_moment", f"{coordinate}_force") if k in id_at), None)
            if column and np.abs(id_at[column]).max() > 0:
                reserve_share = max(
                    reserve_share,
                    np.abs(controls[:, j] * problem.force_per_control[:, j]).max() / np.abs(id_at[column]).max(),
                )
        print(f"          saturated frames {saturated}/{n}; peak reserve share {100 * reserve_share:.2f} %")
    print(balance.split(np.einsum("kca,ka->kc", problem.moment_per_control, activation[problem.actuators].to_numpy())))

    qp_libraries(problem)


class IDBalance:
    """Do the SO forces balance the ID moments? Per coordinate with a real load (peak |ID|
    above 1 N·m or N), the largest |muscle + actuator generalized force - ID| as a share of
    that coordinate's peak |ID|: over all the window's frames, and over its interior (all
    but EDGE_FRAMES at each end, where the natural splines' end conditions act).

    The difference is then split with OpenSim's InverseDynamicsSolver, on the scaled model
    with muscles off and the trial's external loads, as InverseDynamicsTool runs it, at the
    same q and u: ID at SO's accelerations (udot from a spline through the coordinate
    spline's speeds, AnalyzeTool + StaticOptimization) vs ID at ID's (the coordinate
    spline's second derivative). What SO's forces miss at its own accelerations is
    everything else (loads, passive forces, gravity, constraints, an unmet constraint)."""

    EDGE_FRAMES = 3

    def __init__(self, trial_dir: Path, scaled_model: Path, problem) -> None:
        import opensim as osim

        self.problem = problem
        id_table, _ = formats.read_storage(trial_dir / "id.sto")
        columns = [next(k for k in (f"{c}_moment", f"{c}_force") if k in id_table) for c in problem.coordinates]
        self.id = np.column_stack([np.interp(problem.times, id_table["time"], id_table[c]) for c in columns])
        peak = np.abs(self.id).max(axis=0)
        self.loaded, self.peak = peak > 1.0, peak
        model = osim.Model(str(scaled_model))
        for muscle in model.getMuscles():
            muscle.set_appliesForce(False)
        model.addModelComponent(osim.ExternalLoads(str(trial_dir / "external_loads.xml"), True))
        state = model.initSystem()
        index = fast_so._state_indices(model, state)
        coordinate_set = model.getCoordinateSet()
        names = [coordinate_set.get(i).getName() for i in range(coordinate_set.getSize())]
        times, q, u, udot_so = fast_so.kinematics(model, trial_dir / "ik.mot", names)
        _, qdd_id = fast_so.NaturalQuinticSpline(times).derivatives(q)
        steps_ms = np.diff(times) * 1000
        self.steps = f"IK time steps {steps_ms.min():.4f}-{steps_ms.max():.4f} ms"
        frames = np.flatnonzero(np.isin(np.round(times, 9), np.round(problem.times, 9)))
        solver, rows = osim.InverseDynamicsSolver(model), [index[c][1] for c in problem.coordinates]

        def generalized_forces(k: int, acceleration: np.ndarray) -> np.ndarray:
            q_state, u_state, udot = np.zeros(state.getNQ()), np.zeros(state.getNU()), np.zeros(state.getNU())
            for j, name in enumerate(names):
                q_state[index[name][0]], u_state[index[name][1]], udot[index[name][1]] = (
                    q[k, j],
                    u[k, j],
                    acceleration[k, j],
                )
            state.setTime(float(times[k]))
            state.setQ(osim.Vector.createFromMat(q_state))
            state.setU(osim.Vector.createFromMat(u_state))
            model.realizeVelocity(state)
            return solver.solve(state, osim.Vector.createFromMat(udot)).to_numpy()[rows]

        self.id_recomputed = np.array([generalized_forces(k, qdd_id) for k in frames])
        self.id_at_so_acceleration = np.array([generalized_forces(k, udot_so) for k in frames])

    def shares(self, difference: np.ndarray, frames=slice(None)) -> np.ndarray:
        return np.abs(difference[frames]).max(axis=0)[self.loaded] / self.peak[self.loaded]

    def _summary(self, shares: np.ndarray) -> str:
        beyond = int((shares > 0.01).sum())
        return f"median {100 * np.median(shares):.2f} %, max {100 * shares.max():.2f} %, {beyond} beyond 1 %"

    def report(self, moments: np.ndarray) -> str:
        """Worst-frame shares over all frames and over the interior."""
        edge = self.EDGE_FRAMES
        whole, inner = self.shares(moments - self.id), self.shares(moments - self.id, slice(edge, -edge))
        names = np.array(self.problem.coordinates)[self.loaded]
        worst = ", ".join(f"{names[i]} {100 * whole[i]:.1f} %" for i in np.argsort(whole)[::-1][:3])
        return (
            f"{len(whole)} loaded coordinates; all frames: {self._summary(whole)} ({worst}); "
            f"interior (all but {edge} frames at each end): {self._summary(inner)}"
        )

    def split(self, moments: np.ndarray) -> str:
        """Which part of SO minus ID comes from the accelerations."""
        recomputed = self._summary(self.shares(self.id_recomputed - self.id))
        accelerations = self._summary(self.shares(self.id_at_so_acceleration - self.id_recomputed))
        rest = self._summary(self.shares(moments - self.id_at_so_acceleration))
        return (
            f"  split ({self.steps}): ID recomputed vs id.sto {recomputed}"
            f"\n  accelerations (ID at SO's udot - ID at ID's): {accelerations}"
            f"\n  the rest (SO forces - ID at SO's udot): {rest}"
        )


def qp_libraries(problem) -> None:
    """CPU per frame of the same QPs (p = 2) with DAQP (used) and OSQP, and OSQP's
    largest activation difference from DAQP's solution. (SciPy's SLSQP, measured on
    gait2392: 35 s per frame, same solution to 3e-10; not rerun here.)"""
    n_frames, _, n_act = problem.A.shape
    results = {}
    cpu = time.process_time()
    daqp_x = np.array(
        [fast_so.solve_frame(problem.A[k], problem.b[k], problem.lower, problem.upper)[0] for k in range(n_frames)]
    )
    results["daqp"] = (time.process_time() - cpu, 0.0)
    try:
        import osqp
        from scipy import sparse
    except ImportError:
        osqp = None
    if osqp is not None:
        cpu = time.process_time()
        xs = []
        for k in range(n_frames):
            solver = osqp.OSQP()
            constraints = sparse.vstack([sparse.csc_matrix(problem.A[k]), sparse.eye(n_act)], format="csc")
            solver.setup(
                P=sparse.eye(n_act, format="csc") * 2.0,
                q=np.zeros(n_act),
                A=constraints,
                l=np.concatenate([problem.b[k], problem.lower]),
                u=np.concatenate([problem.b[k], problem.upper]),
                eps_abs=1e-6,
                eps_rel=1e-6,
                max_iter=20000,
                polishing=True,
                verbose=False,
            )
            xs.append(solver.solve().x)
        results["osqp"] = (time.process_time() - cpu, np.abs(np.array(xs) - daqp_x)[:, problem.is_muscle].max())
    print(
        "QP libraries, CPU per frame and max |activation difference| from DAQP: "
        + "; ".join(f"{name} {1000 * t / n_frames:.2f} ms ({d:.1e})" for name, (t, d) in results.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--hamner-end", type=float, default=3.7, help="end of the Hamner SO window (s); starts at 0.7 s"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it instead of a temporary one")
    parser.add_argument("--only", choices=sorted(DATASETS), help="one dataset only")
    parser.add_argument("--repeat", type=int, default=2, help="run each solver this many times, report the least CPU")
    args = parser.parse_args()
    import opensim

    opensim.Logger.setLevelString("error")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="fast-so-"))
    try:
        for name in DATASETS:
            if args.only and name != args.only:
                continue
            window = (WINDOWS[name][0], args.hamner_end) if name == "hamner-run" else WINDOWS[name]
            trial_dir, config, window = prepare(name, scratch / name, window)
            compare(name, trial_dir, config, window, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
