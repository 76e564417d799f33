"""The one thin layer over OpenSim's tools: config in, tool objects run, files out.

Each function writes the setup XML it ran next to its outputs, so any step can be
re-run by hand in the OpenSim GUI or command line, and turns OpenSim's exceptions
into the stage's RetrorunError with OpenSim's own message attached.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import opensim as osim
import pandas as pd

from . import actuators as act
from .errors import DynamicsError, InputError, KinematicsError, MuscleError, ResidualReductionError, ScalingError
from .formats import MarkerTable, read_storage
from .opensim_log import forward_to_logging

# OpenSim's messages reach the job's log (retrorun.opensim_log), as soon as OpenSim is used
forward_to_logging()


# IK solver accuracy and SO convergence as in OpenSim's examples; more SO iterations
# than the default 100 because a chunk's first frame has no warm start.
IK_ACCURACY = 1e-5
SO_CONVERGENCE = 1e-4
SO_MAX_ITERATIONS = 1000


def _abs(path: str | Path) -> str:
    """OpenSim resolves relative paths in a setup file against the setup's folder: never give it one."""
    return str(Path(path).resolve())


def load_model(path: str | Path, *, what: str = "model") -> osim.Model:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist", fix="check model.osim in the config")
    try:
        model = osim.Model(str(path))
        model.initSystem()
    except Exception as err:
        raise InputError(
            f"OpenSim cannot load the {what} {path}",
            fix="open the model in the OpenSim GUI and fix what it reports",
            opensim_message=str(err),
        ) from None
    return model


def coordinate_motion_types(model: osim.Model) -> dict[str, bool]:
    """Coordinate name -> True when rotational."""
    return {c.getName(): c.getMotionType() == osim.Coordinate.Rotational for c in model.getCoordinateSet()}


# ----------------------------------------------------------------------- scaling


def scale(
    *,
    generic_model: str,
    marker_set: str | None,
    scale_setup: str,
    static_trc: str,
    mass_kg: float,
    height_m: float | None,
    time_range: tuple[float, float],
    out_model: str,
    work_dir: str,
    subject: str,
) -> tuple[Path, Path]:
    """Scale the generic model to a subject and place its markers.

    Returns (model scaled before marker placement, static pose .mot)."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        tool = osim.ScaleTool(_abs(scale_setup))
    except Exception as err:
        raise ScalingError(
            f"OpenSim cannot read the scale setup {scale_setup}",
            subject=subject,
            fix="give model.scale_setup an OpenSim ScaleTool setup XML",
            opensim_message=str(err),
        ) from None
    # Every path below is absolute: an empty path-to-subject stops OpenSim from
    # prefixing the template's folder (where the stale paths pointed).
    tool.setPathToSubject("")
    tool.setName(subject)
    tool.setSubjectMass(float(mass_kg))
    if height_m:
        tool.setSubjectHeight(float(height_m) * 1000.0)  # OpenSim stores height in mm
    times = osim.ArrayDouble()
    times.append(float(time_range[0]))
    times.append(float(time_range[1]))
    maker = tool.getGenericModelMaker()
    maker.setModelFileName(_abs(generic_model))
    maker.setMarkerSetFileName(_abs(marker_set) if marker_set else "Unassigned")
    scaler = tool.getModelScaler()
    scaler.setApply(True)
    scaler.setMarkerFileName(_abs(static_trc))
    scaler.setTimeRange(times)
    scaler.setPreserveMassDist(True)
    # The model before markers are moved onto the data: its marker errors in the static
    # pose are the scaling errors the Best Practices thresholds speak of.
    scaler.setOutputModelFileName(_abs(work / "scaled_before_marker_placement.osim"))
    scaler.setOutputScaleFileName(_abs(work / "scale_factors.xml"))
    placer = tool.getMarkerPlacer()
    placer.setApply(True)
    placer.setStaticPoseFileName(_abs(static_trc))
    placer.setTimeRange(times)
    placer.setCoordinateFileName("Unassigned")
    placer.setOutputModelFileName(_abs(out_model))
    pose = work / "static_pose.mot"
    placer.setOutputMotionFileName(_abs(pose))
    placer.setOutputMarkerFileName("Unassigned")
    placer.setMaxMarkerMovement(-1)
    tool.printToXML(_abs(work / "scale_setup.xml"))
    try:
        recorded = osim.ScaleTool(_abs(work / "scale_setup.xml"))
        recorded.setPathToSubject("")  # loading sets it to the setup's folder again
        ok = recorded.run()
    except Exception as err:
        raise ScalingError(
            "OpenSim's ScaleTool failed",
            subject=subject,
            opensim_message=str(err),
            fix="check that the scale setup's marker pairs and static-pose markers exist in the static trial",
        ) from None
    if not ok or not Path(out_model).is_file():
        raise ScalingError(
            "OpenSim's ScaleTool did not write a scaled model",
            subject=subject,
            fix="read the job log for OpenSim's messages",
        )
    return work / "scaled_before_marker_placement.osim", pose


def static_marker_errors(
    *, model_path: str, pose_mot: str, markers: MarkerTable, time_range: tuple[float, float], weights: dict[str, float]
) -> pd.DataFrame:
    """Distance between each weighted model marker in the static pose and the mean experimental marker."""
    model = osim.Model(_abs(model_path))
    state = model.initSystem()
    pose, header = read_storage(pose_mot)
    in_degrees = header.get("inDegrees", "no").lower().startswith("y")
    types = coordinate_motion_types(model)
    for column in pose.columns[1:]:
        # MarkerPlacer writes a states file (/jointset/<joint>/<coordinate>/value) in radians;
        # older tools write plain coordinate names.
        name = column.split("/")[-2] if column.endswith("/value") else column
        if name in types and not column.endswith("/speed"):
            value = float(pose[column].iloc[0])
            model.getCoordinateSet().get(name).setValue(
                state, np.radians(value) if (in_degrees and types[name]) else value, False
            )
    model.realizePosition(state)
    window = markers.window(*time_range)
    rows = []
    model_markers = model.getMarkerSet()
    for name, weight in weights.items():
        if weight <= 0 or name not in window.positions_m or not model_markers.contains(name):
            continue
        measured = np.nanmean(window.positions_m[name], axis=0)
        if np.any(np.isnan(measured)):
            continue
        location = model_markers.get(name).getLocationInGround(state)
        simulated = np.array([location.get(i) for i in range(3)])
        rows.append({"marker": name, "weight": weight, "error_m": float(np.linalg.norm(simulated - measured))})
    return pd.DataFrame(rows, columns=["marker", "weight", "error_m"])


# ----------------------------------------------------------- inverse kinematics


def inverse_kinematics(
    *,
    model_path: str,
    trc: str,
    task_set_file: str,
    time_range: tuple[float, float],
    out_mot: str,
    work_dir: str,
    name: str,
    subject: str,
    trial: str,
) -> tuple[Path, Path]:
    """Run IK; returns the marker-error and model-marker-location .sto files OpenSim writes."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    tool = osim.InverseKinematicsTool()
    tool.setName(name)
    tool.set_model_file(_abs(model_path))
    tool.set_marker_file(_abs(trc))
    tool.set_IKTaskSet(osim.IKTaskSet(_abs(task_set_file)))
    tool.set_time_range(0, float(time_range[0]))
    tool.set_time_range(1, float(time_range[1]))
    tool.set_report_errors(True)
    tool.set_report_marker_locations(True)  # per-marker errors tell which marker to fix
    tool.set_accuracy(IK_ACCURACY)
    tool.set_results_directory(_abs(work))
    tool.set_output_motion_file(_abs(out_mot))
    setup = work / "ik_setup.xml"
    tool.printToXML(_abs(setup))
    try:
        ok = osim.InverseKinematicsTool(_abs(setup)).run()
    except Exception as err:
        raise KinematicsError(
            "OpenSim's InverseKinematicsTool failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check the markers of the trial against the IK tasks (names, gaps, units)",
        ) from None
    errors = work / f"{name}_ik_marker_errors.sto"
    locations = work / f"{name}_ik_model_marker_locations.sto"
    if not ok or not Path(out_mot).is_file() or not errors.is_file() or not locations.is_file():
        raise KinematicsError(
            "OpenSim's InverseKinematicsTool wrote no result",
            subject=subject,
            trial=trial,
            fix="read the job log for OpenSim's messages",
        )
    return errors, locations


def marker_errors_by_marker(
    locations_sto: str | Path, markers: MarkerTable, *, weights: dict[str, float]
) -> pd.DataFrame:
    """Distance (m) between each weighted model marker, as IK placed it, and the measured
    marker at every IK frame: long table time_s, marker, error_m (frames where the
    marker was not seen are left out)."""
    locations, _ = read_storage(locations_sto)
    rows = []
    for name in weights:
        columns = [f"{name}_t{axis}" for axis in "xyz"]
        if name not in markers.positions_m or not set(columns) <= set(locations.columns):
            continue
        measured = np.column_stack(
            [np.interp(locations["time"], markers.time_s, markers.positions_m[name][:, i]) for i in range(3)]
        )
        error = np.linalg.norm(locations[columns].to_numpy() - measured, axis=1)
        seen = ~np.isnan(error)
        rows.append(
            pd.DataFrame({"time_s": locations["time"].to_numpy()[seen], "marker": name, "error_m": error[seen]})
        )
    if not rows:
        return pd.DataFrame(columns=["time_s", "marker", "error_m"])
    return pd.concat(rows, ignore_index=True)


# ------------------------------------------------------------ inverse dynamics


def inverse_dynamics(
    *,
    model_path: str,
    coordinates_mot: str,
    external_loads_xml: str,
    time_range: tuple[float, float],
    out_sto: str,
    work_dir: str,
    name: str,
    subject: str,
    trial: str,
) -> None:
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    out_sto = Path(out_sto)
    tool = osim.InverseDynamicsTool()
    tool.setName(name)
    tool.setModelFileName(_abs(model_path))
    tool.setCoordinatesFileName(_abs(coordinates_mot))
    tool.setExternalLoadsFileName(_abs(external_loads_xml))
    tool.setLowpassCutoffFrequency(-1)  # coordinates are filtered already, with the GRF's cutoff
    tool.setStartTime(float(time_range[0]))
    tool.setEndTime(float(time_range[1]))
    excluded = osim.ArrayStr()
    excluded.append("Muscles")
    tool.setExcludedForces(excluded)
    tool.setResultsDir(_abs(out_sto.parent))
    tool.setOutputGenForceFileName(out_sto.name)
    setup = work / f"{name}_setup.xml"
    tool.printToXML(_abs(setup))
    try:
        ok = osim.InverseDynamicsTool(_abs(setup)).run()
    except Exception as err:
        raise DynamicsError(
            "OpenSim's InverseDynamicsTool failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check the external loads (bodies, GRF columns) and that the GRF covers the IK time range",
        ) from None
    if not ok or not out_sto.is_file():
        raise DynamicsError(
            "OpenSim's InverseDynamicsTool wrote no result",
            subject=subject,
            trial=trial,
            fix="read the job log for OpenSim's messages",
        )


# -------------------------------------------------------- static optimization


def prepare_so_model(
    *,
    model_path: str,
    out_model: str,
    max_isometric_force_scale: float,
    residual_optimal_force: float,
    reserve_optimal_force: float,
    unmuscled_optimal_force: float,
    strength_scaling: str = "none",
    generic_model_path: str | None = None,
    mass_kg: float | None = None,
    height_m: float | None = None,
    reference_height_m: float = 1.8,
    subject: str = "",
) -> list[act.ActuatorSpec]:
    """Write the model SO runs on: muscle strength scaled to body size (``strength.py``)
    and by ``max_isometric_force_scale``, residual/reserve actuators added."""
    from . import strength

    Path(out_model).parent.mkdir(parents=True, exist_ok=True)
    model = osim.Model(_abs(model_path))
    state = model.initSystem()
    specs = act.actuator_specs(
        model,
        state,
        residual_optimal_force=residual_optimal_force,
        reserve_optimal_force=reserve_optimal_force,
        unmuscled_optimal_force=unmuscled_optimal_force,
    )
    generic = osim.Model(_abs(generic_model_path)) if strength_scaling != "none" else None
    factors = strength.strength_factors(
        law=strength_scaling,
        generic_model=generic,
        scaled_model=model,
        mass_kg=mass_kg,
        height_m=height_m,
        reference_height_m=reference_height_m,
        subject=subject,
    )
    for muscle in model.getMuscles():
        muscle.setMaxIsometricForce(
            muscle.getMaxIsometricForce() * factors[muscle.getName()] * max_isometric_force_scale
        )
    act.add_actuators(model, specs)
    model.finalizeConnections()
    model.printToXML(_abs(out_model))
    return specs


def static_optimization(
    *,
    so_model_path: str,
    coordinates_mot: str,
    external_loads_xml: str,
    time_range: tuple[float, float],
    activation_exponent: float,
    work_dir: str,
    name: str,
    subject: str,
    trial: str,
) -> tuple[Path, Path]:
    """Run SO through the AnalyzeTool; returns (activation .sto, force .sto)."""
    work = Path(work_dir)
    setup = write_so_setup(
        so_model_path=so_model_path,
        coordinates_mot=coordinates_mot,
        external_loads_xml=external_loads_xml,
        time_range=time_range,
        activation_exponent=activation_exponent,
        work_dir=work_dir,
        name=name,
    )
    try:
        ok = osim.AnalyzeTool(_abs(setup)).run()
    except Exception as err:
        raise MuscleError(
            "static optimization failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="raise static_optimization.max_isometric_force_scale or reserve_optimal_force, "
            "or check the IK and GRF of this trial",
        ) from None
    activation = work / f"{name}_StaticOptimization_activation.sto"
    force = work / f"{name}_StaticOptimization_force.sto"
    if not ok or not activation.is_file() or not force.is_file():
        raise MuscleError(
            "static optimization wrote no result",
            subject=subject,
            trial=trial,
            fix="read the job log for OpenSim's messages",
        )
    return activation, force


def write_so_setup(
    *,
    so_model_path: str,
    coordinates_mot: str,
    external_loads_xml: str,
    time_range: tuple[float, float],
    activation_exponent: float,
    work_dir: str,
    name: str,
) -> Path:
    """Write the AnalyzeTool + StaticOptimization setup (so_setup.xml) that OpenSim's SO
    runs; the fast solver writes it too, so its result can be checked by hand in OpenSim."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    tool = osim.AnalyzeTool()
    tool.setName(name)
    tool.setModelFilename(_abs(so_model_path))
    tool.setCoordinatesFileName(_abs(coordinates_mot))
    tool.setExternalLoadsFileName(_abs(external_loads_xml))
    tool.setLowpassCutoffFrequency(-1)
    tool.setInitialTime(float(time_range[0]))
    tool.setFinalTime(float(time_range[1]))
    tool.setResultsDir(_abs(work))
    tool.setReplaceForceSet(False)
    tool.setSolveForEquilibrium(False)
    analysis = osim.StaticOptimization()
    analysis.setName("StaticOptimization")
    analysis.setStartTime(float(time_range[0]))
    analysis.setEndTime(float(time_range[1]))
    analysis.setUseModelForceSet(True)
    analysis.setActivationExponent(float(activation_exponent))
    analysis.setUseMusclePhysiology(True)
    analysis.setConvergenceCriterion(SO_CONVERGENCE)
    analysis.setMaxIterations(SO_MAX_ITERATIONS)
    tool.getAnalysisSet().cloneAndAppend(analysis)
    setup = work / "so_setup.xml"
    tool.printToXML(_abs(setup))
    return setup


# ---------------------------------------------------------- residual reduction


def _rotation_and_origin(frame, state) -> tuple[np.ndarray, np.ndarray]:
    transform = frame.getTransformInGround(state)
    rotation = transform.R()
    origin = transform.p()
    return (
        np.array([[rotation.get(i, j) for j in range(3)] for i in range(3)]),
        np.array([origin.get(i) for i in range(3)]),
    )


def as_model(model: osim.Model | str | Path) -> osim.Model:
    """A loaded model as it is, a path loaded: a script that asks several questions of one
    model loads it once (an 80-muscle model takes about 0.1 s of CPU to read)."""
    return model if isinstance(model, osim.Model) else osim.Model(_abs(model))


def root_jacobians(
    *, model: osim.Model | str | Path, coordinates: pd.DataFrame, in_degrees: bool, body: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """At every row of an IK table (column ``time`` + coordinate names): the root body's
    angular and origin velocity in ground per unit speed of each root coordinate (6 x n,
    Simbody's frame Jacobian of the root body at that pose) and the orientation of
    ``body`` (3 x 3, ground from body) and the whole-body COM height (m above the floor
    y = 0). Returns (root coordinate names, jacobians frames x 6 x n, rotations frames x
    3 x 3, COM heights frames). ``model``: a path or a loaded model (as_model)."""
    model = as_model(model)
    state = model.initSystem()
    roots = act.root_coordinates(model)
    root_joint = next(j for j in model.getJointSet() if j.getParentFrame().findBaseFrame().getName() == "ground")
    if root_joint.getConcreteClassName() in ("FreeJoint", "BallJoint", "GimbalJoint"):
        # their rotational generalized forces are per angular velocity, not per coordinate speed
        raise InputError(
            f"the model's root joint '{root_joint.getName()}' is a {root_joint.getConcreteClassName()}; "
            "residual reduction reads the root forces of a CustomJoint or PlanarJoint",
            fix="use residual_reduction.method none, or a model whose pelvis joint is a CustomJoint",
        )
    root_body = osim.PhysicalFrame.safeDownCast(root_joint.getChildFrame().findBaseFrame())
    adjusted = model.getBodySet().get(body)
    coordinate_set = model.getCoordinateSet()
    speeds = _speed_indices(model, state, roots)
    types = coordinate_motion_types(model)
    names = [c for c in coordinates.columns[1:] if c in types]
    matter, frame_jacobian = model.getMatterSubsystem(), osim.Matrix()
    root_index, origin = root_body.getMobilizedBodyIndex(), osim.Vec3(0.0)
    jacobians = np.zeros((len(coordinates), 6, len(roots)))
    rotations = np.zeros((len(coordinates), 3, 3))
    com_heights = np.zeros(len(coordinates))
    for row, values in enumerate(coordinates[names].to_numpy(dtype=float)):
        for name, value in zip(names, values):
            coordinate_set.get(name).setValue(
                state, np.radians(value) if (in_degrees and types[name]) else value, False
            )
        model.realizePosition(state)
        rotations[row] = _rotation_and_origin(adjusted, state)[0]
        com_heights[row] = model.calcMassCenterPosition(state).get(1)
        # rows: angular velocity, then the velocity of the body's origin, both in ground
        matter.calcFrameJacobian(state, root_index, origin, frame_jacobian)
        jacobians[row] = frame_jacobian.to_numpy()[:, speeds]
    return roots, jacobians, rotations, com_heights


def _speed_indices(model, state, names: list[str]) -> list[int]:
    """Where each named coordinate's speed sits in the state's U (the frame Jacobian's
    columns): set it alone to 1 and find it."""
    coordinate_set = model.getCoordinateSet()
    indices = []
    for name in names:
        state.setU(osim.Vector(state.getNU(), 0.0))
        coordinate_set.get(name).setSpeedValue(state, 1.0)
        (index,) = np.flatnonzero(state.getU().to_numpy())
        indices.append(int(index))
    state.setU(osim.Vector(state.getNU(), 0.0))
    return indices


def body_masses(model: osim.Model | str | Path) -> dict[str, float]:
    """Every body's mass (kg) by name; ``model``: a path or a loaded model (as_model)."""
    model = as_model(model)  # held while its body set is read: the set is the model's
    return {b.getName(): b.getMass() for b in model.getBodySet()}


def gravity_m_s2(model: osim.Model | str | Path) -> float:
    """Magnitude of the model's gravity, which must point along -Y (OpenSim's convention);
    ``model``: a path or a loaded model (as_model)."""
    model = as_model(model)
    gravity = model.getGravity()
    values = [gravity.get(i) for i in range(3)]
    if abs(values[0]) > 1e-9 or abs(values[2]) > 1e-9 or values[1] >= 0:
        raise InputError(
            f"the model {model.getDocumentFileName()} has gravity {values}; residual reduction needs gravity along -Y",
            fix="set the model's gravity to (0, -9.80665, 0)",
        )
    return -values[1]


def write_mass_com_model(
    *, model_path: str, out_model: str, body: str, com_shift_body_m: np.ndarray, masses_kg: dict[str, float]
) -> None:
    """Copy of the model with ``body``'s mass centre moved by ``com_shift_body_m`` (body
    frame) and every body's mass set from ``masses_kg`` (inertia scaled with the mass, so
    each body keeps its radius of gyration)."""
    model = osim.Model(_abs(model_path))
    model.initSystem()
    target = model.getBodySet().get(body)
    com = target.getMassCenter()
    target.setMassCenter(osim.Vec3(*(com.get(i) + float(com_shift_body_m[i]) for i in range(3))))
    for item in model.getBodySet():
        new_mass = masses_kg[item.getName()]
        old_mass = item.getMass()
        if old_mass > 0 and new_mass != old_mass:
            item.scaleMass(new_mass / old_mass)  # inertia with it: each body keeps its radius of gyration
    model.finalizeConnections()
    Path(out_model).parent.mkdir(parents=True, exist_ok=True)
    model.printToXML(_abs(out_model))


# RRA's tracking (CMC) gains of OpenSim's RRA examples; joint actuators strong, so the
# residual actuators' optimal forces (config) decide how much RRA changes the kinematics
# rather than leaning on residuals.
RRA_KP, RRA_KV = 100.0, 20.0
RRA_JOINT_OPTIMAL_FORCE = 300.0


def residual_axis_names(model: osim.Model, state: osim.State) -> dict[str, str]:
    """Root coordinate -> RRA's residual name (FX, FY, FZ for translations, MX, MY, MZ for
    rotations): the ground axis its motion follows in the default pose. RRA's COM
    adjustment reads its residuals by these names."""
    coordinate_set = model.getCoordinateSet()
    root_joint = next(j for j in model.getJointSet() if j.getParentFrame().findBaseFrame().getName() == "ground")
    root_body = root_joint.getChildFrame().findBaseFrame()
    names = {}
    for coordinate_name in act.root_coordinates(model):
        coordinate = coordinate_set.get(coordinate_name)
        value = coordinate.getValue(state)
        poses = []
        for sign in (1.0, -1.0):
            coordinate.setValue(state, value + sign * 1e-6, False)
            model.realizePosition(state)
            poses.append(_rotation_and_origin(root_body, state))
        coordinate.setValue(state, value, False)
        model.realizePosition(state)
        (r_plus, p_plus), (r_minus, p_minus) = poses
        rotational = coordinate.getMotionType() == osim.Coordinate.Rotational
        if rotational:
            spin = r_plus @ r_minus.T - r_minus @ r_plus.T
            direction = np.array([spin[2, 1], spin[0, 2], spin[1, 0]])
        else:
            direction = p_plus - p_minus
        names[coordinate_name] = ("M" if rotational else "F") + "XYZ"[int(np.argmax(np.abs(direction)))]
    if len(set(names.values())) != len(names):
        raise InputError(
            f"the root joint's coordinates {list(names)} do not move along distinct ground axes in the "
            f"default pose ({names})",
            fix="use residual_reduction.method mass_com or none for this model",
        )
    return names


def write_rra_setup_files(
    *, model_path: str, work_dir: str, residual_force_optimal_force: float, residual_moment_optimal_force: float
) -> tuple[Path, Path, dict[str, str]]:
    """RRA's actuators (residuals named by axis, one strong actuator per other free
    coordinate) and tracking tasks (one per free coordinate), from the model itself."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    model = osim.Model(_abs(model_path))
    state = model.initSystem()
    residual_names = residual_axis_names(model, state)
    forces = osim.ForceSet()
    tasks = osim.CMC_TaskSet()
    for coordinate in act.free_coordinates(model):
        name = coordinate.getName()
        actuator = osim.CoordinateActuator(name)
        actuator.setName(residual_names.get(name, f"actuator_{name}"))
        if name not in residual_names:
            actuator.setOptimalForce(RRA_JOINT_OPTIMAL_FORCE)
        elif residual_names[name].startswith("F"):
            actuator.setOptimalForce(residual_force_optimal_force)
        else:
            actuator.setOptimalForce(residual_moment_optimal_force)
        actuator.setMinControl(-float("inf"))
        actuator.setMaxControl(float("inf"))
        forces.cloneAndAppend(actuator)
        task = osim.CMC_Joint(name)
        task.setName(name)
        task.setKP(RRA_KP, 1, 1)
        task.setKV(RRA_KV, 1, 1)
        task.setActive(True, False, False)
        task.setWeight(1.0, 0, 0)
        tasks.cloneAndAppend(task)
    actuators_xml, tasks_xml = work / "rra_actuators.xml", work / "rra_tasks.xml"
    forces.printToXML(_abs(actuators_xml))
    tasks.printToXML(_abs(tasks_xml))
    return actuators_xml, tasks_xml, residual_names


def residual_reduction_algorithm(
    *,
    model_path: str,
    coordinates_mot: str,
    external_loads_xml: str,
    time_range: tuple[float, float],
    com_time_range: tuple[float, float],
    adjusted_body: str,
    residual_force_optimal_force: float,
    residual_moment_optimal_force: float,
    out_model: str,
    work_dir: str,
    name: str,
    subject: str,
    trial: str,
) -> tuple[Path, Path, dict[str, str]]:
    """OpenSim's RRATool over ``time_range`` (COM adjusted from the mean residuals over
    ``com_time_range``); returns (kinematics .sto in degrees, actuation force .sto,
    root coordinate -> residual name)."""
    work = Path(work_dir)
    actuators_xml, tasks_xml, residual_names = write_rra_setup_files(
        model_path=model_path,
        work_dir=work_dir,
        residual_force_optimal_force=residual_force_optimal_force,
        residual_moment_optimal_force=residual_moment_optimal_force,
    )
    tool = osim.RRATool()
    tool.setName(name)
    tool.setModelFilename(_abs(model_path))
    tool.setReplaceForceSet(True)
    files = osim.ArrayStr()
    files.append(_abs(actuators_xml))
    tool.setForceSetFiles(files)
    tool.setResultsDir(_abs(work))
    tool.setInitialTime(float(time_range[0]))
    tool.setFinalTime(float(time_range[1]))
    tool.setExternalLoadsFileName(_abs(external_loads_xml))
    tool.setDesiredKinematicsFileName(_abs(coordinates_mot))
    tool.setTaskSetFileName(_abs(tasks_xml))
    tool.setLowpassCutoffFrequency(-1)  # the IK coordinates are filtered already
    tool.setAdjustCOMToReduceResiduals(True)
    tool.setAdjustedCOMBody(adjusted_body)
    tool.setOutputModelFileName(_abs(out_model))
    setup = work / "rra_setup.xml"
    tool.printToXML(_abs(setup))
    # no setter in the Python API for the COM averaging range: set it in the setup file
    text = setup.read_text()
    text = text.replace(
        "<initial_time_for_com_adjustment>-1</initial_time_for_com_adjustment>",
        f"<initial_time_for_com_adjustment>{com_time_range[0]!r}</initial_time_for_com_adjustment>",
    )
    text = text.replace(
        "<final_time_for_com_adjustment>-1</final_time_for_com_adjustment>",
        f"<final_time_for_com_adjustment>{com_time_range[1]!r}</final_time_for_com_adjustment>",
    )
    setup.write_text(text)
    cwd = os.getcwd()
    try:
        ok = osim.RRATool(_abs(setup)).run()
    except Exception as err:
        raise ResidualReductionError(
            "OpenSim's RRATool failed",
            subject=subject,
            trial=trial,
            opensim_message=str(err),
            fix="check the IK and GRF of this trial, or use residual_reduction.method mass_com",
        ) from None
    finally:
        os.chdir(cwd)  # RRATool may leave the process in another folder
    kinematics = work / f"{name}_Kinematics_q.sto"
    forces = work / f"{name}_Actuation_force.sto"
    if not ok or not kinematics.is_file() or not Path(out_model).is_file():
        raise ResidualReductionError(
            "OpenSim's RRATool wrote no result",
            subject=subject,
            trial=trial,
            fix="read the job log for OpenSim's messages",
        )
    return kinematics, forces, residual_names


def mass_centre(model_path: str, body: str) -> np.ndarray:
    model = osim.Model(_abs(model_path))  # kept in a variable: the body set lives only as long as the model
    centre = model.getBodySet().get(body).getMassCenter()
    return np.array([centre.get(i) for i in range(3)])
