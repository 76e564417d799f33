"""The built-in generic planar running model, built from the parameter tables in
``models/retrorun_planar/`` with the OpenSim API.

The model follows the gait2392 family (gait10dof18musc.osim): bodies pelvis, femur,
tibia, talus, calcn, toes per side and torso; a planar pelvis (pelvis_tilt, pelvis_tx,
pelvis_ty), hip, knee (Yamaguchi & Zajac 1989 planar knee: tibia translations as
splines of the knee angle) and ankle flexion per side, lumbar extension, and welded
subtalar and MTP joints. Thirteen muscles per leg keep their anatomical moment-arm
sign across the joint range through gait2392's conditional path points (quadriceps
over the femoral condyles in deep flexion, gastrocnemius behind the knee) and moving
points (the patellar-tendon insertion of the quadriceps).

The tables describe the right side; every row on a paired body (``_r``) and every
marker named ``R.*`` is mirrored to the left (``_l``, ``L.*``) with z negated.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ConfigError
from ..formats import atomic_path

MODEL_FILE = "retrorun_planar.osim"
SIDES = {"r": 1.0, "l": -1.0}  # side suffix -> sign of z
TABLES = {
    "bodies.csv": [
        "body",
        "paired",
        "mass_kg",
        "com_x_m",
        "com_y_m",
        "com_z_m",
        "ixx_kg_m2",
        "iyy_kg_m2",
        "izz_kg_m2",
        "source",
    ],
    "joints.csv": [
        "joint",
        "type",
        "parent",
        "child",
        "parent_x_m",
        "parent_y_m",
        "parent_z_m",
        "coordinates",
        "source",
    ],
    "coordinates.csv": ["coordinate", "unit", "default", "range_min", "range_max", "check_min", "check_max", "source"],
    "knee_translation.csv": ["axis", "knee_angle_rad", "translation_m", "source"],
    "muscles.csv": [
        "muscle",
        "max_isometric_force_n",
        "optimal_fiber_length_m",
        "tendon_slack_length_m",
        "pennation_angle_deg",
        "source",
    ],
    "path_points.csv": [
        "muscle",
        "order",
        "body",
        "x_m",
        "y_m",
        "z_m",
        "kind",
        "coordinate",
        "active_min_deg",
        "active_max_deg",
        "source",
    ],
    "moving_points.csv": ["muscle", "order", "axis", "knee_angle_rad", "location_m", "source"],
    "markers.csv": ["marker", "body", "x_m", "y_m", "z_m", "source"],
    # not built into the model: the anatomical action each muscle must keep (moment-arm check)
    "actions.csv": ["muscle", "coordinate", "expected_sign", "reference_muscle", "reference_exception", "source"],
}
MUSCLE_CLASSES = ("Millard2012EquilibriumMuscle", "DeGrooteFregly2016Muscle", "Thelen2003Muscle")


def parameter_files(params_dir: str | Path) -> list[Path]:
    """Every file the model is built from (a rule's inputs); actions.csv only feeds the
    moment-arm check, so editing it does not rebuild the model and rerun the study."""
    params_dir = Path(params_dir)
    return [params_dir / name for name in TABLES if name != "actions.csv"] + [params_dir / "model.yaml"]


def _osim():
    import opensim as osim

    osim.Logger.setLevelString("warn")
    return osim


# ------------------------------------------------------------------------ tables


def read_tables(params_dir: str | Path) -> dict:
    """Every parameter table (pandas DataFrames) and the model settings (``model.yaml``),
    checked for their columns and for a source on every row."""
    params_dir = Path(params_dir)
    if not params_dir.is_dir():
        raise ConfigError(
            f"the model parameter folder {params_dir} does not exist",
            fix="point params_dir at models/retrorun_planar of the repository",
        )
    tables = {}
    for name, columns in TABLES.items():
        path = params_dir / name
        if not path.is_file():
            raise ConfigError(f"model parameter table {path} is missing", fix=f"restore {name} from the repository")
        table = pd.read_csv(
            path,
            dtype={"coordinates": str, "coordinate": str, "kind": str},
            keep_default_na=False,
            na_values={c: [""] for c in columns if c.endswith(("_m", "_kg", "_kg_m2", "_n", "_deg", "_rad"))},
        )
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ConfigError(
                f"model parameter table {path} lacks column(s) {', '.join(missing)}",
                fix=f"give {name} the columns {', '.join(columns)}",
            )
        unsourced = table.index[table["source"].astype(str).str.strip() == ""].tolist()
        if unsourced:
            raise ConfigError(
                f"model parameter table {path}: row(s) {', '.join(str(i + 2) for i in unsourced)} have no source",
                fix="cite the published source of every number in the 'source' column",
            )
        tables[name[: -len(".csv")]] = table
    settings_path = params_dir / "model.yaml"
    if not settings_path.is_file():
        raise ConfigError(f"model settings {settings_path} are missing", fix="restore model.yaml from the repository")
    settings = yaml.safe_load(settings_path.read_text()) or {}
    for key in ("name", "gravity_m_s2", "muscle_class", "strength_scale"):
        if key not in settings:
            raise ConfigError(f"model settings {settings_path} lack '{key}'", fix=f"add {key} to model.yaml")
    if settings["muscle_class"] not in MUSCLE_CLASSES:
        raise ConfigError(
            f"model settings {settings_path}: muscle_class '{settings['muscle_class']}' is not one of "
            f"{', '.join(MUSCLE_CLASSES)}",
            fix="choose one of these OpenSim muscle classes",
        )
    if not float(settings["strength_scale"]) > 0:
        raise ConfigError(
            f"model settings {settings_path}: strength_scale must be > 0, got {settings['strength_scale']}",
            fix="set strength_scale to a positive factor (1 = the published strengths)",
        )
    tables["settings"] = settings
    return tables


def _sided(name: str, side: str, paired: set[str]) -> str:
    return f"{name}_{side}" if name in paired else name


def _body(bodies: dict, name: str, where: str):
    if name not in bodies:
        raise ConfigError(
            f"{where} names body '{name}', which bodies.csv does not make",
            fix=f"use one of {', '.join(sorted(bodies))} (paired bodies without their _r/_l suffix)",
        )
    return bodies[name]


def _side_rows(table: pd.DataFrame, column: str, paired: set[str]):
    """(side, row) for each side a row belongs to: paired bodies on both sides, others once."""
    for row in table.itertuples(index=False):
        if getattr(row, column) in paired:
            for side in SIDES:
                yield side, row
        else:
            yield None, row


# ------------------------------------------------------------------------- model


def _vec(osim, x, y, z, sign=1.0):
    return osim.Vec3(float(x), float(y), float(z) * sign)


def _spline(osim, xs, ys):
    spline = osim.SimmSpline()
    for x, y in zip(xs, ys):
        spline.addPoint(float(x), float(y))
    return spline


def _knee_transform(osim, coordinate: str, knee: pd.DataFrame):
    """Knee flexion about z with the tibia translating along femoral x and y as splines of
    the knee angle (Yamaguchi & Zajac 1989, as in gait10dof18musc)."""
    transform = osim.SpatialTransform()
    names = osim.ArrayStr(coordinate, 1)
    # rotation1-3 then translation1-3; each axis: (direction, function or None = constant 0)
    for index, direction in enumerate([(0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]):
        axis = transform.updTransformAxis(index)
        axis.setAxis(osim.Vec3(*direction))
        # set_function copies: setFunction would adopt a Python-owned object and crash later
        if index == 0:
            axis.setCoordinateNames(names)
            axis.set_function(osim.LinearFunction(1.0, 0.0))
        elif index in (3, 4):
            axis_name = "x" if index == 3 else "y"
            points = knee[knee["axis"] == axis_name]
            if len(points) < 2:
                raise ConfigError(
                    f"knee_translation.csv has {len(points)} point(s) for axis '{axis_name}'",
                    fix="give at least two knee_angle_rad, translation_m points per axis",
                )
            axis.setCoordinateNames(names)
            axis.set_function(_spline(osim, points["knee_angle_rad"], points["translation_m"]))
        else:
            axis.set_function(osim.Constant(0.0))
    return transform


def _coordinate_settings(coordinates: pd.DataFrame) -> dict[str, dict]:
    settings = {}
    for row in coordinates.itertuples(index=False):
        if row.unit not in ("deg", "m"):
            raise ConfigError(
                f"coordinates.csv: coordinate '{row.coordinate}' has unit '{row.unit}'",
                fix="use deg for rotations and m for translations",
            )
        to_si = math.radians if row.unit == "deg" else float
        settings[row.coordinate] = {
            "default": to_si(float(row.default)),
            "range": (to_si(float(row.range_min)), to_si(float(row.range_max))),
        }
    return settings


def _add_joints(osim, model, tables: dict, bodies: dict, paired: set[str]) -> None:
    coordinate_settings = _coordinate_settings(tables["coordinates"])
    named = {}

    def frame(name: str, joint: str):
        return model.getGround() if name == "ground" else _body(bodies, name, f"joints.csv: joint '{joint}'")

    for side, row in _side_rows(tables["joints"], "child", paired):
        sign = SIDES.get(side, 1.0)
        suffix = f"_{side}" if side else ""
        name = f"{row.joint}{suffix}"
        parent = frame(_sided(row.parent, side, paired) if side else row.parent, row.joint)
        child = frame(_sided(row.child, side, paired) if side else row.child, row.joint)
        location = _vec(osim, row.parent_x_m, row.parent_y_m, row.parent_z_m, sign)
        zero = osim.Vec3(0)
        coordinates = [f"{c}{suffix}" for c in str(row.coordinates).split()]
        if row.type == "planar":
            joint = osim.PlanarJoint(name, parent, location, zero, child, zero, zero)
        elif row.type == "pin":
            joint = osim.PinJoint(name, parent, location, zero, child, zero, zero)
        elif row.type == "weld":
            joint = osim.WeldJoint(name, parent, location, zero, child, zero, zero)
        elif row.type == "knee":
            joint = osim.CustomJoint(
                name,
                parent,
                location,
                zero,
                child,
                zero,
                zero,
                _knee_transform(osim, coordinates[0], tables["knee_translation"]),
            )
        else:
            raise ConfigError(
                f"joints.csv: joint '{row.joint}' has type '{row.type}'", fix="use planar, pin, weld or knee"
            )
        if row.type != "knee":  # a CustomJoint makes its coordinates from the transform's names
            if joint.numCoordinates() != len(coordinates):
                raise ConfigError(
                    f"joints.csv: joint '{row.joint}' ({row.type}) has {joint.numCoordinates()} "
                    f"coordinate(s), the table names {len(coordinates)}",
                    fix="name one coordinate per degree of freedom in the 'coordinates' column",
                )
            for index, coordinate_name in enumerate(coordinates):
                joint.upd_coordinates(index).setName(coordinate_name)
        model.addJoint(joint)
        for coordinate_name in coordinates:
            base = coordinate_name[: -len(suffix)] if suffix else coordinate_name
            if base not in coordinate_settings:
                raise ConfigError(
                    f"joints.csv: coordinate '{base}' of joint '{row.joint}' is not in coordinates.csv",
                    fix=f"add a row for {base} to coordinates.csv",
                )
            named[coordinate_name] = coordinate_settings[base]
    model.finalizeConnections()
    for name, settings in named.items():
        coordinate = model.updCoordinateSet().get(name)
        coordinate.setDefaultValue(settings["default"])
        coordinate.setRangeMin(settings["range"][0])
        coordinate.setRangeMax(settings["range"][1])


def _add_muscles(osim, model, tables: dict, bodies: dict, paired: set[str]) -> None:
    settings = tables["settings"]
    muscle_class = getattr(osim, settings["muscle_class"])
    points = tables["path_points"]
    moving = tables["moving_points"]
    coordinates = {c.getName(): c for c in model.getCoordinateSet()}
    strength = float(settings["strength_scale"])
    for side, sign in SIDES.items():
        for row in tables["muscles"].itertuples(index=False):
            name = f"{row.muscle}_{side}"
            muscle = muscle_class(
                name,
                float(row.max_isometric_force_n) * strength,
                float(row.optimal_fiber_length_m),
                float(row.tendon_slack_length_m),
                math.radians(float(row.pennation_angle_deg)),
            )
            path = points[points["muscle"] == row.muscle].sort_values("order")
            if len(path) < 2:
                raise ConfigError(
                    f"path_points.csv has {len(path)} point(s) for muscle '{row.muscle}'",
                    fix="give every muscle of muscles.csv an origin and an insertion",
                )
            point_set = muscle.updGeometryPath().updPathPointSet()
            for point in path.itertuples(index=False):
                body = _body(
                    bodies,
                    _sided(point.body, side, paired),
                    f"path_points.csv: point {point.order} of muscle '{row.muscle}'",
                )
                point_name = f"{name}-P{point.order}"
                if point.kind == "fixed":
                    muscle.addNewPathPoint(point_name, body, _vec(osim, point.x_m, point.y_m, point.z_m, sign))
                elif point.kind == "conditional":
                    conditional = osim.ConditionalPathPoint()
                    conditional.setName(point_name)
                    # sockets by path: the point set copies the point, and a copy keeps paths only
                    conditional.updSocket("parent_frame").setConnecteePath(body.getAbsolutePathString())
                    conditional.set_location(_vec(osim, point.x_m, point.y_m, point.z_m, sign))
                    conditional.updSocket("coordinate").setConnecteePath(
                        coordinates[f"{point.coordinate}_{side}"].getAbsolutePathString()
                    )
                    conditional.setRangeMin(math.radians(float(point.active_min_deg)))
                    conditional.setRangeMax(math.radians(float(point.active_max_deg)))
                    point_set.cloneAndAppend(conditional)
                elif point.kind == "moving":
                    point_set.cloneAndAppend(
                        _moving_point(
                            osim, point_name, body, coordinates[f"{point.coordinate}_{side}"], moving, point, sign
                        )
                    )
                else:
                    raise ConfigError(
                        f"path_points.csv: point {point.order} of muscle '{row.muscle}' has kind '{point.kind}'",
                        fix="use fixed, conditional or moving",
                    )
            model.addForce(muscle)


def _moving_point(osim, name: str, body, coordinate, moving: pd.DataFrame, point, sign: float):
    """A path point whose x and y in the body frame follow splines of a coordinate; z is fixed."""
    mover = osim.MovingPathPoint()
    mover.setName(name)
    mover.updSocket("parent_frame").setConnecteePath(body.getAbsolutePathString())
    knots = moving[(moving["muscle"] == point.muscle) & (moving["order"] == point.order)]
    for axis, setter in (("x", mover.set_x_location), ("y", mover.set_y_location)):
        rows = knots[knots["axis"] == axis]
        if len(rows) < 2:
            raise ConfigError(
                f"moving_points.csv has {len(rows)} knot(s) for axis '{axis}' of point {point.order} "
                f"of muscle '{point.muscle}'",
                fix="give at least two knee_angle_rad, location_m knots",
            )
        setter(_spline(osim, rows["knee_angle_rad"], rows["location_m"]))
    mover.set_z_location(osim.Constant(float(point.z_m) * sign))
    for socket in ("x_coordinate", "y_coordinate", "z_coordinate"):
        mover.updSocket(socket).setConnecteePath(coordinate.getAbsolutePathString())
    return mover


def _add_markers(osim, model, markers: pd.DataFrame, bodies: dict, paired: set[str]) -> None:
    for row in markers.itertuples(index=False):
        if row.marker.startswith("R."):
            placements = [(row.marker, "r", 1.0), ("L." + row.marker[2:], "l", -1.0)]
        else:
            placements = [(row.marker, None, 1.0)]
        for name, side, sign in placements:
            body_name = _sided(row.body, side, paired) if side else row.body
            if body_name not in bodies:
                raise ConfigError(
                    f"markers.csv: marker '{row.marker}' is on body '{row.body}', which the model lacks "
                    "(or it is a paired body and the marker name does not start with 'R.')",
                    fix="name a body of bodies.csv; markers on paired bodies start with 'R.'",
                )
            model.addMarker(osim.Marker(name, bodies[body_name], _vec(osim, row.x_m, row.y_m, row.z_m, sign)))


def make_model(params_dir: str | Path):
    """The model as an OpenSim object (not yet written)."""
    osim = _osim()
    tables = read_tables(params_dir)
    settings = tables["settings"]
    model = osim.Model()
    model.setName(str(settings["name"]))
    model.setGravity(osim.Vec3(0, float(settings["gravity_m_s2"]), 0))
    model.set_credits(
        "retrorun planar running model, built by retrorun.demo_model from models/retrorun_planar "
        "(every number's source is in its table). Geometry and muscles after Delp et al. 1990 via "
        "the OpenSim gait2392 and gait10dof18musc models (CC BY 3.0)."
    )
    model.set_publications(
        "Delp et al. 1990 IEEE TBME 37:757; Yamaguchi & Zajac 1989 J Biomech 22:1; Anderson & Pandy 1999 CMBBE 2:201."
    )
    paired = set(tables["bodies"].loc[tables["bodies"]["paired"] == "yes", "body"])
    bodies = {}
    for side, row in _side_rows(tables["bodies"], "body", paired):
        sign = SIDES.get(side, 1.0)
        name = _sided(row.body, side, paired) if side else row.body
        body = osim.Body(
            name,
            float(row.mass_kg),
            _vec(osim, row.com_x_m, row.com_y_m, row.com_z_m, sign),
            osim.Inertia(float(row.ixx_kg_m2), float(row.iyy_kg_m2), float(row.izz_kg_m2), 0, 0, 0),
        )
        model.addBody(body)
        bodies[name] = body
    _add_joints(osim, model, tables, bodies, paired)
    _add_muscles(osim, model, tables, bodies, paired)
    _add_markers(osim, model, tables["markers"], bodies, paired)
    model.finalizeConnections()
    model.initSystem()
    return model


def build_model(*, params_dir: str | Path, out_dir: str | Path) -> Path:
    """Write ``out_dir/retrorun_planar.osim`` from the tables in ``params_dir``; returns its path."""
    if params_dir is None or str(params_dir) == "":
        raise ValueError("params_dir must name the folder of the model parameter tables")
    if out_dir is None or str(out_dir) == "":
        raise ValueError("out_dir must name the folder the model is written to")
    model = make_model(params_dir)
    out = Path(out_dir) / MODEL_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        model.printToXML(str(tmp))
    return out


# ------------------------------------------------------------- moment-arm check

SWEEP_POINTS = 49  # samples across a coordinate's check range (2.5-3.75 deg apart)


def _check_ranges(coordinates: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Coordinate (without side) -> check range in radians, from coordinates.csv."""
    ranges = {}
    for row in coordinates.itertuples(index=False):
        if str(row.check_min).strip() not in ("", "nan") and str(row.check_max).strip() not in ("", "nan"):
            ranges[row.coordinate] = (math.radians(float(row.check_min)), math.radians(float(row.check_max)))
    return ranges


def _moment_arms(model, state, muscle: str, coordinate: str, values, others: dict[str, float]):
    """Moment arm (m) of ``muscle`` about ``coordinate`` at each of ``values`` (rad), the
    coordinates in ``others`` held at their given values and all others at zero."""
    import numpy as np

    coordinates = model.getCoordinateSet()
    for c in coordinates:
        c.setValue(state, 0.0, False)
    for name, value in others.items():
        coordinates.get(name).setValue(state, float(value), False)
    target = coordinates.get(coordinate)
    force = model.getMuscles().get(muscle)
    arms = np.zeros(len(values))
    for i, value in enumerate(values):
        target.setValue(state, float(value), False)
        model.realizePosition(state)
        arms[i] = force.computeMomentArm(state, target)
    return arms


def moment_arm_table(
    *,
    model_path: str | Path,
    params_dir: str | Path,
    reference_path: str | Path | None = None,
    side: str = "r",
    tolerance: float = 0.30,
) -> pd.DataFrame:
    """One row per muscle and crossed coordinate (actions.csv): expected sign, min and max
    moment arm over the coordinate's check range with the muscle's other crossed
    coordinates at their check minimum, zero and maximum (m), sign_ok; peak |moment arm|
    (cm) over the range with the others at zero and, given ``reference_path`` (e.g.
    gait10dof18musc.osim), the reference muscle's peak, their ratio and whether it lies
    within 1 +- ``tolerance``, and the documented reason when it need not be
    (actions.csv ``reference_exception``). ``pass`` = sign_ok and, with a reference,
    ratio_ok or a documented exception."""
    import numpy as np

    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be between 0 and 1, got {tolerance}")
    osim = _osim()
    tables = read_tables(params_dir)
    actions = tables["actions"]
    ranges = _check_ranges(tables["coordinates"])
    model = osim.Model(str(model_path))
    state = model.initSystem()
    reference = reference_state = None
    if reference_path is not None:
        reference = osim.Model(str(reference_path))
        reference_state = reference.initSystem()
    rows = []
    for row in actions.itertuples(index=False):
        muscle, coordinate = f"{row.muscle}_{side}", f"{row.coordinate}_{side}"
        if row.coordinate not in ranges:
            raise ConfigError(
                f"actions.csv: coordinate '{row.coordinate}' of muscle '{row.muscle}' has no check range",
                fix="give it check_min and check_max in coordinates.csv",
            )
        values = np.linspace(*ranges[row.coordinate], SWEEP_POINTS)
        crossed = [
            f"{c}_{side}" for c in actions.loc[actions["muscle"] == row.muscle, "coordinate"] if c != row.coordinate
        ]
        grids = [{}]
        for other in crossed:
            low, high = ranges[other[: -len(side) - 1]]
            grids = [dict(g, **{other: v}) for g in grids for v in (low, 0.0, high)]
        arms = np.concatenate([_moment_arms(model, state, muscle, coordinate, values, grid) for grid in grids])
        neutral = _moment_arms(model, state, muscle, coordinate, values, {})
        signed = arms * row.expected_sign
        entry = {
            "muscle": muscle,
            "coordinate": coordinate,
            "expected_sign": int(row.expected_sign),
            "range_min_deg": round(math.degrees(values[0]), 1),
            "range_max_deg": round(math.degrees(values[-1]), 1),
            "moment_arm_min_m": float(arms.min()),
            "moment_arm_max_m": float(arms.max()),
            "sign_ok": bool(signed.min() > 0),
            "peak_abs_moment_arm_cm": float(100 * np.abs(neutral).max()),
            "max_isometric_force_n": float(model.getMuscles().get(muscle).getMaxIsometricForce()),
        }
        if reference is not None:
            reference_muscle = f"{row.reference_muscle}_{side}"
            if not reference.getMuscles().contains(reference_muscle):
                raise ConfigError(
                    f"reference model {reference_path} has no muscle '{reference_muscle}'",
                    fix="fix reference_muscle in actions.csv",
                )
            reference_arms = _moment_arms(reference, reference_state, reference_muscle, coordinate, values, {})
            entry["reference_muscle"] = reference_muscle
            entry["reference_peak_abs_moment_arm_cm"] = float(100 * np.abs(reference_arms).max())
            entry["ratio"] = entry["peak_abs_moment_arm_cm"] / entry["reference_peak_abs_moment_arm_cm"]
            entry["ratio_ok"] = bool(abs(entry["ratio"] - 1) <= tolerance)
            entry["reference_exception"] = str(row.reference_exception).strip()
        rows.append(entry)
    table = pd.DataFrame(rows)
    table["pass"] = table["sign_ok"]
    if reference is not None:
        # a documented anatomical difference from the lumped reference muscle is not a failure
        table["pass"] &= table["ratio_ok"] | (table["reference_exception"] != "")
    return table


def strength_table(
    *, model_path: str | Path, reference_path: str | Path, params_dir: str | Path, side: str = "r"
) -> pd.DataFrame:
    """Summed max isometric force (N) per reference muscle: this model's muscles mapped to
    it by actions.csv (e.g. the three vasti -> vasti), as published (muscles.csv) and as
    built (times strength_scale), against the reference's."""
    osim = _osim()
    tables = read_tables(params_dir)
    actions = tables["actions"].drop_duplicates("muscle")
    published = tables["muscles"].set_index("muscle")["max_isometric_force_n"]
    model, reference = osim.Model(str(model_path)), osim.Model(str(reference_path))
    rows = []
    for reference_muscle, members in actions.groupby("reference_muscle", sort=False)["muscle"]:
        built = sum(model.getMuscles().get(f"{m}_{side}").getMaxIsometricForce() for m in members)
        ref = reference.getMuscles().get(f"{reference_muscle}_{side}").getMaxIsometricForce()
        total = float(sum(published[m] for m in members))
        rows.append(
            {
                "reference_muscle": f"{reference_muscle}_{side}",
                "muscles": " ".join(f"{m}_{side}" for m in members),
                "published_max_isometric_force_n": total,
                "built_max_isometric_force_n": built,
                "reference_max_isometric_force_n": ref,
                "published_ratio": total / ref,
            }
        )
    return pd.DataFrame(rows)
