"""Fast static optimization: OpenSim's SO problem, rebuilt per frame and solved as a QP.

OpenSim's StaticOptimization (opensim-core Analyses/StaticOptimization.cpp and
StaticOptimizationTarget.cpp) solves, at each frame,

    minimise sum_j |x_j|^p  subject to  udot(x) = udot_desired  (unconstrained coordinates),
                                        min_control_j <= x_j <= max_control_j,

where every actuator's force is overridden to x_j times its "optimal force": for a
muscle, the rigid-tendon active fibre force at activation 1 (Muscle::
calcInextensibleTendonActiveFiberForce; the override also replaces the muscle's
passive force, so SO ignores it), for any other actuator its optimal_force. udot is
affine in x; OpenSim builds it with one multibody acceleration solve per actuator and
calls IPOPT from a cold start. Here the same matrix comes from the mass matrix, the
constraint Jacobian (locked and coupled coordinates) and the generalized force a unit
tension in each muscle's path applies, as OpenSim applies it (muscle_paths.py), and
the QP (p = 2) is solved by DAQP (0.2 ms per frame; OSQP 3.4 ms, SciPy's SLSQP 35 s,
same solutions: tools/benchmark_fast_so.py). The desired accelerations are OpenSim's:
a quintic GCV spline through the coordinates gives the speeds, a second one through
the speeds gives the accelerations; external loads are OpenSim's own ExternalLoads.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import daqp
import numpy as np
import opensim as osim
import pandas as pd

from . import muscle_paths
from .errors import MuscleError

# A finite stand-in for OpenSim's infinite control bounds (reserves, residuals); no
# solution comes near it (x = 1e6 would be 1e8 N·m on a 100 N·m actuator).
UNBOUNDED = 1e6
# Below this (m/rad) a moment arm is numerical noise, not a crossing (polynomial fits).
MOMENT_ARM_EPS = 1e-7
# The polynomial path fit is used only if its moment arms are within this of OpenSim's
# at VALIDATION_POSES held-out poses (1 mm: about 2-5 % of a knee or hip moment arm).
MOMENT_ARM_TOLERANCE_MM = 1.0
VALIDATION_POSES = 8
# Newton iterations for activation exponents other than 2, and the floor under |x| in
# the cost's curvature p (p - 1) |x|^(p - 2), which is unbounded (p < 2) or zero (p > 2) at 0.
NEWTON_ITERATIONS = 50
CURVATURE_FLOOR = 1e-3


@dataclass
class SOProblem:
    """Every frame's SO problem: A[k] @ x = b[k], lower <= x <= upper, min sum |x|^p."""
    times: np.ndarray
    actuators: list[str]
    is_muscle: np.ndarray          # (n_act,) bool
    coordinates: list[str]         # the constrained accelerations' coordinates
    A: np.ndarray                  # (n_frames, n_acc, n_act) udot per unit control
    moment_per_control: np.ndarray  # (n_frames, n_acc, n_act) generalized force (N·m or N) per unit control
    b: np.ndarray                  # (n_frames, n_acc) desired udot minus udot at zero control
    force_per_control: np.ndarray  # (n_frames, n_act) N (or N·m) per unit control
    lower: np.ndarray
    upper: np.ndarray
    geometry: dict = field(default_factory=dict)  # how moment arms were had, and the fit's check
    cpu_s: dict = field(default_factory=dict)


def _scalar_actuators(model: osim.Model) -> list[osim.ScalarActuator]:
    actuators = []
    for force in model.getActuators():
        actuator = osim.ScalarActuator.safeDownCast(force)
        if actuator is None:
            raise MuscleError(f"actuator {force.getName()} is not a scalar actuator; static optimization needs scalar actuators",
                              fix="remove it from the model")
        if force.get_appliesForce():
            actuators.append(actuator)
    return actuators


def _state_indices(model: osim.Model, state: osim.State) -> dict[str, tuple[int, int]]:
    """Coordinate name -> (q index, u index) in the state, found by setting one at a time."""
    indices = {}
    for coordinate in model.getCoordinateSet():
        q0, u0 = state.getQ().to_numpy().copy(), state.getU().to_numpy().copy()
        locked = coordinate.getLocked(state)
        coordinate.setLocked(state, False)
        coordinate.setValue(state, coordinate.getValue(state) + 0.5, False)
        coordinate.setSpeedValue(state, coordinate.getSpeedValue(state) + 0.5)
        q_index = int(np.flatnonzero(state.getQ().to_numpy() != q0)[0])
        u_index = int(np.flatnonzero(state.getU().to_numpy() != u0)[0])
        state.setQ(osim.Vector.createFromMat(q0))
        state.setU(osim.Vector.createFromMat(u0))
        coordinate.setLocked(state, locked)
        indices[coordinate.getName()] = (q_index, u_index)
    return indices


def kinematics(model: osim.Model, coordinates_mot: str | Path, names: list[str],
               window: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frame times, q, u, udot (frames x coordinates in ``names`` order) as OpenSim's
    AnalyzeTool and StaticOptimization form them: radians, speeds from a quintic GCV
    spline through q at every frame of the file, accelerations from a quintic GCV
    spline through those speeds (evaluated inside ``window`` only, NaN outside)."""
    storage = osim.Storage(str(coordinates_mot))
    if storage.isInDegrees():
        model.getSimbodyEngine().convertDegreesToRadians(storage)
    column_labels = storage.getColumnLabels()
    labels = [column_labels.get(i) for i in range(1, column_labels.getSize())]
    missing = [n for n in names if n not in labels]
    if missing:
        raise MuscleError(f"coordinates file {coordinates_mot} lacks coordinates {', '.join(missing)}",
                          fix="run IK with the same model")
    times = osim.ArrayDouble()
    storage.getTimeColumn(times)
    times = np.array([times.get(i) for i in range(times.getSize())])
    q = np.column_stack([_column(storage, n) for n in names])
    q_splines = osim.GCVSplineSet(5, storage)
    speeds = osim.Storage()
    speed_labels = osim.ArrayStr()
    speed_labels.append("time")
    for n in names:
        speed_labels.append(n)
    speeds.setColumnLabels(speed_labels)
    spline_index = {q_splines.get(i).getName(): i for i in range(q_splines.getSize())}
    u = np.array([[q_splines.evaluate(spline_index[n], 1, float(t)) for n in names] for t in times])
    for t, row in zip(times, u):
        speeds.append(float(t), osim.Vector.createFromMat(row))
    u_splines = osim.GCVSplineSet(5, speeds)
    u_index = {u_splines.get(i).getName(): i for i in range(u_splines.getSize())}
    udot = np.full_like(u, np.nan)
    for k, t in enumerate(times):
        if window is None or window[0] - 1e-9 <= t <= window[1] + 1e-9:
            udot[k] = [u_splines.evaluate(u_index[n], 1, float(t)) for n in names]
    return times, q, u, udot


def _column(storage: osim.Storage, name: str) -> np.ndarray:
    values = osim.ArrayDouble()
    storage.getDataColumn(name, values)
    return np.array([values.get(i) for i in range(values.getSize())])


def build_problem(*, so_model_path: str | Path, coordinates_mot: str | Path, external_loads_xml: str | Path,
                  time_range: tuple[float, float], geometry: str = "exact") -> SOProblem:
    """OpenSim's SO problem at every coordinate frame inside ``time_range``.

    Muscle moment arms (-dL/dq) come from OpenSim at every frame (``geometry="exact"``)
    or from polynomials of path length fitted to OpenSim over the window's coordinate
    range (``"polynomial"``, muscle_paths.py), used only when they pass the check at
    held-out poses (else exact, with a note in ``problem.geometry``). Everything else
    (mass matrix, constraints, external loads, force per unit control) is OpenSim's,
    one realization per frame. ``problem.cpu_s`` holds the CPU time of each part."""
    if geometry not in ("polynomial", "exact"):
        raise ValueError(f"geometry must be 'polynomial' or 'exact', got {geometry!r}")
    clock = _Clock()
    # Two copies of the model: one for muscle paths, one without muscles for the
    # multibody dynamics. With every control at zero, OpenSim's overridden muscles apply
    # no force, so the muscle-free copy gives the same zero-control accelerations
    # without computing 92 paths in each acceleration realization.
    model = osim.Model(str(so_model_path))
    state = model.initSystem()
    actuators = _scalar_actuators(model)
    muscles = [osim.Muscle.safeDownCast(a) for a in actuators]
    dynamics = osim.Model(str(so_model_path))
    forces = dynamics.updForceSet()
    for i in reversed(range(forces.getSize())):
        if osim.Muscle.safeDownCast(forces.get(i)) is not None:
            forces.remove(i)
    dynamics.addModelComponent(osim.ExternalLoads(str(external_loads_xml), True))
    dynamics_state = dynamics.initSystem()
    dynamics_actuators = {a.getName(): a for a in _scalar_actuators(dynamics)}
    for actuator in dynamics_actuators.values():
        actuator.overrideActuation(dynamics_state, True)
        actuator.setOverrideActuation(dynamics_state, 0.0)
    coordinate_set = model.getCoordinateSet()
    names = [coordinate_set.get(i).getName() for i in range(coordinate_set.getSize())]
    n_q, n_u = state.getNQ(), state.getNU()
    if n_q != n_u:
        raise MuscleError(f"the model {so_model_path} has joints whose q and u differ (e.g. ball or free joints); "
                          "the fast SO solver needs one generalized speed per coordinate",
                          fix="set static_optimization.solver: opensim")
    index = _state_indices(model, state)
    if _state_indices(dynamics, dynamics_state) != index:
        raise MuscleError(f"removing the muscles of {so_model_path} changed its state layout",
                          fix="set static_optimization.solver: opensim")
    unconstrained = [n for n in names if not coordinate_set.get(n).isConstrained(state)]
    acc_rows = np.array(sorted(index[n][1] for n in unconstrained))
    by_u = {index[n][1]: n for n in names}
    clock.lap("setup")
    times, q_named, u_named, udot_named = kinematics(model, coordinates_mot, names, time_range)
    frames = np.flatnonzero((times >= time_range[0] - 1e-9) & (times <= time_range[1] + 1e-9))
    if not len(frames):
        raise MuscleError(f"no coordinate frame of {coordinates_mot} lies in {time_range[0]:.3f}-{time_range[1]:.3f} s",
                          fix="check the trial's analysis window")
    # q, u, udot of the window's frames in state order
    q_all, u_all, udot_all = np.zeros((len(frames), n_q)), np.zeros((len(frames), n_u)), np.zeros((len(frames), n_u))
    q_cols, u_cols = [index[n][0] for n in names], [index[n][1] for n in names]
    q_all[:, q_cols], u_all[:, u_cols], udot_all[:, u_cols] = q_named[frames], u_named[frames], udot_named[frames]
    clock.lap("kinematics")
    coordinate_actuator_u, other_actuators = {}, []
    for j, actuator in enumerate(actuators):
        coordinate_actuator = osim.CoordinateActuator.safeDownCast(actuator)
        if coordinate_actuator is not None:
            coordinate_actuator_u[j] = index[coordinate_actuator.get_coordinate()][1]
        elif muscles[j] is None:
            other_actuators.append(j)
    muscle_j = [j for j, m in enumerate(muscles) if m is not None]
    path_muscles = [muscles[j] for j in muscle_j]
    matter = dynamics.getMatterSubsystem()
    mass_matrix, jacobian = osim.Matrix(), osim.Matrix()

    def response_at(k: int) -> np.ndarray:
        dynamics_state.setQ(osim.Vector.createFromMat(q_all[k]))
        dynamics.realizePosition(dynamics_state)
        matter.calcM(dynamics_state, mass_matrix)
        matter.calcG(dynamics_state, jacobian)
        return _acceleration_response(mass_matrix.to_numpy(), jacobian.to_numpy() if jacobian.nrow() else None)

    geometry_note = {"geometry": "exact"}
    gradients = None
    if geometry == "polynomial" and path_muscles:
        # Each muscle's polynomial spans the mobilities along which a unit tension in it
        # pushes (found at the first, middle and last frames) and that move something
        # (not locked).
        movable = np.abs(response_at(0)).max(axis=0) > 1e-12
        probes = sorted({0, len(frames) // 2, len(frames) - 1})
        spans = (np.abs(muscle_paths.length_gradients(model, state, path_muscles, q_all[probes])) > MOMENT_ARM_EPS).any(axis=0)
        spans &= movable
        path_fit = muscle_paths.fit(model, state, path_muscles, [np.flatnonzero(row) for row in spans], q_all,
                                    muscle_paths.margins(q_all, np.flatnonzero(movable)))
        check = muscle_paths.validate(path_fit, model, state, path_muscles, n_poses=VALIDATION_POSES)
        geometry_note = {"geometry": "polynomial", **check}
        if check["moment_arm_max_error_mm"] <= MOMENT_ARM_TOLERANCE_MM:
            gradients = path_fit.gradients(q_all)  # (frames, muscles, n_q), all frames at once
        else:
            geometry_note["geometry"] = "exact (polynomial fit failed its check)"
        clock.lap("path_fit")
    n_act = len(actuators)
    A = np.zeros((len(frames), len(acc_rows), n_act))
    moment_per_control = np.zeros((len(frames), len(acc_rows), n_act))
    b = np.zeros((len(frames), len(acc_rows)))
    force_per_control = np.zeros((len(frames), n_act))
    optimal_force = np.array([0.0 if m is not None else a.getOptimalForce() for a, m in zip(actuators, muscles)])
    for k in range(len(frames)):
        dynamics_state.setTime(float(times[frames[k]]))
        response = response_at(k)
        dynamics_state.setU(osim.Vector.createFromMat(u_all[k]))
        dynamics.realizeAcceleration(dynamics_state)
        udot_zero = dynamics_state.getUDot().to_numpy().copy()
        clock.lap("dynamics")
        state.setTime(float(times[frames[k]]))
        state.setQ(osim.Vector.createFromMat(q_all[k]))
        state.setU(osim.Vector.createFromMat(u_all[k]))
        model.realizeVelocity(state)
        force_per_control[k] = optimal_force
        force_per_control[k, muscle_j] = [m.calcInextensibleTendonActiveFiberForce(state, 1.0) for m in path_muscles]
        clock.lap("muscle_force")
        generalized = np.zeros((n_u, n_act))  # generalized force per unit control
        if gradients is not None:
            generalized[:, muscle_j] = -gradients[k].T
        else:
            generalized[:, muscle_j] = muscle_paths.applied_generalized_forces(model, state, path_muscles).T
        clock.lap("moment_arms")
        for j, u_index in coordinate_actuator_u.items():
            generalized[u_index, j] = 1.0
        generalized *= force_per_control[k]
        columns = response @ generalized
        for j in other_actuators:  # e.g. point or torque actuators: probe OpenSim as it does
            probed = dynamics_actuators[actuators[j].getName()]
            probed.setOverrideActuation(dynamics_state, float(force_per_control[k, j]))
            dynamics.realizeAcceleration(dynamics_state)
            columns[:, j] = dynamics_state.getUDot().to_numpy() - udot_zero
            probed.setOverrideActuation(dynamics_state, 0.0)
        A[k] = columns[acc_rows]
        moment_per_control[k] = generalized[acc_rows]
        b[k] = udot_all[k, acc_rows] - udot_zero[acc_rows]
        clock.lap("assembly")
    lower = np.array([max(a.getMinControl(), -UNBOUNDED) for a in actuators])
    upper = np.array([min(a.getMaxControl(), UNBOUNDED) for a in actuators])
    problem = SOProblem(times=times[frames], actuators=[a.getName() for a in actuators],
                        is_muscle=np.array([m is not None for m in muscles]), coordinates=[by_u[i] for i in acc_rows],
                        A=A, moment_per_control=moment_per_control, b=b, force_per_control=force_per_control,
                        lower=lower, upper=upper, geometry=geometry_note)
    problem.cpu_s.update(clock.laps)
    problem.cpu_s["build"] = sum(clock.laps.values())
    return problem


class _Clock:
    """CPU time (process_time) spent in each named part, summed over calls."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.process_time()

    def lap(self, name: str) -> None:
        now = time.process_time()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def _acceleration_response(mass: np.ndarray, jacobian: np.ndarray | None) -> np.ndarray:
    """d udot / d (applied generalized force), with the constraints G udot = bias kept
    (locked and coupled coordinates): M^-1 - M^-1 G' (G M^-1 G')^-1 G M^-1."""
    m_inv = np.linalg.inv(mass)
    if jacobian is None or jacobian.size == 0:
        return m_inv
    g_m_inv = jacobian @ m_inv
    return m_inv - g_m_inv.T @ np.linalg.solve(g_m_inv @ jacobian.T, g_m_inv)


def solve(problem: SOProblem, *, activation_exponent: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Controls (frames x actuators) and a per-frame success flag."""
    started = time.process_time()
    n_frames, _, n_act = problem.A.shape
    controls = np.zeros((n_frames, n_act))
    ok = np.zeros(n_frames, dtype=bool)
    for k in range(n_frames):
        controls[k], ok[k] = solve_frame(problem.A[k], problem.b[k], problem.lower, problem.upper, activation_exponent)
    problem.cpu_s["solve"] = time.process_time() - started
    return controls, ok


def solve_frame(A, b, lower, upper, exponent=2.0):
    """One frame: min sum |x|^exponent s.t. A x = b, lower <= x <= upper; (x, solved).

    p = 2 is one QP. Other p (the cost is convex for p >= 1) start from the p = 2
    solution and take Newton steps, each a QP on the cost's second-order model at the
    current x, halved until the cost falls (Armijo); every iterate stays feasible."""
    n_act = A.shape[1]
    x, solved = _qp(np.full(n_act, 2.0), np.zeros(n_act), A, b, lower, upper)
    if exponent == 2 or not solved:
        return x, solved
    p = float(exponent)

    def cost(v):
        return np.sum(np.abs(v) ** p)

    for _ in range(NEWTON_ITERATIONS):
        gradient = p * np.sign(x) * np.abs(x) ** (p - 1)
        curvature = p * (p - 1) * np.maximum(np.abs(x), CURVATURE_FLOOR) ** (p - 2)
        target, solved = _qp(curvature, gradient - curvature * x, A, b, lower, upper)
        if not solved:
            return x, False
        step, t = target - x, 1.0
        while cost(x + t * step) > cost(x) + 1e-4 * t * (gradient @ step) and t > 1e-8:
            t /= 2
        x = x + t * step
        if np.abs(t * step).max() < 1e-10:
            break
    return x, True


def _qp(curvature, linear, A, b, lower, upper):
    """min 1/2 x' diag(curvature) x + linear' x  s.t. A x = b, lower <= x <= upper (DAQP)."""
    n_act = A.shape[1]
    sense = np.concatenate([np.zeros(n_act, dtype=np.int32), np.full(len(b), 5, dtype=np.int32)])
    x, _, exitflag, _ = daqp.solve(np.diag(curvature), linear, A, np.concatenate([upper, b]), np.concatenate([lower, b]),
                                   sense)
    return np.asarray(x), exitflag == 1


def activation_and_force(problem: SOProblem, controls: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables shaped like OpenSim's SO activation and force storages."""
    activation = pd.DataFrame(controls, columns=problem.actuators)
    activation.insert(0, "time", problem.times)
    force = pd.DataFrame(controls * problem.force_per_control, columns=problem.actuators)
    force.insert(0, "time", problem.times)
    return activation, force


def static_optimization(*, so_model_path: str | Path, coordinates_mot: str | Path, external_loads_xml: str | Path,
                        time_range: tuple[float, float], activation_exponent: float, subject: str,
                        trial: str) -> tuple[pd.DataFrame, pd.DataFrame, SOProblem]:
    """The fast solver's counterpart of opensim_tools.static_optimization: activation
    and force tables (columns as OpenSim writes them, without the external-load
    columns of its force file), and the problem (for its timings)."""
    try:
        problem = build_problem(so_model_path=so_model_path, coordinates_mot=coordinates_mot,
                                external_loads_xml=external_loads_xml, time_range=time_range)
    except MuscleError as err:  # name the subject and trial
        raise MuscleError(err.message, subject=subject, trial=trial, fix=err.fix, opensim_message=err.opensim_message) from None
    except Exception as err:
        raise MuscleError("building the static optimization problem failed", subject=subject, trial=trial,
                          opensim_message=str(err), fix="check the IK and GRF of this trial, or set "
                          "static_optimization.solver: opensim") from None
    controls, ok = solve(problem, activation_exponent=activation_exponent)
    if not ok.all():
        failed = ", ".join(f"{t:.3f}" for t in problem.times[~ok][:10])
        raise MuscleError(f"static optimization found no solution at {np.count_nonzero(~ok)} frame(s) (t = {failed} s)",
                          subject=subject, trial=trial,
                          fix="raise static_optimization.max_isometric_force_scale or reserve_optimal_force, "
                              "or check the IK and GRF of this trial")
    activation, force = activation_and_force(problem, controls)
    return activation, force, problem
