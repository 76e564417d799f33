"""Where the foot lands and where the body is over it, per analysed cycle (issue 22): foot
placement relative to the whole-body centre of mass, the centre of mass over the hips,
and the strike pattern at initial contact.

Everything comes from the model the analysis ran on and its coordinates (IK, or RRA's),
through OpenSim: the whole-body centre of mass (``Model.calcMassCenterPosition``), the
joint centres (the hip and ankle joints' frames in ground) and the foot's points (fixed
on its bodies), frame by frame; the centre of pressure from the trial's prepared ground
reaction forces (``grf.csv``, the same frame as the model). So it works for any model,
planar or 3D.

**The runner's facing direction** is taken per frame from the root body (the pelvis): its
+X axis (anterior in OpenSim's convention) projected onto the horizontal plane (ground X,
Z; Y is vertical). Every horizontal distance is measured along it, positive in front of
the runner: a runner facing -X gives the same values as one facing +X.

**The leg of a side** is found from the joint tree, not from names: the longest chain of
joints from the root body through bodies whose names end with the side's suffix
(``sides``): hip (root body to thigh), knee, ankle, then the foot's joints; its last
joint is the metatarsophalangeal joint (MTP), whose parent body is the calcaneus (the
rear foot) and whose child the toes. gait2392, Hamner 2010, Rajagopal 2015 and the
demo's planar model all have hip, knee, ankle, subtalar and MTP joints in that order.
At least four joints are needed (an MTP joint below the ankle).

**The foot's points**: the heel is the rearmost and the toe the foremost, along the rear
foot's long axis (calcaneus origin to MTP centre) in the model's default pose, of the
calcaneus origin, the MTP centre and the model's own markers on the calcaneus and toes
bodies (a heel marker, a toe-tip marker where the model has one). The strike index's
foot length is heel to toe; without a toe-tip marker it is heel to MTP centre, and an
index near 1 then means the metatarsal heads, not the tip of the toes.

Measures (config/README.md, "Gait geometry", with their sources):

* ``placement.*``: horizontal distance (m), along the facing direction, from the
  whole-body COM to the stance foot's ankle joint centre and to the centre of pressure,
  at initial contact and at toe off, and the foot's travel relative to the COM over
  stance (toe off minus contact; negative when the foot moves backwards relative to the
  body, as in forward running).
* ``com_hip.*``: the COM's horizontal offset (m) from the midpoint of the two hip joint
  centres, along the facing direction, mean over stance and at contact (positive: the
  COM in front of the hips).
* ``strike.index``: the centre of pressure at contact along the foot's long axis (heel
  to toe, in 3D: the foot's own length, whatever its pitch) as a fraction of the foot's
  length from the heel (Cavanagh & Lafortune 1980, J Biomech 13:397): rearfoot up to
  1/3, midfoot to 2/3, forefoot beyond. The heel and toe points lie 1-2 cm above the
  sole (markers, joint centres), the COP on the floor: on a foot pitched 60 deg toes down
  that reads up to about 0.07 high (2 cm x sin 60 deg over a 0.26 m foot).
* ``strike.foot_angle_deg``: the foot's sagittal angle at contact (heel-to-MTP line
  against the horizontal, toes up positive) minus the same angle in the model's default
  (neutral) pose (Altman & Davis 2012, Gait Posture 35:298, who subtract the standing
  angle): rearfoot above 8.0 deg, forefoot below -1.6 deg, midfoot between.
* ``strike.forefoot_share_index`` / ``strike.forefoot_share_angle``: 1 when the contact
  is a forefoot strike by that criterion, else 0: a subject's mean is its share of
  forefoot contacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

PLACEMENT, COM_HIP, STRIKE = "placement", "com_hip", "strike"
PLACEMENT_METRICS = [
    "com_to_ankle_at_contact_m",
    "com_to_ankle_at_toe_off_m",
    "ankle_travel_stance_m",
    "com_to_cop_at_contact_m",
    "com_to_cop_at_toe_off_m",
    "cop_travel_stance_m",
]
COM_HIP_METRICS = ["offset_stance_mean_m", "offset_at_contact_m"]
STRIKE_METRICS = ["index", "foot_angle_deg", "forefoot_share_index", "forefoot_share_angle"]
METRICS = {PLACEMENT: PLACEMENT_METRICS, COM_HIP: COM_HIP_METRICS, STRIKE: STRIKE_METRICS}
# the text category per contact, by each criterion (wide table only; cycles.csv's category column)
CATEGORY_INDEX, CATEGORY_ANGLE = "strike.category_index", "strike.category_angle"
REARFOOT, MIDFOOT, FOREFOOT = "rearfoot", "midfoot", "forefoot"

# Cavanagh & Lafortune 1980 (J Biomech 13:397): thirds of the foot's length
INDEX_REARFOOT_MAX = 1.0 / 3.0
INDEX_FOREFOOT_MIN = 2.0 / 3.0
# Altman & Davis 2012 (Gait Posture 35:298): foot strike angle thresholds
ANGLE_REARFOOT_MIN_DEG = 8.0
ANGLE_FOREFOOT_MAX_DEG = -1.6
# the centre of pressure at contact: the first loaded sample within this of the strike
# (and at toe off the last one within it before toe off)
COP_WINDOW_S = 0.02

VERTICAL = 1  # OpenSim's ground Y
POINTS = ("com", "hip_mid", "ankle", "heel", "toe", "calcn", "mtp")
KEY_COLUMNS = ["side", "cycle"]


def outcome_names() -> list[str]:
    """Every ``group.metric`` these measures add to tables/cycles.csv and comparison.csv."""
    return [f"{group}.{metric}" for group, names in METRICS.items() for metric in names]


def column(name: str, axis: str, side: str | None = None) -> str:
    return f"{name}_{side}_{axis}_m" if side else f"{name}_{axis}_m"


# ------------------------------------------------------------------ pure geometry


def facing_directions(pelvis_x_axes: np.ndarray) -> np.ndarray:
    """(n, 3) the root body's +X axes in ground -> (n, 2) unit horizontal (ground X, Z)
    facing directions."""
    axes = np.atleast_2d(np.asarray(pelvis_x_axes, dtype=float))
    flat = axes[:, [0, 2]]
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return flat / norm


def along(vectors: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Horizontal component of (n, 3) ``vectors`` along (n, 2) unit ``facing``."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
    facing = np.atleast_2d(np.asarray(facing, dtype=float))
    return vectors[:, 0] * facing[:, 0] + vectors[:, 2] * facing[:, 1]


def strike_index(cop: np.ndarray, heel: np.ndarray, toe: np.ndarray) -> float:
    """The centre of pressure along the foot's long axis (the heel-to-toe line in 3D) as a
    fraction of the foot's length: 0 at the heel, 1 at the toe (Cavanagh & Lafortune
    1980). Along the foot itself, not its floor projection: at a toes-down contact the
    heel is in the air, the projected foot is short, and a COP under the toes would read
    well above 1."""
    cop, heel, toe = (np.asarray(p, dtype=float) for p in (cop, heel, toe))
    axis = toe - heel
    length2 = float(axis @ axis)
    if not np.isfinite(length2) or length2 <= 0:
        return float("nan")
    return float((cop - heel) @ axis / length2)


def foot_angle_deg(calcn: np.ndarray, mtp: np.ndarray, facing: np.ndarray) -> float:
    """The rear foot's sagittal angle (deg) to the horizontal, toes up positive: the
    calcaneus-origin-to-MTP line's rise over its run along the facing direction."""
    line = np.asarray(mtp, dtype=float) - np.asarray(calcn, dtype=float)
    run = float(along(line, facing)[0])
    return float(np.degrees(np.arctan2(line[VERTICAL], run)))


def category_by_index(index: float) -> str:
    if not np.isfinite(index):
        return ""
    return REARFOOT if index <= INDEX_REARFOOT_MAX else FOREFOOT if index > INDEX_FOREFOOT_MIN else MIDFOOT


def category_by_angle(angle_deg: float) -> str:
    if not np.isfinite(angle_deg):
        return ""
    if angle_deg > ANGLE_REARFOOT_MIN_DEG:
        return REARFOOT
    return FOREFOOT if angle_deg < ANGLE_FOREFOOT_MAX_DEG else MIDFOOT


# ------------------------------------------------------------------ per cycle


def _interp(points: pd.DataFrame, name: str, times, side: str | None = None) -> np.ndarray:
    t = points["time_s"].to_numpy(dtype=float)
    return np.column_stack(
        [np.interp(times, t, points[column(name, axis, side)].to_numpy(dtype=float)) for axis in "xyz"]
    )


def _facing(points: pd.DataFrame, times) -> np.ndarray:
    t = points["time_s"].to_numpy(dtype=float)
    raw = np.column_stack([np.interp(times, t, points[f"facing_{axis}"].to_numpy(dtype=float)) for axis in "xyz"])
    return facing_directions(raw)


def _cop_sample(grf: pd.DataFrame, side: str, start: float, end: float, *, first: bool, threshold_n: float):
    """(time, cop (3,)) of the first (or last) sample in [start, end] with the side's
    vertical force at or above ``threshold_n`` and a centre of pressure; None without."""
    time = grf["time_s"].to_numpy(dtype=float)
    force = grf[f"{side}_force_y_n"].to_numpy(dtype=float)
    cop = grf[[f"{side}_cop_{axis}_m" for axis in "xyz"]].to_numpy(dtype=float)
    ok = (time >= start - 1e-9) & (time <= end + 1e-9) & (force >= threshold_n) & np.isfinite(cop).all(axis=1)
    found = np.flatnonzero(ok)
    if not len(found):
        return None
    k = found[0] if first else found[-1]
    return float(time[k]), cop[k]


def cycle_geometry(
    points: pd.DataFrame,
    cycles: pd.DataFrame,
    grf: pd.DataFrame | None,
    *,
    neutral_foot_angle_deg: dict[str, float],
    threshold_n: float,
) -> pd.DataFrame:
    """One row per used cycle (``cycles``: stage plan_cycles's table, its strike and toe
    off): side, cycle, every measure of ``outcome_names`` (wide, ``group.metric``
    columns), the two strike categories and a note.

    ``points``: per frame ``time_s``, the root body's +X axis ``facing_x/y/z`` and, in
    ground (m), ``com_*``, ``hip_mid_*`` and per side ``ankle_<side>_*``,
    ``heel_<side>_*``, ``toe_<side>_*``, ``calcn_<side>_*``, ``mtp_<side>_*`` (``*``:
    x_m, y_m, z_m; ``body_points`` computes it). ``grf``: the prepared GRF's tidy table
    (``time_s``, ``<side>_force_y_n``, ``<side>_cop_<axis>_m``), or None (no COP
    measures). ``neutral_foot_angle_deg``: side -> the foot angle in the default pose."""
    rows = []
    used = cycles[cycles["status"] == "used"] if "status" in cycles else cycles
    for _, cycle in used.iterrows():
        side, strike, toe_off = cycle["side"], float(cycle["strike_s"]), float(cycle["toe_off_s"])
        notes = []
        row = {"side": side, "cycle": int(cycle["cycle"])}
        events = np.array([strike, toe_off])
        facing = _facing(points, events)
        com = _interp(points, "com", events)
        ankle = _interp(points, "ankle", events, side)
        placement = along(ankle - com, facing)
        row[f"{PLACEMENT}.com_to_ankle_at_contact_m"] = placement[0]
        row[f"{PLACEMENT}.com_to_ankle_at_toe_off_m"] = placement[1]
        row[f"{PLACEMENT}.ankle_travel_stance_m"] = placement[1] - placement[0]
        # the COM over the hips: every frame inside stance plus its two ends
        t = points["time_s"].to_numpy(dtype=float)
        inside = t[(t > strike) & (t < toe_off)]
        stance_t = np.concatenate([[strike], inside, [toe_off]])
        offset = along(
            _interp(points, "com", stance_t) - _interp(points, "hip_mid", stance_t), _facing(points, stance_t)
        )
        row[f"{COM_HIP}.offset_stance_mean_m"] = float(np.trapezoid(offset, stance_t) / (toe_off - strike))
        row[f"{COM_HIP}.offset_at_contact_m"] = float(offset[0])
        # strike angle (kinematic)
        calcn, mtp = _interp(points, "calcn", [strike], side)[0], _interp(points, "mtp", [strike], side)[0]
        angle = foot_angle_deg(calcn, mtp, facing[0]) - float(neutral_foot_angle_deg.get(side, np.nan))
        row[f"{STRIKE}.foot_angle_deg"] = angle
        row[CATEGORY_ANGLE] = category_by_angle(angle)
        row[f"{STRIKE}.forefoot_share_angle"] = (
            float(row[CATEGORY_ANGLE] == FOREFOOT) if row[CATEGORY_ANGLE] else np.nan
        )
        # centre of pressure
        cop_values = {name: np.nan for name in ("at_contact", "at_toe_off")}
        index, index_category = float("nan"), ""
        if grf is None or f"{side}_force_y_n" not in grf:
            notes.append("no ground reaction force table: no centre-of-pressure measures")
        else:
            on = _cop_sample(grf, side, strike, strike + COP_WINDOW_S, first=True, threshold_n=threshold_n)
            off = _cop_sample(grf, side, toe_off - COP_WINDOW_S, toe_off, first=False, threshold_n=threshold_n)
            for name, found in (("at_contact", on), ("at_toe_off", off)):
                if found is None:
                    event = name[3:].replace("_", " ")
                    notes.append(f"no loaded centre of pressure within {COP_WINDOW_S * 1000:g} ms of {event}")
                    continue
                when, cop = found
                cop_values[name] = float(along(cop - _interp(points, "com", [when])[0], _facing(points, [when]))[0])
            if on is not None:
                when, cop = on
                index = strike_index(
                    cop, _interp(points, "heel", [when], side)[0], _interp(points, "toe", [when], side)[0]
                )
                index_category = category_by_index(index)
        row[f"{PLACEMENT}.com_to_cop_at_contact_m"] = cop_values["at_contact"]
        row[f"{PLACEMENT}.com_to_cop_at_toe_off_m"] = cop_values["at_toe_off"]
        row[f"{PLACEMENT}.cop_travel_stance_m"] = cop_values["at_toe_off"] - cop_values["at_contact"]
        row[f"{STRIKE}.index"] = index
        row[CATEGORY_INDEX] = index_category
        row[f"{STRIKE}.forefoot_share_index"] = float(index_category == FOREFOOT) if index_category else np.nan
        row["note"] = "; ".join(notes)
        rows.append(row)
    columns = [*KEY_COLUMNS, *outcome_names(), CATEGORY_INDEX, CATEGORY_ANGLE, "note"]
    return pd.DataFrame(rows, columns=columns)


# the category a strike metric's row carries in cycles.csv
_ROW_CATEGORY = {
    "index": CATEGORY_INDEX,
    "forefoot_share_index": CATEGORY_INDEX,
    "foot_angle_deg": CATEGORY_ANGLE,
    "forefoot_share_angle": CATEGORY_ANGLE,
}


def metric_rows(geometry: pd.DataFrame, *, source: str = "so") -> pd.DataFrame:
    """The wide per-cycle table (``cycle_geometry``, read back from gait_geometry.csv) as
    the analysis's long metric rows (source, side, cycle, group, metric, value, note,
    category): strike rows carry their contact's category."""
    rows = []
    for _, row in geometry.iterrows():
        for name in outcome_names():
            group, metric = name.split(".", 1)
            value = row.get(name, np.nan)
            category = row.get(_ROW_CATEGORY[metric], "") if group == STRIKE else ""
            rows.append(
                {
                    "source": source,
                    "side": row["side"],
                    "cycle": int(row["cycle"]),
                    "group": group,
                    "metric": metric,
                    "value": float(value) if pd.notna(value) else np.nan,
                    "note": row.get("note", "") if pd.isna(value) and isinstance(row.get("note"), str) else "",
                    "category": category if isinstance(category, str) else "",
                }
            )
    return pd.DataFrame(rows, columns=["source", "side", "cycle", "group", "metric", "value", "note", "category"])


# ------------------------------------------------------------------ from the model


@dataclass(frozen=True)
class Leg:
    """One side's joints and foot points, found in the model's joint tree (module docstring)."""

    hip_joint: str
    ankle_joint: str
    mtp_joint: str
    calcaneus: str
    toes: str
    heel: tuple[str, tuple[float, float, float]]  # (body, location in the body)
    toe: tuple[str, tuple[float, float, float]]


def _children(model) -> dict[str, list]:
    children: dict[str, list] = {}
    for joint in model.getJointSet():
        children.setdefault(joint.getParentFrame().findBaseFrame().getName(), []).append(joint)
    return children


def root_body(model) -> str:
    for joint in model.getJointSet():
        if joint.getParentFrame().findBaseFrame().getName() == "ground":
            return joint.getChildFrame().findBaseFrame().getName()
    raise InputError("the model has no joint to ground", fix="give a model whose root body is jointed to ground")


def leg_chain(model, suffix: str) -> list:
    """The longest chain of joints from the root body through bodies named ``*<suffix>``."""
    children = _children(model)

    def longest(body: str, seen: frozenset) -> list:
        best: list = []
        for joint in children.get(body, []):
            child = joint.getChildFrame().findBaseFrame().getName()
            if not child.endswith(suffix) or child in seen:
                continue
            path = [joint, *longest(child, seen | {child})]
            if len(path) > len(best):
                best = path
        return best

    return longest(root_body(model), frozenset())


def _vec(v) -> np.ndarray:
    return np.array([v.get(0), v.get(1), v.get(2)])


def find_leg(model, state, suffix: str) -> Leg:
    """The side's hip, ankle and MTP joints, calcaneus and toes, and heel and toe points
    (module docstring). ``state`` is realized to position in the default pose."""
    import opensim as osim

    chain = leg_chain(model, suffix)
    if len(chain) < 4:
        raise InputError(
            f"the model's leg of side suffix '{suffix}' has {len(chain)} joint(s) "
            f"({', '.join(j.getName() for j in chain) or 'none'}); gait geometry needs hip, knee, ankle "
            "and a joint below the ankle (subtalar, MTP)",
            fix="use a model with a foot of calcaneus and toes (gait2392, Hamner 2010, Rajagopal 2015)",
        )
    hip, ankle, mtp = chain[0], chain[2], chain[-1]
    calcaneus = mtp.getParentFrame().findBaseFrame().getName()
    toes = mtp.getChildFrame().findBaseFrame().getName()
    bodies = model.getBodySet()
    calcn_body = bodies.get(calcaneus)
    mtp_in_calcn = _vec(mtp.getParentFrame().findTransformInBaseFrame().p())
    candidates = [(calcaneus, np.zeros(3)), (calcaneus, mtp_in_calcn)]
    for marker in model.getMarkerSet():
        body = marker.getParentFrame().findBaseFrame().getName()
        if body in (calcaneus, toes):
            location = _vec(marker.get_location())
            if marker.getParentFrame().getName() != body:  # a marker on an offset frame
                location = _vec(
                    marker.getParentFrame().findStationLocationInAnotherFrame(
                        state, osim.Vec3(*location), bodies.get(body)
                    )
                )
            candidates.append((body, location))
    origin = _vec(calcn_body.getPositionInGround(state))
    axis = _vec(calcn_body.findStationLocationInGround(state, osim.Vec3(*mtp_in_calcn))) - origin
    positions = [
        _vec(bodies.get(body).findStationLocationInGround(state, osim.Vec3(*location))) for body, location in candidates
    ]
    reach = [float((p - origin) @ axis) for p in positions]
    heel, toe = candidates[int(np.argmin(reach))], candidates[int(np.argmax(reach))]
    return Leg(
        hip_joint=hip.getName(),
        ankle_joint=ankle.getName(),
        mtp_joint=mtp.getName(),
        calcaneus=calcaneus,
        toes=toes,
        heel=(heel[0], tuple(float(v) for v in heel[1])),
        toe=(toe[0], tuple(float(v) for v in toe[1])),
    )


def body_points(
    model_path: str,
    coordinates: pd.DataFrame,
    sides: dict[str, str],
    *,
    start_s: float = -np.inf,
    end_s: float = np.inf,
) -> tuple[pd.DataFrame, dict[str, float], dict[str, Leg]]:
    """Per frame of ``coordinates`` (the analysis's coordinate table: ``time_s`` and
    ``<coordinate>_deg`` / ``_m``) within [start_s, end_s]: the points ``cycle_geometry``
    reads, computed by OpenSim on the model. Also each side's foot angle in the default
    pose (the strike angle's neutral) and its ``Leg``."""
    import opensim as osim

    from .opensim_tools import coordinate_motion_types, load_model

    model = load_model(model_path)
    state = model.initSystem()
    model.realizePosition(state)
    legs = {side: find_leg(model, state, suffix) for side, suffix in sides.items()}
    joints, bodies = model.getJointSet(), model.getBodySet()
    pelvis = bodies.get(root_body(model))

    def point(body: str, location) -> np.ndarray:
        return _vec(bodies.get(body).findStationLocationInGround(state, osim.Vec3(*location)))

    def frame_points() -> dict[str, np.ndarray]:
        rotation = pelvis.getTransformInGround(state).R()
        values = {"facing": np.array([rotation.get(i, 0) for i in range(3)])}
        values["com"] = _vec(model.calcMassCenterPosition(state))
        hips = [_vec(joints.get(leg.hip_joint).getChildFrame().getPositionInGround(state)) for leg in legs.values()]
        values["hip_mid"] = np.mean(hips, axis=0)
        for side, leg in legs.items():
            values[f"ankle_{side}"] = _vec(joints.get(leg.ankle_joint).getChildFrame().getPositionInGround(state))
            values[f"heel_{side}"] = point(*leg.heel)
            values[f"toe_{side}"] = point(*leg.toe)
            values[f"calcn_{side}"] = _vec(bodies.get(leg.calcaneus).getPositionInGround(state))
            values[f"mtp_{side}"] = _vec(joints.get(leg.mtp_joint).getParentFrame().getPositionInGround(state))
        return values

    neutral_points = frame_points()
    neutral_facing = facing_directions(neutral_points["facing"])[0]
    neutral = {
        side: foot_angle_deg(neutral_points[f"calcn_{side}"], neutral_points[f"mtp_{side}"], neutral_facing)
        for side in legs
    }
    types = coordinate_motion_types(model)
    coordinate_set = model.getCoordinateSet()
    names = {}
    for name, rotational in types.items():
        wanted = f"{name}_deg" if rotational else f"{name}_m"
        # a locked coordinate keeps its value (OpenSim refuses to set it, warning each time)
        if wanted in coordinates and not coordinate_set.get(name).getLocked(state):
            names[name] = (wanted, rotational)
    times = coordinates["time_s"].to_numpy(dtype=float)
    keep = (times >= start_s - 1e-9) & (times <= end_s + 1e-9)
    rows = []
    for time, (_, values) in zip(times[keep], coordinates[keep].iterrows()):
        for name, (col, rotational) in names.items():
            value = float(values[col])
            coordinate_set.get(name).setValue(state, np.radians(value) if rotational else value, False)
        model.realizePosition(state)
        found = frame_points()
        row = {"time_s": time} | {f"facing_{a}": found["facing"][i] for i, a in enumerate("xyz")}
        for key, vector in found.items():
            if key == "facing":
                continue
            name, _, side = key.partition("_") if key not in ("com", "hip_mid") else (key, "", "")
            row |= {column(name, a, side or None): vector[i] for i, a in enumerate("xyz")}
        rows.append(row)
    return pd.DataFrame(rows), neutral, legs


def grf_sides(table: pd.DataFrame, *, external_loads: str, sides: dict[str, str]) -> pd.DataFrame:
    """An OpenSim GRF table (``time`` and the external loads' force, point and torque
    columns) as ``cycle_geometry`` reads it: ``time_s`` and per side the vertical force
    and the centre of pressure of all its plates together (as stage prepare_grf's
    ``grf.csv``, without filtering: for the demo's noise-free true forces)."""
    from . import grf as grf_tools
    from . import templates

    time = table["time"].to_numpy(dtype=float)
    sums = {side: {"force": np.zeros((len(time), 3)), "moment": np.zeros((len(time), 3))} for side in sides}
    for spec in templates.external_forces(external_loads):
        columns = spec.columns()
        force = np.nan_to_num(table[columns["force"]].to_numpy(dtype=float))
        point = np.nan_to_num(table[columns["point"]].to_numpy(dtype=float)) if columns["point"] else 0.0 * force
        torque = np.nan_to_num(table[columns["torque"]].to_numpy(dtype=float)) if columns["torque"] else 0.0 * force
        side = grf_tools.side_of_body(spec.applied_to_body, sides)
        sums[side]["force"] += force
        sums[side]["moment"] += np.cross(point, force) + torque
    out = {"time_s": time}
    for side, own in sums.items():
        out[f"{side}_force_y_n"] = own["force"][:, VERTICAL]
        cop = grf_tools._centre_of_pressure(own["force"], own["moment"])
        out |= {f"{side}_cop_{axis}_m": cop[:, i] for i, axis in enumerate("xyz")}
    return pd.DataFrame(out)
