"""MocoInverse as a muscle solver (config static_optimization.solver: moco_inverse).

OpenSim Moco's MocoInverse (opensim-core OpenSim/Moco/MocoInverse.cpp) solves the
muscle redundancy problem over a whole time window at once: the kinematics are
prescribed (PositionMotion from the coordinates), the muscles are DeGroote-Fregly 2016
muscles (De Groote et al. 2016, Ann Biomed Eng 44:2922) with activation dynamics and,
for the muscles chosen, a compliant tendon (with fibre damping, which OpenSim
recommends for optimization); the cost is the integral of the sum of squared controls
(excitations of muscles, controls of the other actuators) by direct collocation
(CasADi + IPOPT). Running studies model the plantarflexors' tendons as compliant because
the Achilles tendon's stretch shapes push-off (Hamner, Seth & Delp
2010, J Biomech 43:2709).

What it shares with the other solvers (fast, opensim): the SO model of
opensim_tools.prepare_so_model, i.e. the same strength (strength_scaling,
max_isometric_force_scale) and the same residual, reserve and ideal actuators with the
same optimal forces (not Moco's ModOpAddReserves, which would add a second set); the
same external loads; the same coordinates file (already low-pass filtered by the
pipeline at filter_hz, so no TabOpLowPassFilter here). What differs: the muscle model
(DeGroote-Fregly curves instead of the model's Millard/Thelen curves; passive fibre
force off by default, as SO's force override leaves it out), activation dynamics (the
activation cannot jump from frame to frame), the tendon compliance of the chosen
muscles, and the cost: squared excitations integrated over time (the
activation_exponent, an integer >= 2, is the MocoControlGoal's exponent) rather than
activations^p frame by frame; the reserves' weight in the cost is 1 as in SO.

The window is solved with a margin (two mesh intervals each side, inside the
coordinates file) so that the initial-activation goal and the window's ends do not
shape the frames reported; the solution is then interpolated (linearly) onto the
coordinate frames the other solvers report.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import opensim as osim
import pandas as pd

from . import formats
from .errors import MuscleError

# mesh intervals solved beyond each end of the window (inside the coordinates file)
EDGE_MESH_INTERVALS = 2
STATUS_FILE = "moco_inverse.json"
# IPOPT's iteration log (it prints to the process's standard output, which the jobs send
# to /dev/null): a solve of a 92-muscle cycle takes tens of minutes, and this file is
# where a user sees that it progresses
PROGRESS_FILE = "moco_inverse_ipopt.log"
FAILED_SOLUTION_FILE = "moco_inverse_not_converged.sto"
# the actuators standing in for the constraint force of a coordinate the model locks
LOCK_ACTUATOR_PREFIX = "lock_"
# Initial guess of a compliant tendon's force (per max isometric force). Moco's default
# guess, the middle of the state's bounds [0, 5], stretches the tendon so far that the
# short gastrocnemius fibre is off its force-length curve (fibre length about 0.3 of
# optimal on the demo model), the fibre velocity is infinite and IPOPT stops at its first
# point (Invalid_Number_Detected); near the slack length the fibres are where the rigid
# tendon puts them.
TENDON_FORCE_GUESS = 0.2


@contextlib.contextmanager
def _stdout_to(path: Path):
    """The process's standard output (file descriptor 1, where IPOPT and CasADi print)
    goes to ``path`` meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(path, "w") as target:
        try:
            os.dup2(target.fileno(), 1)
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def matches(muscle: str, names: list[str], suffixes: list[str]) -> bool:
    """Whether a model muscle is one of ``names`` (given without side suffix)."""
    return any(muscle == name or any(muscle == name + suffix for suffix in suffixes) for name in names)


def compliant_muscles(model_muscles: list[str], names: list[str], suffixes: list[str]) -> list[str]:
    return [m for m in model_muscles if matches(m, names, suffixes)]


def build_model(
    *,
    so_model_path: str | Path,
    external_loads_xml: str | Path,
    compliant_tendons: list[str],
    sides: list[str],
    passive_fiber_forces: bool,
    active_force_width_scale: float,
    fiber_damping: float = 0.0,
) -> tuple[osim.Model, list[str]]:
    """The model MocoInverse solves, and the muscles given a compliant tendon. Every
    ModelProcessor operator is appended in its own statement: chaining
    ``append`` calls in one expression crashes opensim 4.6's Python bindings (a
    temporary is freed)."""
    processor = osim.ModelProcessor(str(so_model_path))
    processor.append(osim.ModOpAddExternalLoads(str(external_loads_xml)))
    processor.append(osim.ModOpIgnoreTendonCompliance())
    processor.append(osim.ModOpReplaceMusclesWithDeGrooteFregly2016())
    if not passive_fiber_forces:
        processor.append(osim.ModOpIgnorePassiveFiberForcesDGF())
    if active_force_width_scale != 1:
        processor.append(osim.ModOpScaleActiveFiberForceCurveWidthDGF(float(active_force_width_scale)))
    model = processor.process()
    names = [m.getName() for m in model.getMuscles()]
    compliant = compliant_muscles(names, compliant_tendons, sides)
    if compliant_tendons and not compliant:
        raise MuscleError(
            f"static_optimization.moco_inverse.compliant_tendons ({', '.join(compliant_tendons)}) names no muscle "
            f"of the model {so_model_path} (its muscles: {', '.join(names)})",
            fix="name the model's muscles without side suffix, or give [] for rigid tendons everywhere",
        )
    # MocoInverse prescribes every coordinate (PositionMotion), so a locked coordinate's
    # constraint is left with no mobility to act on and Simbody refuses to assemble the
    # model (FactorQTZ: "a matrix that has a zero dimension", seen on the Hamner model's
    # locked subtalar, mtp and wrist joints); the coordinates file holds it at its locked
    # value already. The joints own the coordinates: a processed model's CoordinateSet
    # holds copies, whose properties the next finalize overwrites. What the lock's
    # constraint force carried (e.g. the moment of the ground force about a locked toe
    # joint), an unbounded actuator outside the cost carries (LOCK_ACTUATOR_PREFIX): the
    # SO model gives a locked coordinate no reserve, and without it that coordinate's
    # equation of motion cannot be met (IPOPT's primal infeasibility stayed at 1.21 on
    # Hamner, rigid or compliant tendons, and the solve never converged).
    joints = model.updJointSet()
    for j in range(joints.getSize()):
        joint = joints.get(j)
        for c in range(joint.numCoordinates()):
            if joint.get_coordinates(c).get_locked():
                joint.upd_coordinates(c).set_locked(False)
                lock = osim.CoordinateActuator(joint.get_coordinates(c).getName())
                lock.setName(LOCK_ACTUATOR_PREFIX + joint.get_coordinates(c).getName())
                lock.setOptimalForce(1.0)
                lock.setMinControl(-np.inf)
                lock.setMaxControl(np.inf)
                model.addForce(lock)
    for name in compliant:
        muscle = osim.DeGrooteFregly2016Muscle.safeDownCast(model.updMuscles().get(name))
        muscle.set_ignore_tendon_compliance(False)
        # as Moco's examples solve compliant tendons: implicit tendon dynamics (what
        # ModOpTendonComplianceDynamicsModeDGF does, which acts only on muscles already compliant)
        muscle.set_tendon_compliance_dynamics_mode("implicit")
        # Fibre damping is OpenSim's addition to De Groote et al.'s muscle, recommended
        # in DeGrooteFregly2016Muscle's documentation for optimization (Moco's
        # exampleHangingMuscle uses 0.01): the implicit tendon equilibrium then holds a
        # term linear in fibre velocity. Measured on the Hamner running cycle (fibre-tendon
        # units shortening at up to 0.86 of max contraction velocity): without it IPOPT
        # wandered (not converged after 66-78 iterations, reserves of 130-165 N·m), with
        # 0.01 it converged in 64. Rigid-tendon muscles have no such equation and stay as
        # SO's muscles (no damping).
        muscle.set_fiber_damping(float(fiber_damping))
    model.finalizeConnections()
    return model, compliant


def solve(
    *,
    so_model_path: str | Path,
    coordinates_mot: str | Path,
    external_loads_xml: str | Path,
    time_range: tuple[float, float],
    settings: dict,
    activation_exponent: float,
    sides: list[str],
    work_dir: str | Path,
    subject: str = "",
    trial: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Activation and force tables (as the other solvers write them: every actuator's
    column, on the coordinate frames inside ``time_range``) and the solve's status.

    ``settings`` is config static_optimization.moco_inverse. A solve IPOPT does not
    finish raises MuscleError (the job fails and its error record says why); nothing is
    written then."""
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    so_model_path, coordinates_mot, external_loads_xml = (
        Path(p).resolve() for p in (so_model_path, coordinates_mot, external_loads_xml)
    )
    wall, cpu = time.time(), time.process_time()
    table, header = formats.read_storage(coordinates_mot)
    times = table["time"].to_numpy(dtype=float)
    first, last = float(time_range[0]), float(time_range[1])
    frames = times[(times >= first - 1e-9) & (times <= last + 1e-9)]
    if len(frames) < 2:
        raise MuscleError(
            f"fewer than two coordinate frames of {coordinates_mot} lie in {first:.3f}-{last:.3f} s",
            subject=subject,
            trial=trial,
            fix="check the trial's analysis window",
        )
    mesh = float(settings["mesh_interval_s"])
    start = max(times[0], first - EDGE_MESH_INTERVALS * mesh)
    end = min(times[-1], last + EDGE_MESH_INTERVALS * mesh)
    # the other solvers' column order: the SO model's actuators (replacing the muscles
    # reorders the force set); the model is held in a name, as SWIG frees a temporary
    # whose set is still being iterated
    so_model = osim.Model(str(so_model_path))
    order = [a.getName() for a in so_model.getActuators() if a.get_appliesForce()]
    model, compliant = build_model(
        so_model_path=so_model_path,
        external_loads_xml=external_loads_xml,
        compliant_tendons=list(settings["compliant_tendons"]),
        sides=sides,
        passive_fiber_forces=bool(settings["passive_fiber_forces"]),
        active_force_width_scale=float(settings["active_force_width_scale"]),
        fiber_damping=float(settings["fiber_damping"]),
    )
    model.printToXML(str(work / "moco_model.osim"))
    inverse, study, solver, locks = _configure(
        model, coordinates_mot, (start, end), settings, activation_exponent, subject=subject, trial=trial
    )
    if compliant:
        guess = solver.createGuess("bounds")
        for name in compliant:
            path = model.getMuscles().get(name).getAbsolutePathString() + "/normalized_tendon_force"
            guess.setState(path, osim.Vector(guess.getNumTimes(), TENDON_FORCE_GUESS))
        solver.setGuess(guess)
    solution = _run(study, work, PROGRESS_FILE, subject=subject, trial=trial)
    succeeded = bool(solution.success())
    solution.unseal()
    status = {
        "solver": "moco_inverse",
        "success": succeeded,
        "status": solution.getStatus(),
        "iterations": int(solution.getNumIterations()),
        "objective": float(solution.getObjective()),
        "solve_start_s": float(start),
        "solve_end_s": float(end),
        "window_start_s": first,
        "window_end_s": last,
        "mesh_interval_s": mesh,
        "compliant_tendons": compliant,
        "locked_coordinates": [path.rsplit("/", 1)[-1][len(LOCK_ACTUATOR_PREFIX) :] for path in locks],
        "threads": int(settings["threads"]),
    }
    if not succeeded:
        (work / STATUS_FILE).write_text(json.dumps(status, indent=2))
        # the last iterate, to see which states sit on their bounds (e.g. a tendon force
        # or fibre length the path cannot reach) before changing settings
        solution.write(str(work / FAILED_SOLUTION_FILE))
        raise MuscleError(
            f"MocoInverse did not converge over {start:.3f}-{end:.3f} s: IPOPT status "
            f"{status['status']} after {status['iterations']} iterations (IPOPT's log: {work / PROGRESS_FILE}; "
            f"its last iterate: {work / FAILED_SOLUTION_FILE})",
            subject=subject,
            trial=trial,
            fix="raise static_optimization.moco_inverse.max_iterations or convergence_tolerance, "
            "try another mesh_interval_s, or check the IK and GRF of this trial",
        )
    # the prescribed coordinates are no states of the solve: put them in, as MocoInverse.solve does
    solution.insertStatesTrajectory(inverse.initializeKinematics())
    solution.write(str(work / "moco_inverse_solution.sto"))
    activation, force = _tables(study, solution, model, frames, order)
    status["frames"] = len(frames)
    status["wall_s"] = time.time() - wall
    status["cpu_s"] = time.process_time() - cpu
    (work / STATUS_FILE).write_text(json.dumps(status, indent=2))
    return activation, force, status


def _configure(
    model: osim.Model,
    coordinates_mot: Path,
    span: tuple[float, float],
    settings: dict,
    activation_exponent: float,
    *,
    subject: str,
    trial: str,
):
    """MocoInverse's study of ``model`` over ``span``, its CasADi solver set as
    ``settings`` say, and the lock actuators (outside the cost)."""
    inverse = osim.MocoInverse()
    inverse.setName("moco_inverse")
    inverse.setModel(osim.ModelProcessor(model))
    kinematics = osim.TableProcessor(str(coordinates_mot))
    kinematics.append(osim.TabOpUseAbsoluteStateNames())
    inverse.setKinematics(kinematics)
    inverse.set_kinematics_allow_extra_columns(True)
    inverse.set_initial_time(float(span[0]))
    inverse.set_final_time(float(span[1]))
    inverse.set_mesh_interval(float(settings["mesh_interval_s"]))
    inverse.set_convergence_tolerance(float(settings["convergence_tolerance"]))
    inverse.set_constraint_tolerance(float(settings["constraint_tolerance"]))
    inverse.set_max_iterations(int(settings["max_iterations"]))
    try:
        study = inverse.initialize()
    except Exception as err:
        raise MuscleError(
            "MocoInverse could not set up the problem",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check that the coordinates file has every coordinate of the model, "
            "or use static_optimization.solver: fast",
        ) from None
    problem = study.updProblem()
    effort = osim.MocoControlGoal.safeDownCast(problem.updGoal("excitation_effort"))
    if activation_exponent != 2:
        effort.setExponent(int(activation_exponent))
    locks = [a.getAbsolutePathString() for a in model.getActuators() if a.getName().startswith(LOCK_ACTUATOR_PREFIX)]
    for path in locks:
        effort.setWeightForControl(path, 0.0)  # a constraint force costs nothing
    solver = osim.MocoCasADiSolver.safeDownCast(study.updSolver())
    threads = int(settings["threads"])
    # the property: 0 serial, 1 every core, n > 1 n threads
    solver.set_parallel(0 if threads == 1 else threads)
    solver.resetProblem(problem)
    return inverse, study, solver, locks


def _run(study, work: Path, log_name: str, *, subject: str, trial: str):
    """``study.solve()`` with IPOPT's log in ``work/log_name``."""
    # Moco writes a delete_this_to_stop_optimization_*.txt into the working directory
    # while it solves (left behind if the process dies): keep it in the work folder
    here = os.getcwd()
    try:
        os.chdir(work)
        with _stdout_to(work / log_name):
            return study.solve()
    except Exception as err:
        raise MuscleError(
            "MocoInverse failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check the IK and GRF of this trial, or use static_optimization.solver: fast",
        ) from None
    finally:
        os.chdir(here)


def _tables(
    study, solution, model: osim.Model, frames: np.ndarray, actuators: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per actuator, activation (muscles: the activation state; other actuators: the
    control, as SO reports them) and force (OpenSim's actuation output: a muscle's
    tendon force, a coordinate actuator's control x optimal force) on ``frames``, in the
    order of ``actuators``."""
    mesh_times = solution.getTimeMat()
    muscles = {m.getName() for m in model.getMuscles()}
    paths = {a.getName(): a.getAbsolutePathString() for a in model.getActuators()}
    states = dict(zip(solution.getStateNames(), solution.getStatesTrajectoryMat().T))
    controls = dict(zip(solution.getControlNames(), solution.getControlsTrajectoryMat().T))
    # a Python list, not an osim.StdVectorString: SWIG converts a sequence element by
    # element, while the vector proxy's type was refused with a TypeError once other opensim
    # modules had been used in the process (the full test suite)
    analysed = study.analyze(solution, [".*actuation"])
    actuation = dict(zip(analysed.getColumnLabels(), analysed.getMatrix().to_numpy().T))
    analysed_times = np.asarray(analysed.getIndependentColumn())

    def column(source: dict, key: str, at: np.ndarray) -> np.ndarray:
        if key not in source:
            raise MuscleError(f"MocoInverse's solution has no {key}", fix="report this as a retrorun bug")
        return np.interp(frames, at, source[key])

    activation = {"time": frames}
    force = {"time": frames}
    for name in actuators:
        path = paths[name]
        if name in muscles:
            activation[name] = column(states, f"{path}/activation", mesh_times)
        else:
            activation[name] = column(controls, path, mesh_times)
        force[name] = column(actuation, f"{path}|actuation", analysed_times)
    return pd.DataFrame(activation), pd.DataFrame(force)
