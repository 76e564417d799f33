"""C3D import: markers, force platforms and per-foot ground reaction forces.

A C3D file holds markers (POINT) and force platform channels (ANALOG) in the lab's
frame and units. This module turns one into what the rest of retrorun reads:
markers in metres and a GRF table in OpenSim's Y-up ground frame, with the
centre of pressure and free moment of every plate computed here from its channels
and corners (C3D user guide, "FORCE_PLATFORM group"), and the plates' loads
assigned to the right or left foot contact by contact.

Force data stay at the analog rate (no resampling): prepare_grf filters them and
OpenSim interpolates them at the kinematics' times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import config_schema
from .errors import InputError
from .formats import LENGTH_UNITS_TO_M, MarkerTable

# OpenSim axis <- signed lab axis. Most labs record Z up with X along the walkway;
# OpenSim's ground is Y up, so lab Z becomes Y and lab Y becomes -Z (a rotation,
# not a mirror: the determinant stays +1).
# (config c3d.axes; its default is stated in the config schema)
DEFAULT_AXES = config_schema("c3d", "axes")["default"]
DEFAULT_PLATE_FORCE = config_schema("c3d", "plate_force")["default"]
FORCE_UNITS_TO_N = {"N": 1.0, "kN": 1e3}
MOMENT_UNITS_TO_NM = {"Nm": 1.0, "N.m": 1.0, "Nmm": 1e-3, "N.mm": 1e-3}
SUPPORTED_PLATE_TYPES = (2, 4)
VERTICAL = 1  # OpenSim's Y axis


@dataclass
class Plate:
    """One force platform in OpenSim's ground frame, loads acting on the subject."""

    number: int
    kind: int
    corners_m: np.ndarray  # (4, 3)
    force_n: np.ndarray  # (n, 3)
    cop_m: np.ndarray  # (n, 3), the plate centre where the vertical force is below the threshold
    free_moment_nm: np.ndarray  # (n, 3), about the plate normal, zero below the threshold

    @property
    def centre_m(self) -> np.ndarray:
        return self.corners_m.mean(axis=0)


@dataclass
class C3DTrial:
    markers: MarkerTable
    analog_time_s: np.ndarray
    plates: list[Plate]
    source: str


def axis_matrix(axes: dict[str, str], *, source: str = "config c3d.axes") -> np.ndarray:
    """3x3 matrix taking a lab vector to OpenSim's frame, from e.g. {x: +x, y: +z, z: -y}."""
    matrix = np.zeros((3, 3))
    for row, osim_axis in enumerate("xyz"):
        spec = str(axes.get(osim_axis, "")).strip().lower()
        if len(spec) != 2 or spec[0] not in "+-" or spec[1] not in "xyz":
            raise InputError(
                f"{source}: OpenSim axis '{osim_axis}' is given as '{spec}'",
                fix="give each of x, y, z as a signed lab axis, e.g. {x: '+x', y: '+z', z: '-y'}",
            )
        matrix[row, "xyz".index(spec[1])] = 1.0 if spec[0] == "+" else -1.0
    if not np.isclose(np.linalg.det(matrix), 1.0):
        raise InputError(
            f"{source}: {axes} is not a rotation (it mirrors or repeats a lab axis)",
            fix="use each lab axis once with signs that keep a right-handed frame, e.g. {x: '+x', y: '+z', z: '-y'}",
        )
    return matrix


def _parameter(parameters: dict, group: str, name: str, default=None):
    try:
        return parameters[group][name]["value"]
    except KeyError:
        return default


def open_c3d(path: str | Path, *, subject: str = "", trial: str = ""):
    """The ezc3d object of a C3D file (its parameters, header and data), or an error
    naming the file and what to change."""
    import ezc3d  # only C3D studies need it

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"C3D file {path} does not exist", subject=subject, trial=trial, fix="check the path in the sheet"
        )
    try:
        return ezc3d.c3d(str(path), extract_forceplat_data=False)
    except Exception as err:
        raise InputError(
            f"{path} cannot be read as a C3D file (ezc3d: {err})",
            subject=subject,
            trial=trial,
            fix="export the trial again as C3D",
        ) from None


def read_c3d(
    path: str | Path,
    *,
    axes: dict[str, str] | None = None,
    cop_threshold_n: float,
    plate_force: str = DEFAULT_PLATE_FORCE,
    subject: str = "",
    trial: str = "",
) -> C3DTrial:
    """Markers (metres) and force platforms (OpenSim frame) of a C3D file."""
    path = Path(path)
    c3d = open_c3d(path, subject=subject, trial=trial)
    rotation = axis_matrix(axes or DEFAULT_AXES)
    parameters = c3d["parameters"]
    units = _parameter(parameters, "POINT", "UNITS")
    if not units or not str(units[0]).strip():
        raise InputError(
            f"{path}: POINT:UNITS is missing, so the marker length unit is unknown",
            subject=subject,
            trial=trial,
            fix="set POINT:UNITS (e.g. mm) when exporting the C3D",
        )
    unit = str(units[0]).strip()
    if unit not in LENGTH_UNITS_TO_M:
        raise InputError(
            f"{path}: POINT:UNITS is '{unit}', not a length unit",
            subject=subject,
            trial=trial,
            fix=f"export the markers in one of {', '.join(LENGTH_UNITS_TO_M)}",
        )
    to_m = LENGTH_UNITS_TO_M[unit]
    header = c3d["header"]
    rate = float(header["points"]["frame_rate"])
    first = int(header["points"]["first_frame"])
    points = c3d["data"]["points"]  # (4, markers, frames), NaN where the marker was not seen
    # a C3D parameter holds at most 255 labels: the rest continue in LABELS2, LABELS3...
    labels = [
        str(label).strip()
        for key in ["LABELS"] + [f"LABELS{k}" for k in range(2, 10)]
        for label in _parameter(parameters, "POINT", key, [])
    ]
    n_frames = points.shape[2]
    time_s = (first + np.arange(n_frames)) / rate
    positions = {}
    for i, label in enumerate(labels[: points.shape[1]]):
        if not label or label in positions:
            continue
        positions[label] = (rotation @ points[:3, i, :]).T * to_m
    markers = MarkerTable(time_s, positions, rate, str(path), "m")
    analog_rate = float(header["analogs"]["frame_rate"] or 0.0)
    analogs = c3d["data"]["analogs"]
    analog_time = first / rate + np.arange(analogs.shape[2]) / analog_rate if analog_rate else np.empty(0)
    plates = _plates(
        path,
        c3d,
        rotation=rotation,
        to_m=to_m,
        threshold_n=cop_threshold_n,
        plate_force=plate_force,
        subject=subject,
        trial=trial,
    )
    return C3DTrial(markers=markers, analog_time_s=analog_time, plates=plates, source=str(path))


def _plates(
    path: Path,
    c3d,
    *,
    rotation: np.ndarray,
    to_m: float,
    threshold_n: float,
    plate_force: str,
    subject: str,
    trial: str,
) -> list[Plate]:
    parameters = c3d["parameters"]
    used = int(np.asarray(_parameter(parameters, "FORCE_PLATFORM", "USED", [0])).ravel()[0])
    if used == 0:
        return []
    kinds = np.asarray(_parameter(parameters, "FORCE_PLATFORM", "TYPE")).ravel().astype(int)
    channels = np.asarray(_parameter(parameters, "FORCE_PLATFORM", "CHANNEL")).reshape(-1, used)  # (channels, plates)
    corners = np.asarray(_parameter(parameters, "FORCE_PLATFORM", "CORNERS"), dtype=float)  # (3, 4, plates)
    origins = np.asarray(_parameter(parameters, "FORCE_PLATFORM", "ORIGIN"), dtype=float)  # (3, plates)
    analog_units = [str(u).strip() for u in _parameter(parameters, "ANALOG", "UNITS", [])]
    analogs = c3d["data"]["analogs"][0]  # (channels, samples), already scaled by ezc3d
    if plate_force not in ("reaction", "action"):
        raise InputError(f"config c3d.plate_force is '{plate_force}'", fix="set it to 'reaction' or 'action'")
    cal_matrices = None
    plates = []
    for k in range(used):
        kind = int(kinds[k])
        where = f"{path}: force platform {k + 1}"
        if kind not in SUPPORTED_PLATE_TYPES:
            raise InputError(
                f"{where} is of type {kind}; retrorun reads types {SUPPORTED_PLATE_TYPES}",
                subject=subject,
                trial=trial,
                fix="export the plates as type 2 (six channels Fx Fy Fz Mx My Mz) or 4 (with a calibration matrix)",
            )
        index = channels[:, k].astype(int) - 1  # CHANNEL is 1-based
        raw = analogs[index, :].T  # (n, 6): Fx Fy Fz Mx My Mz in the plate frame (type 4: before calibration)
        # Type 4 channels are raw signals that the calibration matrix turns into N and
        # N x the POINT length unit (C3D user guide); type 2 channels carry their own units.
        scale = np.array([1.0, 1.0, 1.0, to_m, to_m, to_m])
        for j, channel in enumerate(index if kind == 2 else []):
            unit = analog_units[channel] if channel < len(analog_units) else ""
            table = FORCE_UNITS_TO_N if j < 3 else MOMENT_UNITS_TO_NM
            if unit not in table:
                raise InputError(
                    f"{where}: analog channel {channel + 1} has unit '{unit}', not a "
                    f"{'force' if j < 3 else 'moment'} unit ({', '.join(table)})",
                    subject=subject,
                    trial=trial,
                    fix="set ANALOG:UNITS for the force plate channels when exporting the C3D",
                )
            scale[j] = table[unit]
        if kind == 4:
            if cal_matrices is None:
                import ezc3d

                cal_matrices = [
                    np.asarray(p["cal_matrix"])
                    for p in ezc3d.c3d(str(path), extract_forceplat_data=True)["data"]["platform"]
                ]
            cal = cal_matrices[k]
            if cal.shape != (6, 6) or not np.any(cal):
                raise InputError(
                    f"{where} is of type 4 but FORCE_PLATFORM:CAL_MATRIX is missing or empty",
                    subject=subject,
                    trial=trial,
                    fix="export the plate's 6x6 calibration matrix with the C3D",
                )
            raw = raw @ cal.T
        wrench = raw * scale
        plate_corners = corners[:, :, k].T * to_m  # (4, 3) lab frame
        origin = origins[:, k] * to_m
        # ORIGIN is the vector from the transducer to the centre of the plate surface in
        # the plate frame (z down), so its z should be <= 0; many manufacturers write the
        # depth as positive, i.e. the vector the other way round (C3D user guide).
        if origin[2] > 0:
            origin = -origin
        force, cop, free = _plate_loads(
            wrench, plate_corners, origin, up=rotation[VERTICAL], threshold_n=threshold_n, plate_force=plate_force
        )
        plates.append(
            Plate(
                number=k + 1,
                kind=kind,
                corners_m=plate_corners @ rotation.T,
                force_n=force @ rotation.T,
                cop_m=cop @ rotation.T,
                free_moment_nm=free @ rotation.T,
            )
        )
        up = plates[-1].force_n[:, VERTICAL]
        peak = up[np.argmax(np.abs(up))] if len(up) else 0.0
        if peak < -threshold_n:  # the ground pushes the subject up: a downward peak is a sign or axis slip
            raise InputError(
                f"{where}: the vertical force points down at its peak ({peak:.0f} N)",
                subject=subject,
                trial=trial,
                fix="set c3d.plate_force to 'action' if the plates record the force on the plate, "
                "or correct c3d.axes if the lab's vertical axis is not z",
            )
    return plates


def _plate_loads(
    wrench: np.ndarray, corners: np.ndarray, origin: np.ndarray, *, up: np.ndarray, threshold_n: float, plate_force: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Force, centre of pressure and free moment in the lab frame from one plate's wrench.

    The wrench (force, moment at the transducer) is in the plate frame, whose x axis
    runs from corner 2 to corner 1 and y axis from corner 4 to corner 1 (C3D user
    guide); the centre of pressure is where the wrench reduces to a force plus a
    moment about the plate normal, on the plate surface. ``up`` is the lab's vertical.
    """
    x_axis = corners[0] - corners[1]
    y_axis = corners[0] - corners[3]
    x_axis /= np.linalg.norm(x_axis)
    y_axis -= x_axis * (x_axis @ y_axis)
    y_axis /= np.linalg.norm(y_axis)
    plate_to_lab = np.column_stack([x_axis, y_axis, np.cross(x_axis, y_axis)])
    sign = 1.0 if plate_force == "reaction" else -1.0
    force, moment = sign * wrench[:, :3], sign * wrench[:, 3:]
    fx, fy, fz = force.T
    mx, my, mz = moment.T
    surface = origin[2]  # plate-frame z of the surface, measured from the transducer
    loaded = (force @ plate_to_lab.T @ up >= threshold_n) & (np.abs(fz) > 0)  # pushed up by the plate: in contact
    safe = np.where(loaded, fz, 1.0)
    # M = r x F + (0, 0, Tz) with r = (px, py, surface), solved for px, py and Tz.
    px = (surface * fx - my) / safe
    py = (mx + surface * fy) / safe
    tz = mz - px * fy + py * fx
    cop_plate = np.column_stack([px - origin[0], py - origin[1], np.zeros_like(px)])
    cop_plate[~loaded] = 0.0  # below the threshold the centre of pressure is noise: hold it at the centre
    tz[~loaded] = 0.0
    centre = corners.mean(axis=0)
    cop = centre + cop_plate @ plate_to_lab.T
    free = np.column_stack([np.zeros_like(tz), np.zeros_like(tz), tz]) @ plate_to_lab.T
    return force @ plate_to_lab.T, cop, free


# -------------------------------------------------------------- feet and plates


def contacts(vertical_n: np.ndarray, *, threshold_n: float) -> list[tuple[int, int]]:
    """[(first, last) sample] of each run with vertical force at or above the threshold."""
    loaded = np.concatenate([[False], vertical_n >= threshold_n, [False]])
    edges = np.flatnonzero(np.diff(loaded.astype(int)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def check_force_plates(trial: C3DTrial, *, threshold_n: float) -> list[str]:
    """A running trial's C3D must hold a force plate that some foot loads."""
    if not trial.plates:
        return [
            f"{trial.source} holds no force platform (FORCE_PLATFORM:USED is 0); give the GRF as a .mot in column "
            f"'grf' with a TRC in 'markers', or export the C3D with its plates"
        ]
    if not any(np.nanmax(p.force_n[:, VERTICAL]) >= threshold_n for p in trial.plates):
        return [
            f"no foot contact: no force plate in {trial.source} reaches c3d.cop_threshold_n = {threshold_n:g} N "
            f"({len(trial.plates)} plate(s)); check the plates were recorded, or lower the threshold"
        ]
    return []


def check_plate_sides(plate_sides: dict, sides) -> list[str]:
    """c3d.plate_sides may only name the config's sides."""
    unknown = sorted({str(v) for v in plate_sides.values()} - set(sides))
    if unknown:
        return [
            f"config c3d.plate_sides names side(s) {unknown}, not among the config's sides {sorted(sides)}; "
            f"use the side names of the config key 'sides'"
        ]
    return []


def check_foot_markers(trial: C3DTrial, *, foot_markers: dict[str, list[str]], plate_sides: dict) -> list[str]:
    """Without fixed plate sides each foot needs a marker of c3d.foot_markers in the file:
    a contact goes to the nearest foot, and a foot without markers would never be nearest."""
    if plate_sides:
        return []
    return [
        f"{trial.source} has none of the foot markers {names} of side '{side}' (config c3d.foot_markers), "
        f"so plates cannot be given to feet; name the lab's foot markers there (it has "
        f"{', '.join(trial.markers.marker_names[:12])}...) or set c3d.plate_sides"
        for side, names in foot_markers.items()
        if not set(names) & set(trial.markers.marker_names)
    ]


def assign_plates(
    trial: C3DTrial,
    *,
    threshold_n: float,
    foot_markers: dict[str, list[str]],
    plate_sides: dict | None = None,
    subject: str = "",
    trial_id: str = "",
) -> list[dict]:
    """One record per contact: plate, first/last analog sample, side and how it was chosen.

    A contact goes to the side named for its plate in ``plate_sides`` if given, else
    to the foot whose markers are nearest (horizontally) to its centre of pressure.
    """
    plate_sides = {int(k): v for k, v in (plate_sides or {}).items()}
    feet = {}
    for side, names in foot_markers.items():
        present = [n for n in names if n in trial.markers.positions_m]
        if present:
            stacked = np.stack([trial.markers.positions_m[n] for n in present])
            seen = (~np.isnan(stacked)).sum(axis=0)
            feet[side] = np.where(seen > 0, np.nansum(stacked, axis=0) / np.maximum(seen, 1), np.nan)
    records = []
    for plate in trial.plates:
        for first, last in contacts(plate.force_n[:, VERTICAL], threshold_n=threshold_n):
            t0, t1 = trial.analog_time_s[first], trial.analog_time_s[last]
            record = {"plate": plate.number, "first": first, "last": last, "start_s": t0, "end_s": t1}
            if plate.number in plate_sides:
                records.append(record | {"side": plate_sides[plate.number], "how": "config c3d.plate_sides"})
                continue
            cop = np.median(plate.cop_m[first : last + 1], axis=0)
            frames = (trial.markers.time_s >= t0) & (trial.markers.time_s <= t1)
            distances = {}
            for side, xyz in feet.items():
                horizontal = xyz[frames][:, [0, 2]] - cop[[0, 2]]
                distance = np.linalg.norm(horizontal, axis=1)
                if np.isfinite(distance).any():
                    distances[side] = float(np.nanmedian(distance))
            if not distances:
                raise InputError(
                    f"{trial.source}: no foot marker of {sorted(foot_markers)} is visible during the "
                    f"contact on plate {plate.number} at {t0:.3f}-{t1:.3f} s, so it cannot be given to a foot",
                    subject=subject,
                    trial=trial_id,
                    fix=f"name the lab's foot markers in c3d.foot_markers (now {foot_markers}) "
                    f"or fix the plate's side in c3d.plate_sides",
                )
            side = min(distances, key=distances.get)
            records.append(record | {"side": side, "how": f"nearest foot ({distances[side]:.3f} m)"})
    return records


def grf_table(trial: C3DTrial, assignments: list[dict], *, sides: list[str]) -> pd.DataFrame:
    """GRF table: per side ``ground_force_<side>_v*``, ``_p*``, ``ground_torque_<side>_*``,
    then each plate's own loads as ``plate<k>_force_v*``, ``plate<k>_force_p*``, ``plate<k>_torque_*``."""
    n = len(trial.analog_time_s)
    table = {"time": trial.analog_time_s}
    plates = {p.number: p for p in trial.plates}
    floor = float(np.mean([p.corners_m[:, VERTICAL].mean() for p in trial.plates])) if trial.plates else 0.0
    for side in sides:
        force = np.zeros((n, 3))
        moment = np.zeros((n, 3))  # about the ground origin, so several plates combine
        for record in (r for r in assignments if r["side"] == side):
            plate, span = plates[record["plate"]], slice(record["first"], record["last"] + 1)
            force[span] += plate.force_n[span]
            moment[span] += np.cross(plate.cop_m[span], plate.force_n[span]) + plate.free_moment_nm[span]
        loaded = force[:, VERTICAL] > 0
        cop = np.zeros((n, 3))
        safe = np.where(loaded, force[:, VERTICAL], 1.0)
        # point on the floor (y = floor) where the horizontal moments vanish
        cop[:, 0] = (moment[:, 2] + floor * force[:, 0]) / safe
        cop[:, 2] = (floor * force[:, 2] - moment[:, 0]) / safe
        cop[:, 1] = floor
        cop[~loaded] = 0.0
        torque = moment - np.cross(cop, force)
        torque[~loaded] = 0.0
        _put(table, f"ground_force_{side}_v", force)
        _put(table, f"ground_force_{side}_p", cop)
        _put(table, f"ground_torque_{side}_", torque)
    for plate in trial.plates:
        _put(table, f"plate{plate.number}_force_v", plate.force_n)
        _put(table, f"plate{plate.number}_force_p", plate.cop_m)
        _put(table, f"plate{plate.number}_torque_", plate.free_moment_nm)
    return pd.DataFrame(table)


def _put(table: dict, prefix: str, values: np.ndarray) -> None:
    for i, axis in enumerate("xyz"):
        table[f"{prefix}{axis}"] = values[:, i]
