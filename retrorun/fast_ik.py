"""Fast inverse kinematics: OpenSim's IK problem, solved frame by frame as bounded least squares.

OpenSim's InverseKinematicsTool (opensim-core Tools/InverseKinematicsTool.cpp,
Simulation/InverseKinematicsSolver.cpp and AssemblySolver.cpp, over Simbody's
Assembler) minimises, at each marker frame,

    sum_i w_i |p_i(q) - m_i|^2 / (2 sum_i w_i)  +  sum_c W_c (q_c - v_c)^2 / 2

over the model's coordinates q, where i runs over the markers with an applied
IKMarkerTask that the model and the marker file both have (a marker missing (NaN) in
the frame is left out of both sums: Simbody's AssemblyCondition_Markers), and c over
the applied IKCoordinateTasks (v_c the coordinate's default value for
``default_value``, the task's value for ``manual_value``; ``from_file`` needs a
coordinate file, which the pipeline never gives, so OpenSim's IK refuses it too).
Locked coordinates are held at their default value, clamped coordinates kept in
their range (Assembler::restrictQ), and the model's constraints enforced exactly
(constraint_weight infinite). OpenSim starts the first frame from the model's default
pose and each later frame from the previous solution, and solves to a convergence
tolerance of 1e-5 on the goal with the optimizer Simbody chooses (Assembler::initialize,
Optimizer::constructOptimizerRep): IPOPT where the model has constraints (their
equations are the problem's constraints), otherwise L-BFGS-B (the clamped coordinates'
bounds).

Here the same cost is written as 0.5 |r(x)|^2 with residuals sqrt(w_i / sum w) (p_i - m_i)
and sqrt(W_c) (q_c - v_c), over x the free coordinates (not locked, not the dependent
coordinate of a CoordinateCouplerConstraint; a coupled coordinate is its coupling
function of its independent coordinate). Marker positions and the system Jacobian
come from OpenSim's own multibody system (SimbodyMatterSubsystem.calcSystemJacobian:
a marker's rows are v_B - [R_B s]x w_B of its body), and each frame is solved by a bounded
Levenberg-Marquardt iteration (_least_squares) from the previous frame's solution moved on
by the last frame's motion along the directions the markers determine (the first frame
from the default pose, pushed inside its bounds where OpenSim's IPOPT pushes it).

Where the markers leave directions open (a torso with one marker turns freely about the
line from its joint to that marker; a thigh whose knee markers are out of view), every
pose along them fits equally well, and the problem's optimum is a set. OpenSim's
optimizers end near their start along them: their steps are built from the cost's
gradients (L-BFGS-B's quasi-Newton updates, from a multiple of the identity), which lie
in the row space of the markers' Jacobian, so apart from bounds they never move along
its null space. The solver here does the same: its steps and its extrapolation are
restricted to that row space (_determined), and along the open directions each frame
stays where the previous one left it. Where the markers determine every direction the
restriction changes nothing. The joints must have qdot = u (CustomJoint, PinJoint, SliderJoint,
WeldJoint...: checked at set-up; a joint whose q are not its speeds' integrals, such
as a BallJoint, is refused). Anything else it cannot reproduce (another constraint
type, another IK task type, a coupler of several coordinates) is refused with an
InputError telling the user to set ``ik.solver: opensim``.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opensim as osim
import pandas as pd

from . import formats, templates
from .errors import InputError, KinematicsError
from .formats import MarkerTable

FIX = templates.FAST_IK_FIX
# Levenberg-Marquardt per frame: stop when no coordinate would move more than
# STEP_TOLERANCE (rad or m: 0.0006 deg, 0.01 mm; convergence is linear at a rate of about
# 0.4 on Hamner, so the solution is then within about that of the optimum: measured 0.0003
# deg RMS from OpenSim's IK run at accuracy 1e-9) or the cost falls by less than
# COST_TOLERANCE of itself.
STEP_TOLERANCE = 1e-5
COST_TOLERANCE = 1e-12
# Where the previous frame's minimum has vanished, a frame crawls along a flat valley to
# the next one (Gauss-Newton's J'J omits the residuals' second derivatives weighted by the
# residuals, which a poor fit makes large): about 300 evaluations on walking2.c3d at
# 2.604 s and 270 at 2.536 s, where 200 stopped 1 mm of marker RMS short of OpenSim's
MAX_ITERATIONS = 1000
DAMPING_START = 1e-3  # Marquardt's scaled damping at each frame's start
DAMPING_MAX = 1e10
# each frame starts from the last two solutions extrapolated along the determined
# directions (the first from the default pose); False: from the last solution
EXTRAPOLATE = True
# IPOPT's bound_push, for the first frame's start (see _inside)
BOUND_PUSH = 0.01
# singular values below NULL_RCOND times the largest count as zero (see _determined)
NULL_RCOND = float(np.sqrt(np.finfo(float).eps))
# J'J's eigenvalues (accurate to about n eps of the largest) all above FULL_RANK times the
# largest: every singular value is far above NULL_RCOND, so the step needs no SVD
FULL_RANK = 1e-10


def check_task_set(task_set: ET.Element, path: str | Path) -> None:
    """Refuse IK tasks the fast solver does not implement (also checked at planning time:
    validation.check_templates)."""
    problems = templates.fast_ik_task_problems(task_set, path)
    if problems:
        raise InputError(problems[0], fix=FIX)


def _text(element: ET.Element, tag: str, default: str) -> str:
    found = element.find(tag)
    return found.text.strip() if found is not None and found.text and found.text.strip() else default


@dataclass
class IKModel:
    """The model as the fast solver uses it: coordinates, their q indices, markers, couplers."""

    model: osim.Model
    state: osim.State
    coordinates: list[str]  # model coordinate-set order
    q_index: np.ndarray  # coordinate -> index in the state's Q (and U: qdot = u is checked)
    rotational: np.ndarray  # (n_coord,) bool
    default_q: np.ndarray  # (nq,) the assembled default pose
    free: np.ndarray  # coordinate indices optimised over
    couplers: list[tuple[int, int, osim.Function, float]]  # (dependent, independent, function, scale)
    lower: np.ndarray  # bounds on the free coordinates
    upper: np.ndarray


def load_model(model_path: str | Path) -> IKModel:
    """Load the model and check that the fast solver can reproduce OpenSim's IK on it."""
    model = osim.Model(str(model_path))
    return inspect_model(model, model.initSystem(), model_path)


def model_problems(model: osim.Model, model_path: str | Path) -> list[str]:
    """Why the fast solver cannot run IK on this model (empty when it can): for the
    planning-time check (validation.model_inventory). Scaling keeps what is checked
    (joint types, constraints, locks, prescribed motion), so the generic model tells."""
    try:
        inspect_model(model, model.initSystem(), model_path)
    except InputError as err:
        return [err.message]
    return []


def inspect_model(model: osim.Model, state: osim.State, model_path: str | Path) -> IKModel:
    """The fast solver's view of an initialised model; InputError for what it does not implement."""
    coordinate_set = model.getCoordinateSet()
    names = [coordinate_set.get(i).getName() for i in range(coordinate_set.getSize())]
    nq, nu = state.getNQ(), state.getNU()
    if nq != nu or nq != len(names):
        raise InputError(
            f"model {model_path}: {nq} generalized coordinates, {nu} speeds and {len(names)} OpenSim coordinates; "
            f"the fast IK solver needs one q and one u per coordinate (no quaternions, no ball joints)",
            fix=FIX,
        )
    prescribed = [name for i, name in enumerate(names) if coordinate_set.get(i).get_prescribed()]
    if prescribed:
        raise InputError(
            f"model {model_path}: coordinates {', '.join(prescribed)} have prescribed motion, which the fast IK "
            f"solver does not implement",
            fix=FIX,
        )
    default_q = state.getQ().to_numpy().copy()
    q_index = np.empty(len(names), dtype=int)
    for i, name in enumerate(names):
        coordinate = coordinate_set.get(i)
        # which q this coordinate is, and that qdot = u for it (N = I, as in CustomJoint/PinJoint)
        probe = osim.State(state)
        probe.setU(osim.Vector(nu, 0.0))
        coordinate.setSpeedValue(probe, 1.0)
        model.realizeVelocity(probe)
        u = probe.getU().to_numpy()
        qdot = probe.getQDot().to_numpy()
        k = int(np.argmax(np.abs(u)))
        if not (np.count_nonzero(u) == 1 and np.allclose(qdot, u, atol=1e-12)):
            joint = coordinate.getJoint()
            raise InputError(
                f"model {model_path}: coordinate {name} of joint {joint.getName()} ({joint.getConcreteClassName()}) "
                f"has a q whose rate is not its speed; the fast IK solver handles joints with qdot = u "
                f"(CustomJoint, PinJoint, SliderJoint, WeldJoint)",
                fix=FIX,
            )
        q_index[i] = k
    rotational = np.array(
        [coordinate_set.get(i).getMotionType() == osim.Coordinate.Rotational for i in range(len(names))]
    )
    # OpenSim's IK writes rotational coordinates in degrees, others (translations, coupled) as they are
    couplers = []
    constraint_set = model.getConstraintSet()
    for j in range(constraint_set.getSize()):
        constraint = constraint_set.get(j)
        if not constraint.get_isEnforced():
            continue
        coupler = osim.CoordinateCouplerConstraint.safeDownCast(constraint)
        if coupler is None:
            raise InputError(
                f"model {model_path}: constraint {constraint.getName()} ({constraint.getConcreteClassName()}) is "
                f"not supported by the fast IK solver, which handles CoordinateCouplerConstraints of one "
                f"independent coordinate",
                fix=FIX,
            )
        independent = coupler.getIndependentCoordinateNames()
        if independent.getSize() != 1:
            raise InputError(
                f"model {model_path}: coordinate coupler {coupler.getName()} has {independent.getSize()} "
                f"independent coordinates; the fast IK solver handles one",
                fix=FIX,
            )
        dependent, source = names.index(coupler.getDependentCoordinateName()), names.index(independent.get(0))
        couplers.append(
            (
                dependent,
                source,
                coupler.getFunction(),
                float(osim.PropertyHelper.getValueDouble(coupler.getPropertyByName("scale_factor"))),
            )
        )
    dependents = {c[0] for c in couplers}
    if {c[1] for c in couplers} & dependents:
        raise InputError(
            f"model {model_path}: a coupled coordinate drives another coupler; the fast IK solver handles one level",
            fix=FIX,
        )
    locked = {i for i, name in enumerate(names) if coordinate_set.get(i).getLocked(state)}
    free = np.array([i for i in range(len(names)) if i not in locked and i not in dependents], dtype=int)
    lower = np.full(len(free), -np.inf)
    upper = np.full(len(free), np.inf)
    for k, i in enumerate(free):
        coordinate = coordinate_set.get(int(i))
        if coordinate.getClamped(state):
            lower[k], upper[k] = coordinate.getRangeMin(), coordinate.getRangeMax()
    return IKModel(model, state, names, q_index, rotational, default_q, free, couplers, lower, upper)


@dataclass
class IKResult:
    times: np.ndarray
    coordinates: pd.DataFrame  # time + coordinates, rotational ones in degrees (OpenSim's .mot)
    markers: list[str]  # markers in use, in marker-file order
    locations: np.ndarray  # (n_frames, n_markers, 3) model markers in ground
    squared_errors: np.ndarray  # (n_frames, n_markers), 0 where the marker is missing
    cpu_s: float
    evaluations: int


class _Problem:
    """Residuals and Jacobian of one frame's cost, evaluated with OpenSim's kinematics."""

    def __init__(self, ik: IKModel, markers: list[str], weights: np.ndarray, tasks: list[tuple[int, float, float]]):
        self.ik = ik
        model = ik.model
        self.matter = model.getMatterSubsystem()
        marker_set = model.getMarkerSet()
        self.marker_objects = [marker_set.get(name) for name in markers]
        bodies = [int(m.getParentFrame().getMobilizedBodyIndex()) for m in self.marker_objects]
        self.marker_body = np.array(bodies, dtype=int)
        self.body_objects = {}
        for body in model.getBodySet():
            self.body_objects[int(body.getMobilizedBodyIndex())] = body
        self.bodies = sorted(set(bodies) - {0})
        self.weights = weights
        n_free = len(ik.free)
        free_position = {int(c): k for k, c in enumerate(ik.free)}
        # the speeds' columns the Jacobian needs: the free coordinates', then the coupled ones'
        # (u index == q index: checked at load)
        self.columns = np.concatenate([ik.q_index[ik.free], [ik.q_index[d] for d, _, _, _ in ik.couplers]]).astype(int)
        self.coupler_source = [free_position.get(source, -1) for _, source, _, _ in ik.couplers]
        # the first derivative, as a Python list: SWIG converts a sequence element by element,
        # while an osim.StdVectorInt is the proxy of whichever opensim module bound the name
        # last (moco's), which common's Function.calcDerivative refused with a TypeError once
        # other opensim modules had been used in the process (the full test suite)
        self.derivative = [0]
        # coordinate tasks: residual sqrt(W) (q - v); d/dx is sqrt(W) on the coordinate's own
        # column, or sqrt(W) times the coupling slope on its independent coordinate's column
        self.task_q = np.array([ik.q_index[c] for c, _, _ in tasks], dtype=int)
        self.task_root = np.sqrt(np.array([w for _, w, _ in tasks], dtype=float))
        self.task_value = np.array([v for _, _, v in tasks], dtype=float)
        self.task_rows = np.zeros((len(tasks), n_free))
        self.task_coupled = []  # (task row, coupler index, column)
        dependents = {d: k for k, (d, _, _, _) in enumerate(ik.couplers)}
        for row, (coordinate, _, _) in enumerate(tasks):
            if coordinate in free_position:
                self.task_rows[row, free_position[coordinate]] = self.task_root[row]
            elif coordinate in dependents and self.coupler_source[dependents[coordinate]] >= 0:
                k = dependents[coordinate]
                self.task_coupled.append((row, k, self.coupler_source[k]))
        self.jacobian = osim.Matrix()
        self.q = ik.default_q.copy()
        self.evaluations = 0
        self._cache_key = None

    def origins(self, state: osim.State) -> np.ndarray:
        """Each marker's body origin in ground (ground's markers: the origin)."""
        found = np.zeros((int(self.marker_body.max(initial=0)) + 1, 3))
        for b in self.bodies:
            found[b] = self.body_objects[b].getPositionInGround(state).to_numpy()
        return found[self.marker_body]

    def set_x(self, x: np.ndarray) -> np.ndarray:
        """Full q from the free coordinates (couplers applied); returns each coupler's slope."""
        ik = self.ik
        q = self.q
        q[ik.q_index[ik.free]] = x
        slopes = np.empty(len(ik.couplers))
        for k, (dependent, source, function, scale) in enumerate(ik.couplers):
            argument = osim.Vector(1, float(q[ik.q_index[source]]))
            q[ik.q_index[dependent]] = scale * function.calcValue(argument)
            slopes[k] = scale * function.calcDerivative(self.derivative, argument)
        return slopes

    def evaluate(self, x: np.ndarray, observed: np.ndarray, visible: np.ndarray):
        key = (x.tobytes(), observed.tobytes())
        if key == self._cache_key:
            return self._cached
        ik = self.ik
        slopes = self.set_x(x)
        state = ik.state
        state.setQ(osim.Vector(self.q))
        ik.model.realizePosition(state)
        self.evaluations += 1
        positions = np.array([m.getLocationInGround(state).to_numpy() for m in self.marker_objects])
        self.matter.calcSystemJacobian(state, self.jacobian)
        system = self.jacobian.to_numpy()[:, self.columns]  # (6 n_mobod, n_cols): per mobilized body [w; v]
        blocks = system.reshape(-1, 6, len(self.columns))[self.marker_body]  # (n_markers, 6, n_cols)
        w, v = blocks[:, :3], blocks[:, 3:]
        r = (positions - self.origins(state))[:, :, None]
        # a station's velocity: v_B + w_B x r  =  v - r x w, per speed column
        jac = v - np.stack(
            [
                r[:, 1] * w[:, 2] - r[:, 2] * w[:, 1],
                r[:, 2] * w[:, 0] - r[:, 0] * w[:, 2],
                r[:, 0] * w[:, 1] - r[:, 1] * w[:, 0],
            ],
            axis=1,
        )
        n_free = len(ik.free)
        jac_x = jac[:, :, :n_free]
        for k, (source, slope) in enumerate(zip(self.coupler_source, slopes)):
            if source >= 0:  # the coupled coordinate moves with its independent coordinate
                jac_x[:, :, source] += jac[:, :, n_free + k] * slope
        seen = self.weights * visible
        scale = np.sqrt(seen / max(float(seen.sum()), 1e-300))
        error = np.where(visible[:, None], positions - np.nan_to_num(observed), 0.0)
        task_rows = self.task_rows.copy()
        for row, k, column in self.task_coupled:
            task_rows[row, column] = self.task_root[row] * slopes[k]
        residual = np.concatenate(
            [(scale[:, None] * error).ravel(), self.task_root * (self.q[self.task_q] - self.task_value)]
        )
        jacobian = np.vstack([(scale[:, None, None] * jac_x).reshape(-1, n_free), task_rows])
        self._cached = (residual, jacobian, positions)
        self._cache_key = key
        return self._cached


def _inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The first frame's start moved inside its bounds as IPOPT moves it (bound_push 0.01,
    bound_frac 0.01: Wachter & Biegler 2006, section 3.6), so a default value on a bound
    (an elbow's 0 deg) does not start the search on the bound."""
    push = np.minimum(
        BOUND_PUSH * np.maximum(1.0, np.abs(np.where(np.isfinite(lower), lower, 0.0))), BOUND_PUSH * (upper - lower)
    )
    push_upper = np.minimum(
        BOUND_PUSH * np.maximum(1.0, np.abs(np.where(np.isfinite(upper), upper, 0.0))), BOUND_PUSH * (upper - lower)
    )
    return np.clip(x, lower + push, upper - push_upper)


def _determined(jac: np.ndarray, normal: np.ndarray | None = None) -> np.ndarray:
    """Orthonormal rows spanning the directions the residuals determine (the row space of
    jac): its right singular vectors whose singular value exceeds NULL_RCOND times the
    largest. Below that the cost's curvature along a direction is under double
    precision's resolution of the largest (s^2 < eps s_max^2): the markers leave the
    direction open, as a torso's rotation about the line from its joint to its only
    marker. ``normal`` is jac' jac if the caller has it."""
    n = jac.shape[1]
    if n == 0 or not np.any(jac):
        return np.zeros((0, n))
    normal = jac.T @ jac if normal is None else normal
    curvature = np.linalg.eigvalsh(normal)
    if curvature[0] > FULL_RANK * curvature[-1]:  # all far above NULL_RCOND: no SVD needed
        return np.eye(n)
    _, singular, rows = np.linalg.svd(jac, full_matrices=False)
    return rows[singular > NULL_RCOND * singular[0]]


def _least_squares(evaluate, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Bounded Levenberg-Marquardt (Nielsen's damping update): min |r(x)|^2, lower <= x <= upper.
    Coordinates at a bound whose gradient pushes outwards are held there; other steps are
    clipped to the box. Stops when no coordinate would move more than STEP_TOLERANCE.

    Each step is Marquardt's damped step restricted to the directions the residuals
    determine (_determined). The linearised cost sees a step only through jac @ step, so
    a step's part in jac's null space changes nothing the markers see, yet Marquardt's
    scaling puts one there: (J'J + lambda diag(J'J))^-1 J'r lies in diag(J'J)^-1
    range(J'), not in range(J'). Steps in the row space reach the optimum nearest the
    frame's start, as OpenSim's optimizers do; Marquardt's steps took the solution 23 deg
    RMS from OpenSim's along a torso's open turn (walking2.c3d, one torso marker)."""
    r, jac = evaluate(x)
    cost = float(r @ r)
    damping, growth = DAMPING_START, 2.0
    for _ in range(MAX_ITERATIONS):
        gradient = jac.T @ r
        # within STEP_TOLERANCE of a bound counts as on it: the projected extrapolation
        # leaves a coordinate on its bound a rounding error inside, and a step computed
        # with it free, then clipped, is no longer the damped model's minimiser and often
        # fails the ratio test (Hamner: 13 evaluations per frame instead of 9)
        held = ((x <= lower + STEP_TOLERANCE) & (gradient > 0)) | ((x >= upper - STEP_TOLERANCE) & (gradient < 0))
        moving = ~held
        if not moving.any():
            break
        jm = jac[:, moving]
        normal = jm.T @ jm
        damped = normal + damping * np.diag(np.maximum(np.diag(normal), 1e-12))  # Marquardt's scaling
        basis = _determined(jm, normal)  # (k, n_moving), orthonormal rows
        step = np.zeros_like(x)
        if len(basis) == len(normal):
            step[moving] = -np.linalg.solve(damped, gradient[moving])
        else:  # the damped model minimised over steps basis.T @ z (positive definite: all kept directions curve)
            step[moving] = -basis.T @ np.linalg.solve(basis @ damped @ basis.T, basis @ gradient[moving])
        trial = np.clip(x + step, lower, upper)
        step = trial - x
        if float(np.max(np.abs(step), initial=0.0)) <= STEP_TOLERANCE:
            break
        predicted = -(2 * gradient @ step + step @ (jac.T @ (jac @ step)))
        r_trial, jac_trial = evaluate(trial)
        cost_trial = float(r_trial @ r_trial)
        ratio = (cost - cost_trial) / predicted if predicted > 0 else -1.0
        if ratio > 0:
            decrease = cost - cost_trial
            x, r, jac, cost = trial, r_trial, jac_trial, cost_trial
            damping *= max(1 / 3, 1 - (2 * ratio - 1) ** 3)
            growth = 2.0
            if decrease <= COST_TOLERANCE * cost:
                break
        else:
            damping *= growth
            growth *= 2
            if damping > DAMPING_MAX:
                break
    return x


def coordinate_tasks(task_set: ET.Element, ik: IKModel) -> list[tuple[int, float, float]]:
    """(coordinate index, weight, value) of the applied coordinate tasks, as OpenSim's IK builds them;
    tasks on locked coordinates are dropped (AssemblySolver locks the q instead)."""
    coordinate_set = ik.model.getCoordinateSet()
    tasks = []
    for task in task_set.iter("IKCoordinateTask"):
        if _text(task, "apply", "true").lower() != "true":
            continue
        name = task.get("name")
        i = ik.coordinates.index(name)
        coordinate = coordinate_set.get(i)
        if coordinate.getLocked(ik.state):
            continue
        if _text(task, "value_type", "default_value") == "manual_value":
            value = float(_text(task, "value", "0"))
        else:
            value = coordinate.getDefaultValue()
        tasks.append((i, float(_text(task, "weight", "1")), value))
    return tasks


def solve(
    ik: IKModel,
    markers: MarkerTable,
    task_set: ET.Element,
    *,
    time_range: tuple[float, float],
) -> IKResult:
    """Solve IK at every marker frame in time_range (OpenSim's frames: nearest rows to the ends)."""
    started = time.process_time()
    weights_by_name = {m: w for m, w in templates.marker_weights(task_set).items()}
    model_markers = {ik.model.getMarkerSet().get(i).getName() for i in range(ik.model.getMarkerSet().getSize())}
    names = [m for m in markers.marker_names if m in weights_by_name and m in model_markers]
    weights = np.array([weights_by_name[m] for m in names], dtype=float)
    tasks = coordinate_tasks(task_set, ik)
    problem = _Problem(ik, names, weights, tasks)
    times = markers.time_s
    first = int(np.argmin(np.abs(times - time_range[0])))
    last = int(np.argmin(np.abs(times - time_range[1])))
    frames = range(first, last + 1)
    observed_all = np.stack([markers.positions_m[m] for m in names], axis=1) if names else np.zeros((len(times), 0, 3))
    x = ik.default_q[ik.q_index[ik.free]].copy()
    determined = np.zeros((0, len(x)))  # the last frame's determined directions (_determined)
    motion = np.zeros_like(x)
    n_frames = len(frames)
    q_out = np.empty((n_frames, len(ik.coordinates)))
    locations = np.empty((n_frames, len(names), 3))
    squared = np.zeros((n_frames, len(names)))
    for row, frame in enumerate(frames):
        observed = observed_all[frame]
        visible = np.isfinite(observed).all(axis=1)
        if row == 0:
            # IPOPT moves a start off its bounds; L-BFGS-B projects it onto them (Byrd et al.
            # 1995, SIAM J Sci Comput 16:1190; Simbody's lbfgsb.cpp, subroutine active)
            start = _inside(x, ik.lower, ik.upper) if ik.couplers else np.clip(x, ik.lower, ik.upper)
        elif not EXTRAPOLATE:
            start = np.clip(x, ik.lower, ik.upper)
        else:
            # the last frame's motion carried on only where the markers determine it: along
            # what they leave open the solution stays where it is (extrapolating it there
            # carried a drift on at constant speed: a torso with one marker turned over 1000 deg)
            start = np.clip(x + determined.T @ (determined @ motion), ik.lower, ik.upper)
        solved = _least_squares(
            lambda v, seen=observed, mask=visible: problem.evaluate(v, seen, mask)[:2], start, ik.lower, ik.upper
        )
        if not np.all(np.isfinite(solved)):
            raise KinematicsError(
                f"fast IK found no solution at t = {times[frame]:.3f} s",
                fix=f"check the markers of the trial, or {FIX}",
            )
        _, jacobian, positions = problem.evaluate(solved, observed, visible)
        if EXTRAPOLATE:
            motion = solved - x if row > 0 else np.zeros_like(x)
            determined = _determined(jacobian)
        x = solved
        q_out[row] = problem.q[ik.q_index]
        locations[row] = positions
        squared[row] = np.where(visible, ((positions - np.nan_to_num(observed)) ** 2).sum(axis=1), 0.0)
    values = np.where(ik.rotational, np.degrees(q_out), q_out)
    table = pd.DataFrame(values, columns=ik.coordinates)
    table.insert(0, "time", times[first : last + 1])
    return IKResult(
        times=times[first : last + 1],
        coordinates=table,
        markers=names,
        locations=locations,
        squared_errors=squared,
        cpu_s=time.process_time() - started,
        evaluations=problem.evaluations,
    )


def write_outputs(result: IKResult, *, out_mot: str | Path, work_dir: str | Path, name: str) -> tuple[Path, Path]:
    """Write what OpenSim's InverseKinematicsTool writes in this pipeline: the motion (rotational
    coordinates in degrees), <name>_ik_marker_errors.sto (total squared error, RMS and max over
    the markers in use, a missing marker counting 0 as in OpenSim) and
    <name>_ik_model_marker_locations.sto. Returns (errors, locations)."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    formats.write_storage(out_mot, result.coordinates, in_degrees=True, name=name)
    n_markers = result.squared_errors.shape[1]
    total = result.squared_errors.sum(axis=1)
    errors = pd.DataFrame(
        {
            "time": result.times,
            "total_squared_error": total,
            "marker_error_RMS": np.sqrt(total / n_markers) if n_markers else np.zeros_like(total),
            "marker_error_max": np.sqrt(result.squared_errors.max(axis=1)) if n_markers else np.zeros_like(total),
        }
    )
    errors_path = work / f"{name}_ik_marker_errors.sto"
    formats.write_storage(errors_path, errors, in_degrees=False, name="Model Marker Errors from IK")
    columns = {"time": result.times}
    for j, marker in enumerate(result.markers):
        for k, axis in enumerate("xyz"):
            columns[f"{marker}_t{axis}"] = result.locations[:, j, k]
    locations_path = work / f"{name}_ik_model_marker_locations.sto"
    formats.write_storage(
        locations_path, pd.DataFrame(columns), in_degrees=False, name="Model Marker Locations from IK"
    )
    return errors_path, locations_path


def inverse_kinematics(
    *,
    model_path: str,
    markers: MarkerTable,
    task_set_file: str,
    time_range: tuple[float, float],
    out_mot: str,
    work_dir: str,
    name: str,
) -> tuple[Path, Path]:
    """The fast counterpart of opensim_tools.inverse_kinematics: same inputs (the markers as a
    table rather than the TRC written from it), same files."""
    task_set = templates.ik_task_set(task_set_file)
    check_task_set(task_set, task_set_file)
    ik = load_model(model_path)
    result = solve(ik, markers, task_set, time_range=time_range)
    return write_outputs(result, out_mot=out_mot, work_dir=work_dir, name=name)
