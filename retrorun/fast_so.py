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
the speeds gives the accelerations (that spline evaluated here in numpy:
NaturalQuinticSpline); external loads are OpenSim's ExternalLoads, evaluated here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import daqp
import numpy as np
import opensim as osim
import pandas as pd

from . import formats, muscle_paths
from .errors import MuscleError
from .splines import natural_cubic_spline

# A finite stand-in for OpenSim's infinite control bounds (reserves, residuals); no
# solution comes near it (x = 1e6 would be 1e8 N·m on a 100 N·m actuator).
UNBOUNDED = 1e6
# Newton iterations for activation exponents other than 2, and the floor under |x| in
# the cost's curvature p (p - 1) |x|^(p - 2), which is unbounded (p < 2) or zero (p > 2) at 0.
NEWTON_ITERATIONS = 50
CURVATURE_FLOOR = 1e-3
# GCVSpline refuses fewer than twice its order (6 for degree 5) data points (opensim-core GCVSpline.cpp)
GCV_MIN_FRAMES = 12


@dataclass
class SOProblem:
    """Every frame's SO problem: A[k] @ x = b[k], lower <= x <= upper, min sum |x|^p."""

    times: np.ndarray
    actuators: list[str]
    is_muscle: np.ndarray  # (n_act,) bool
    coordinates: list[str]  # the constrained accelerations' coordinates
    A: np.ndarray  # (n_frames, n_acc, n_act) udot per unit control
    moment_per_control: np.ndarray  # (n_frames, n_acc, n_act) generalized force (N·m or N) per unit control
    b: np.ndarray  # (n_frames, n_acc) desired udot minus udot at zero control
    force_per_control: np.ndarray  # (n_frames, n_act) N (or N·m) per unit control
    lower: np.ndarray
    upper: np.ndarray
    cpu_s: dict = field(default_factory=dict)


def _scalar_actuators(model: osim.Model) -> list[osim.ScalarActuator]:
    actuators = []
    for force in model.getActuators():
        actuator = osim.ScalarActuator.safeDownCast(force)
        if actuator is None:
            raise MuscleError(
                f"actuator {force.getName()} is not a scalar actuator; static optimization needs scalar actuators",
                fix="remove it from the model",
            )
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


def kinematics(
    model: osim.Model, coordinates_mot: str | Path, names: list[str], window: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frame times, q, u, udot (frames x coordinates in ``names`` order) as OpenSim's
    AnalyzeTool and StaticOptimization form them: radians (rotational coordinates of a
    file in degrees converted, as SimbodyEngine::convertDegreesToRadians does), speeds
    from a quintic GCV spline with zero error variance through q at every frame of the
    file, accelerations from a second one through those speeds (NaN outside
    ``window``). That spline is the natural quintic interpolating spline, evaluated here
    by NaturalQuinticSpline: the same values as OpenSim's GCVSplineSet to about 1e-12
    (tests/test_fast_so.py), in a few ms instead of 50 ms (gait2392, 135 frames)."""
    table, header = formats.read_storage(coordinates_mot)
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise MuscleError(
            f"coordinates file {coordinates_mot} lacks coordinates {', '.join(missing)}",
            fix="run IK with the same model",
        )
    times = table["time"].to_numpy(dtype=float)
    if len(times) < GCV_MIN_FRAMES or (np.diff(times) <= 0).any():
        raise MuscleError(
            f"coordinates file {coordinates_mot} has {len(times)} frames"
            + ("" if len(times) < GCV_MIN_FRAMES else " whose times do not strictly increase")
            + f"; OpenSim's quintic GCV splines (speeds, accelerations) need {GCV_MIN_FRAMES} or more "
            "frames at increasing times",
            fix="check the IK output and the trial's frames",
        )
    q = table[names].to_numpy(dtype=float, copy=True)
    if header.get("inDegrees", "no").strip().lower() == "yes":
        coordinate_set = model.getCoordinateSet()
        rotational = [coordinate_set.get(n).getMotionType() == osim.Coordinate.Rotational for n in names]
        q[:, rotational] *= np.pi / 180
    spline = NaturalQuinticSpline(times)
    u = spline.derivative(q)
    udot = spline.derivative(u)
    if window is not None:
        udot[(times < window[0] - 1e-9) | (times > window[1] + 1e-9)] = np.nan
    return times, q, u, udot


class NaturalQuinticSpline:
    """The natural quintic spline interpolating samples at the knots ``x``, which is
    what OpenSim's GCVSpline of degree 5 with zero error variance computes (Woltring
    1986, Adv Eng Softw 8(2): 104-113: at zero variance GCVSPL interpolates; beyond
    the interpolation, derivatives 3 and 4 are continuous and zero at both ends).

    Solved as a piecewise quintic Hermite in each knot's first and second derivative:
    continuity of derivatives 3 and 4 at the inner knots and their zero at the ends
    give a block-tridiagonal system of 2 x 2 blocks, factored once (block LU) for all
    columns and solved in O(n): no dense kernel matrix, whose conditioning would
    degrade on long trials (checked on 2000 frames at 200 Hz in the tests). Unknowns
    are (f', scale f''), and rows scaled by scale^2 and scale^3, scale being the median
    knot spacing, so every block is of order 1-100."""

    def __init__(self, x: np.ndarray):
        self.x = np.asarray(x, dtype=float)
        self.h = np.diff(self.x)
        self.scale = float(np.median(self.h))
        self.r = (self.scale / self.h).tolist()
        n, r = len(self.x), self.r
        # blocks (rows: third, fourth derivative; columns: f', scale f'') on the knot
        # before (L), at (C) and after (U) the row's knot
        self.U = [None] * n
        w, c_inv = [None] * n, [None] * n
        c_inv[0] = _inverse2(((-36 * r[0] ** 2, -9 * r[0]), (192 * r[0] ** 3, 36 * r[0] ** 2)))
        self.U[0] = ((-24 * r[0] ** 2, 3 * r[0]), (168 * r[0] ** 3, -24 * r[0] ** 2))
        for i in range(1, n):
            if i < n - 1:
                a, b = r[i - 1], r[i]
                lower = ((-24 * a**2, -3 * a), (-168 * a**3, -24 * a**2))
                centre = ((36 * (b**2 - a**2), 9 * (a + b)), (-192 * (a**3 + b**3), 36 * (a**2 - b**2)))
                self.U[i] = ((24 * b**2, -3 * b), (-168 * b**3, 24 * b**2))
            else:
                a = r[-1]
                lower = ((-24 * a**2, -3 * a), (-168 * a**3, -24 * a**2))
                centre = ((-36 * a**2, 9 * a), (-192 * a**3, 36 * a**2))
            w[i] = _product2(lower, c_inv[i - 1])
            c_inv[i] = _inverse2(_minus2(centre, _product2(w[i], self.U[i - 1])))
        self.w = np.array([((0.0, 0.0), (0.0, 0.0))] + w[1:])
        self.c_inv = np.array(c_inv)
        self.upper = np.array(self.U[:-1] + [((0.0, 0.0), (0.0, 0.0))])

    def derivatives(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and second derivatives at the knots (knots x columns) of the spline through y."""
        y = np.asarray(y, dtype=float)
        r = np.asarray(self.r)[:, None]
        slope = np.diff(y, axis=0) / self.h[:, None]
        rhs = np.empty((len(self.x), 2, y.shape[1]))
        third, fourth = r**2 * slope, r**3 * slope
        rhs[1:-1, 0] = 60 * (third[1:] - third[:-1])
        rhs[1:-1, 1] = -360 * (fourth[:-1] + fourth[1:])
        rhs[0, 0], rhs[0, 1] = -60 * third[0], 360 * fourth[0]
        rhs[-1, 0], rhs[-1, 1] = -60 * third[-1], -360 * fourth[-1]
        w, c_inv, upper = self.w, self.c_inv, self.upper
        for i in range(1, len(rhs)):
            rhs[i] -= w[i] @ rhs[i - 1]
        rhs[-1] = c_inv[-1] @ rhs[-1]
        for i in range(len(rhs) - 2, -1, -1):
            rhs[i] = c_inv[i] @ (rhs[i] - upper[i] @ rhs[i + 1])
        return rhs[:, 0], rhs[:, 1] / self.scale

    def derivative(self, y: np.ndarray) -> np.ndarray:
        return self.derivatives(y)[0]


def _inverse2(m):
    (a, b), (c, d) = m
    det = a * d - b * c
    return ((d / det, -b / det), (-c / det, a / det))


def _product2(m, n):
    (a, b), (c, d) = m
    (e, f), (g, h) = n
    return ((a * e + b * g, a * f + b * h), (c * e + d * g, c * f + d * h))


def _minus2(m, n):
    return ((m[0][0] - n[0][0], m[0][1] - n[0][1]), (m[1][0] - n[1][0], m[1][1] - n[1][1]))


def build_problem(
    *,
    so_model_path: str | Path,
    coordinates_mot: str | Path,
    external_loads_xml: str | Path,
    time_range: tuple[float, float],
) -> SOProblem:
    """OpenSim's SO problem at every coordinate frame inside ``time_range``.

    Muscle moment arms are the generalized forces OpenSim applies for a unit path
    tension (muscle_paths.py), at every frame; everything else (mass matrix,
    constraints, external loads, force per unit control) is OpenSim's, one
    realization per frame. ``problem.cpu_s`` holds the CPU time of each part."""
    clock = _Clock()
    # One model and state for everything. For the zero-control accelerations the
    # muscles are switched off in the state (OpenSim's overridden muscles apply no force
    # at zero control, and SO's override leaves out passive force), so no acceleration
    # realization computes their forces or state derivatives; the other actuators are
    # overridden to zero. Their paths and fibre forces are still had from the state.
    model = osim.Model(str(so_model_path))
    state = model.initSystem()
    actuators = _scalar_actuators(model)
    muscles = [osim.Muscle.safeDownCast(a) for a in actuators]
    for actuator, muscle in zip(actuators, muscles):
        if muscle is not None:
            muscle.setAppliesForce(state, False)
        else:
            actuator.overrideActuation(state, True)
            actuator.setOverrideActuation(state, 0.0)
    external = ExternalLoadForces(model, external_loads_xml)
    coordinate_set = model.getCoordinateSet()
    names = [coordinate_set.get(i).getName() for i in range(coordinate_set.getSize())]
    n_q, n_u = state.getNQ(), state.getNU()
    if n_q != n_u:
        raise MuscleError(
            f"the model {so_model_path} has joints whose q and u differ (e.g. ball or free joints); "
            "the fast SO solver needs one generalized speed per coordinate",
            fix="set static_optimization.solver: opensim",
        )
    index = _state_indices(model, state)
    unconstrained = [n for n in names if not coordinate_set.get(n).isConstrained(state)]
    acc_rows = np.array(sorted(index[n][1] for n in unconstrained))
    by_u = {index[n][1]: n for n in names}
    clock.lap("setup")
    times, q_named, u_named, udot_named = kinematics(model, coordinates_mot, names, time_range)
    frames = np.flatnonzero((times >= time_range[0] - 1e-9) & (times <= time_range[1] + 1e-9))
    if not len(frames):
        raise MuscleError(
            f"no coordinate frame of {coordinates_mot} lies in {time_range[0]:.3f}-{time_range[1]:.3f} s",
            fix="check the trial's analysis window",
        )
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
    matter = model.getMatterSubsystem()
    mass_matrix, jacobian = osim.Matrix(), osim.Matrix()

    def response_at(k: int) -> np.ndarray:
        state.setQ(osim.Vector.createFromMat(q_all[k]))
        model.realizePosition(state)
        matter.calcM(state, mass_matrix)
        matter.calcG(state, jacobian)
        return _acceleration_response(mass_matrix.to_numpy(), jacobian.to_numpy() if jacobian.nrow() else None)

    n_act = len(actuators)
    A = np.zeros((len(frames), len(acc_rows), n_act))
    moment_per_control = np.zeros((len(frames), len(acc_rows), n_act))
    b = np.zeros((len(frames), len(acc_rows)))
    force_per_control = np.zeros((len(frames), n_act))
    optimal_force = np.array([0.0 if m is not None else a.getOptimalForce() for a, m in zip(actuators, muscles)])
    path_forces = muscle_paths.AppliedPathForces(model, path_muscles)
    external_at = external.at_times(times[frames])
    for k in range(len(frames)):
        state.setTime(float(times[frames[k]]))
        response = response_at(k)
        state.setU(osim.Vector.createFromMat(u_all[k]))
        model.realizeAcceleration(state)
        udot_unloaded = state.getUDot().to_numpy()
        # udot is affine in the applied generalized forces, so the external loads add
        # response @ their generalized force
        udot_zero = udot_unloaded + response @ external.generalized_forces(state, external_at, k)
        clock.lap("dynamics")
        force_per_control[k] = optimal_force
        force_per_control[k, muscle_j] = [m.calcInextensibleTendonActiveFiberForce(state, 1.0) for m in path_muscles]
        clock.lap("muscle_force")
        generalized = np.zeros((n_u, n_act))  # generalized force per unit control
        generalized[:, muscle_j] = path_forces(state).T
        clock.lap("moment_arms")
        for j, u_index in coordinate_actuator_u.items():
            generalized[u_index, j] = 1.0
        generalized *= force_per_control[k]
        columns = response @ generalized
        for j in other_actuators:  # e.g. point or torque actuators: probe OpenSim as it does (without external loads)
            actuators[j].setOverrideActuation(state, float(force_per_control[k, j]))
            model.realizeAcceleration(state)
            columns[:, j] = state.getUDot().to_numpy() - udot_unloaded
            actuators[j].setOverrideActuation(state, 0.0)
        A[k] = columns[acc_rows]
        moment_per_control[k] = generalized[acc_rows]
        b[k] = udot_all[k, acc_rows] - udot_zero[acc_rows]
        clock.lap("assembly")
    lower = np.array([max(a.getMinControl(), -UNBOUNDED) for a in actuators])
    upper = np.array([min(a.getMaxControl(), UNBOUNDED) for a in actuators])
    problem = SOProblem(
        times=times[frames],
        actuators=[a.getName() for a in actuators],
        is_muscle=np.array([m is not None for m in muscles]),
        coordinates=[by_u[i] for i in acc_rows],
        A=A,
        moment_per_control=moment_per_control,
        b=b,
        force_per_control=force_per_control,
        lower=lower,
        upper=upper,
    )
    problem.cpu_s.update(clock.laps)
    problem.cpu_s["build"] = sum(clock.laps.values())
    return problem


class ExternalLoadForces:
    """The generalized forces of an ExternalLoads file, as OpenSim's ExternalForce applies
    them, with each force, point and torque evaluated once per frame for all frames.

    OpenSim evaluates each GRF column's spline at every acceleration realization, and
    its GCVSpline takes about 60 us per evaluation on a 1341-sample (600 Hz) file: 1.1 ms
    of the 1.3 ms of multibody dynamics per frame on gait2392. ExternalForce fits a GCV
    spline of degree 3 with zero error variance (opensim-core ExternalForce.cpp), i.e.
    the natural cubic interpolating spline (straight beyond the data's ends, as
    OpenSim's), evaluated here for all frames at once; tests/test_fast_so.py compares
    the values and the resulting accelerations with OpenSim's own."""

    def __init__(self, model: osim.Model, external_loads_xml: str | Path):
        self.model = model
        loads = osim.ExternalLoads(str(external_loads_xml), True)
        data_file = Path(loads.getDataFileName())
        if not data_file.is_absolute():
            data_file = Path(external_loads_xml).parent / data_file
        self.data_file = data_file
        table, _ = formats.read_storage(data_file)  # 20x faster than column by column through SWIG
        self.columns = [c for c in table.columns if c != "time"]
        self.data_times = table["time"].to_numpy(dtype=float)
        self.data = {c: table[c].to_numpy(dtype=float) for c in self.columns}
        self.forces = []
        for i in range(loads.getSize()):
            force = osim.ExternalForce.safeDownCast(loads.get(i))
            if force is None or not force.get_appliesForce():
                continue
            self.forces.append(
                {
                    "force": force,
                    "body": self._frame(force.getAppliedToBodyName()),
                    "force_frame": self._frame(force.getForceExpressedInBodyName()),
                    "point_frame": self._frame(force.getPointExpressedInBodyName() or force.getAppliedToBodyName()),
                    "force_columns": self._columns(force.getForceIdentifier()),
                    "point_columns": self._columns(force.getPointIdentifier()),
                    "torque_columns": self._columns(force.getTorqueIdentifier()),
                }
            )
            spec = self.forces[-1]
            spec["index"] = int(spec["body"].getMobilizedBodyIndex())
            spec["force_in_ground"] = spec["force_frame"].getAbsolutePathString() == "/ground"
            spec["point_in_ground"] = spec["point_frame"].getAbsolutePathString() == "/ground"
        self.n_bodies = model.getBodySet().getSize() + 1

    def _frame(self, name: str) -> osim.PhysicalFrame:
        return self.model.getGround() if name == "ground" else self.model.getBodySet().get(name)

    def _columns(self, identifier: str) -> list[str]:
        """The three columns ExternalForce reads for an identifier (its prefix); none
        without an identifier. Anything but three is refused, as OpenSim refuses it."""
        if not identifier:
            return []
        columns = [c for c in self.columns if c.startswith(identifier)]
        if len(columns) != 3:
            raise MuscleError(
                f"the external loads' data file {self.data_file} has {len(columns)} columns "
                f"starting with '{identifier}' ({', '.join(columns) or 'none'}); "
                "OpenSim's ExternalForce needs exactly 3",
                fix="check the GRF file's column names and the external loads' identifiers",
            )
        return columns

    def at_times(self, times: np.ndarray) -> list[dict]:
        """Per force: force, point and torque (frames x 3, in their own frames) at ``times``."""
        keys = ("force", "point", "torque")
        used = sorted({c for spec in self.forces for key in keys for c in spec[f"{key}_columns"]})
        data = np.column_stack([self.data[c] for c in used]) if used else np.zeros((len(self.data_times), 0))
        if len(self.data_times) > 3:  # one spline solve for every column at once
            values = natural_cubic_spline(self.data_times, data, times)
        else:  # ExternalForce uses straight lines through 2-3 samples
            values = np.column_stack([np.interp(times, self.data_times, column) for column in data.T])
        column_of = {c: i for i, c in enumerate(used)}
        return [
            {
                key: values[:, [column_of[c] for c in spec[f"{key}_columns"]]] if spec[f"{key}_columns"] else None
                for key in keys
            }
            for spec in self.forces
        ]

    def generalized_forces(self, state: osim.State, values: list[dict], k: int) -> np.ndarray:
        """Generalized forces (n_u) of every external force at frame k (ExternalForce::
        computeForce: force and torque expressed in ground, the point moved to the
        applied body); the state must be realized to Position at that frame. Vectors
        given in ground (as GRF are) are used as they are: the moment of a force at a
        ground point p about the body's origin o is (p - o) x F, one OpenSim call per
        force instead of four."""
        body_forces = osim.VectorOfSpatialVec(self.n_bodies, osim.SpatialVec(osim.Vec3(0), osim.Vec3(0)))
        totals = {}
        for spec, value in zip(self.forces, values):
            body, force_frame, point_frame = spec["body"], spec["force_frame"], spec["point_frame"]
            force = value["force"][k]
            if not spec["force_in_ground"]:
                force = force_frame.expressVectorInGround(state, osim.Vec3(*force)).to_numpy()
            moment = np.zeros(3)
            if value["point"] is not None:
                if spec["point_in_ground"]:
                    arm = value["point"][k] - body.getPositionInGround(state).to_numpy()
                else:
                    point = point_frame.findStationLocationInAnotherFrame(state, osim.Vec3(*value["point"][k]), body)
                    arm = body.expressVectorInGround(state, point).to_numpy()
                moment += (
                    arm[1] * force[2] - arm[2] * force[1],
                    arm[2] * force[0] - arm[0] * force[2],
                    arm[0] * force[1] - arm[1] * force[0],
                )
            if value["torque"] is not None:
                torque = value["torque"][k]
                moment += (
                    torque
                    if spec["force_in_ground"]
                    else force_frame.expressVectorInGround(state, osim.Vec3(*torque)).to_numpy()
                )
            index = spec["index"]
            previous = totals.get(index, np.zeros(6))
            totals[index] = previous + np.concatenate([moment, force])
        for index, spatial in totals.items():
            body_forces.set(index, osim.SpatialVec(osim.Vec3(*spatial[:3]), osim.Vec3(*spatial[3:])))
        out = osim.Vector()
        self.model.getMatterSubsystem().multiplyBySystemJacobianTranspose(state, body_forces, out)
        return out.to_numpy()


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
    x, _, exitflag, _ = daqp.solve(
        np.diag(curvature), linear, A, np.concatenate([upper, b]), np.concatenate([lower, b]), sense
    )
    return np.asarray(x), exitflag == 1


def activation_and_force(problem: SOProblem, controls: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables shaped like OpenSim's SO activation and force storages."""
    activation = pd.DataFrame(controls, columns=problem.actuators)
    activation.insert(0, "time", problem.times)
    force = pd.DataFrame(controls * problem.force_per_control, columns=problem.actuators)
    force.insert(0, "time", problem.times)
    return activation, force


def static_optimization(
    *,
    so_model_path: str | Path,
    coordinates_mot: str | Path,
    external_loads_xml: str | Path,
    time_range: tuple[float, float],
    activation_exponent: float,
    subject: str,
    trial: str,
) -> tuple[pd.DataFrame, pd.DataFrame, SOProblem]:
    """The fast solver's counterpart of opensim_tools.static_optimization: activation
    and force tables (columns as OpenSim writes them, without the external-load
    columns of its force file), and the problem (for its timings)."""
    try:
        problem = build_problem(
            so_model_path=so_model_path,
            coordinates_mot=coordinates_mot,
            external_loads_xml=external_loads_xml,
            time_range=time_range,
        )
    except MuscleError as err:  # name the subject and trial
        raise MuscleError(
            err.message, subject=subject, trial=trial, fix=err.fix, opensim_message=err.opensim_message
        ) from None
    except Exception as err:
        raise MuscleError(
            "building the static optimization problem failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check the IK and GRF of this trial, or set static_optimization.solver: opensim",
        ) from None
    controls, ok = solve(problem, activation_exponent=activation_exponent)
    if not ok.all():
        failed = ", ".join(f"{t:.3f}" for t in problem.times[~ok][:10])
        raise MuscleError(
            f"static optimization found no solution at {np.count_nonzero(~ok)} frame(s) (t = {failed} s)",
            subject=subject,
            trial=trial,
            fix="raise static_optimization.max_isometric_force_scale or reserve_optimal_force, "
            "or check the IK and GRF of this trial",
        )
    activation, force = activation_and_force(problem, controls)
    return activation, force, problem
