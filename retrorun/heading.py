"""The runner's heading: which way the runner faces in the lab's horizontal plane, and the
one rule that brings a trial's markers and ground reaction forces into the model's
facing frame before scaling, IK, ID and SO.

Generic OpenSim models face +X in their default pose, start IK from it, and many clamp
the root's rotations (pelvis_rotation -90..90 deg in the Hamner and gait2392 models); a
planar model cannot turn at all. A runner facing -X (a backward runner crossing the
plates in the forward runner's direction does) then converges to a wrong pose with exit
0: on the Hamner running trial turned 180 deg, pelvis_rotation sat at the +90 deg clamp
and marker RMS was 9.5 cm instead of 1.4 cm.

The heading is the rotation about the vertical (OpenSim's +Y) that best carries the
model's own markers on its root body (the pelvis), at the default pose, onto the lab's
(a two-dimensional Kabsch fit of the horizontal coordinates, centroids removed), per
frame, then averaged on the circle over the frames. It is marker geometry, not the
direction of travel: a backward runner travels opposite to the way it faces, and a
treadmill runner does not travel. Overground, the line of travel is the sharper
estimate of the axis (a 1 cm asymmetry in placing the ASIS markers turns the marker fit
by 2-3 deg, and a planar model cannot follow the sideways drift that leaves): where the
pelvis markers travel faster than ``MIN_TRAVEL_M_S`` and their line lies within
``MAX_TRAVEL_OFFSET_DEG`` of the fit's axis, the heading is the direction of travel or
its opposite, whichever the marker fit is nearer. Markers and forces are then turned by minus the
heading about the vertical through the pelvis markers' mean horizontal position over the
trial, which becomes the origin: every later quantity (joint angles, moments,
residuals, activations) is in the runner's facing frame, and none depends on where the
lab's origin lies either. (With the lab's origin kept, IK's converged joint angles moved
by up to 0.4 deg (hips) and 0.7 deg (arms) when the Hamner trial was only displaced by
1.5 m: the optimizer's tolerance on a flat cost, not a heading effect.)
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .formats import MarkerTable

log = logging.getLogger("retrorun")

VERTICAL = 1  # OpenSim's ground Y
# Above this circular spread of the per-frame headings the trial turns within itself (a
# curve, a turn at the end of a runway): one rotation cannot face every frame forward.
MAX_SPREAD_DEG = 30.0
# Overground walking and running travel at 1-6 m/s; a treadmill runner drifts at a few cm/s.
MIN_TRAVEL_M_S = 0.5
# A runner whose line of travel is further than this from the way it faces moves sideways
# (a cutting or side-stepping trial): its heading is the marker fit's.
MAX_TRAVEL_OFFSET_DEG = 30.0


@dataclass(frozen=True)
class Heading:
    heading_deg: float  # the runner's facing direction, counterclockwise about +Y from +X
    spread_deg: float  # circular standard deviation of the per-frame headings
    origin_m: tuple[float, float, float]  # the lab point (y = 0) that becomes the origin
    markers: tuple[str, ...]  # the markers the fit used
    frames: int  # frames with enough of them
    marker_fit_deg: float = float("nan")  # the marker fit's heading
    travel_m_s: float = 0.0  # the pelvis markers' horizontal speed over the frames
    from_travel: bool = False  # the heading is the line of travel's (module docstring)

    def write(self, path: str | Path) -> None:
        from .formats import atomic_path

        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(asdict(self), indent=2))


def read_heading(path: str | Path) -> Heading:
    values = json.loads(Path(path).read_text())
    return Heading(
        heading_deg=float(values["heading_deg"]),
        spread_deg=float(values["spread_deg"]),
        origin_m=tuple(values["origin_m"]),
        markers=tuple(values["markers"]),
        frames=int(values["frames"]),
        marker_fit_deg=float(values.get("marker_fit_deg", values["heading_deg"])),
        travel_m_s=float(values.get("travel_m_s", 0.0)),
        from_travel=bool(values.get("from_travel", False)),
    )


def _wrapped(angle_deg: float) -> float:
    """The angle in (-180, 180] deg."""
    return float(-((-angle_deg + 180.0) % 360.0 - 180.0))


def travel_velocity(markers: MarkerTable, names: list[str]) -> np.ndarray:
    """The markers' mean horizontal velocity (x, z), m/s: each marker's least-squares
    line over the frames it is seen in, averaged over the markers."""
    velocities = []
    for name in names:
        xyz = markers.positions_m[name]
        seen = ~np.isnan(xyz).any(axis=1)
        if seen.sum() >= 2 and np.ptp(markers.time_s[seen]) > 0:
            velocities.append(np.polyfit(markers.time_s[seen], xyz[seen][:, [0, 2]], 1)[0])
    return np.mean(velocities, axis=0) if velocities else np.zeros(2)


def rotation_about_vertical(angle_deg: float) -> np.ndarray:
    """3 x 3 rotation by ``angle_deg`` about +Y (right hand: +X turns toward -Z)."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def horizontal_angle(reference: np.ndarray, observed: np.ndarray) -> float:
    """Angle (deg) of the rotation about +Y that best carries ``reference`` points (k x 3)
    onto ``observed`` ones (k x 3) in the horizontal plane, centroids removed (the
    two-dimensional Kabsch/Procrustes solution); NaN when the points have no spread."""
    p = reference[:, [0, 2]] - reference[:, [0, 2]].mean(axis=0)
    q = observed[:, [0, 2]] - observed[:, [0, 2]].mean(axis=0)
    # q = R_y(a) p:  q_x = p_x c + p_z s,  q_z = -p_x s + p_z c
    sine = float(np.sum(p[:, 1] * q[:, 0] - p[:, 0] * q[:, 1]))
    cosine = float(np.sum(p[:, 0] * q[:, 0] + p[:, 1] * q[:, 1]))
    if np.hypot(sine, cosine) < 1e-12:
        return float("nan")
    return float(np.degrees(np.arctan2(sine, cosine)))


def check_heading_markers(marker_names, reference_names, *, path) -> list[str]:
    """The heading is fitted to the model's root-body markers: at least two must be
    recorded (under the model's names, after marker_aliases)."""
    found = sorted(set(marker_names) & set(reference_names))
    if len(found) >= 2:
        return []
    return [
        f"{path} has {len(found)} of the markers on the model's root body "
        f"({', '.join(sorted(reference_names)) or 'none'}), which tell which way the runner faces in the lab: "
        "record at least two of them (e.g. both ASIS), or map the lab's names to the model's with marker_aliases"
    ]


def estimate_heading(
    markers: MarkerTable, reference_m: dict[str, np.ndarray], *, subject: str = "", trial: str = ""
) -> Heading:
    """The runner's heading in ``markers`` (lab frame, model names) from ``reference_m``,
    the model's root-body markers at its default pose (name -> xyz in ground)."""
    names = [n for n in reference_m if n in markers.positions_m]
    problems = check_heading_markers(markers.positions_m, reference_m, path=markers.source)
    if problems:
        raise InputError(problems[0], subject=subject, trial=trial, fix="correct the marker names or the model")
    reference = np.array([reference_m[n] for n in names])
    observed = np.stack([markers.positions_m[n] for n in names], axis=1)  # frames x k x 3
    angles = []
    for frame in observed:
        seen = ~np.isnan(frame).any(axis=1)
        if seen.sum() >= 2:
            angles.append(horizontal_angle(reference[seen], frame[seen]))
    angles = np.radians([a for a in angles if np.isfinite(a)])
    if len(angles) == 0:
        raise InputError(
            f"{markers.source}: no frame has two of the pelvis markers {', '.join(names)} apart in the "
            "horizontal plane, so the runner's heading cannot be found",
            subject=subject,
            trial=trial,
            fix="check those markers' gaps and names",
        )
    mean_vector = np.array([np.cos(angles).mean(), np.sin(angles).mean()])
    resultant = float(np.hypot(*mean_vector))
    heading = float(np.degrees(np.arctan2(mean_vector[1], mean_vector[0])))
    spread = float(np.degrees(np.sqrt(-2.0 * np.log(max(resultant, 1e-12)))))
    if spread > MAX_SPREAD_DEG:
        raise InputError(
            f"{markers.source}: the runner's heading varies by {spread:.0f} deg (circular SD) over the "
            f"frames analysed (mean {heading:.0f} deg): the trial turns, and one rotation cannot bring "
            "every frame into the model's facing direction",
            subject=subject,
            trial=trial,
            fix="set start_s/end_s in the trials sheet to a straight part of the trial",
        )
    centre = np.nanmean(observed.reshape(-1, 3), axis=0)
    velocity = travel_velocity(markers, names)
    speed = float(np.hypot(*velocity))
    marker_fit, from_travel = heading, False
    if speed > MIN_TRAVEL_M_S:
        # facing (cos h, 0, -sin h): the heading of a velocity (vx, vz) is atan2(-vz, vx)
        travel = float(np.degrees(np.arctan2(-velocity[1], velocity[0])))
        nearer = min((travel, _wrapped(travel + 180.0)), key=lambda a: abs(_wrapped(a - marker_fit)))
        if abs(_wrapped(nearer - marker_fit)) <= MAX_TRAVEL_OFFSET_DEG:
            heading, from_travel = nearer, True
        else:
            log.warning(
                "%s: the pelvis travels at %.0f deg, %.0f deg off the way the markers say the runner faces "
                "(%.0f deg): the marker fit is used",
                markers.source,
                travel,
                abs(_wrapped(nearer - marker_fit)),
                marker_fit,
            )
    return Heading(
        heading_deg=heading,
        spread_deg=spread,
        origin_m=(float(centre[0]), 0.0, float(centre[2])),
        markers=tuple(names),
        frames=len(angles),
        marker_fit_deg=marker_fit,
        travel_m_s=speed,
        from_travel=from_travel,
    )


def _turn_points(points: np.ndarray, heading: Heading) -> np.ndarray:
    """Points (... x 3) in the facing frame: moved by minus the origin, then turned by
    minus the heading about the vertical."""
    return (points - np.asarray(heading.origin_m)) @ rotation_about_vertical(-heading.heading_deg).T


def turn_markers(markers: MarkerTable, heading: Heading) -> MarkerTable:
    """The markers as a runner facing the model's +X would give them."""
    positions = {name: _turn_points(xyz, heading) for name, xyz in markers.positions_m.items()}
    return MarkerTable(
        markers.time_s, positions, markers.rate_hz, markers.source, markers.header_units, dict(markers.extra)
    )


def turn_forces(table: pd.DataFrame, specs: list, heading: Heading) -> pd.DataFrame:
    """A GRF table (OpenSim storage columns) in the facing frame: every ExternalForce's
    force and torque turned as vectors, its point as a position (retrorun.heading's
    rule); the other columns as they are."""
    turned = table.copy()
    rotation = rotation_about_vertical(-heading.heading_deg)
    done: set[str] = set()
    for spec in specs:
        columns = spec.columns()
        for kind in ("force", "point", "torque"):
            names = columns[kind]
            if not names or names[0] in done or any(n not in table for n in names):
                continue  # a missing column is the GRF stage's check to report
            values = table[names].to_numpy(dtype=float)
            turned[names] = _turn_points(values, heading) if kind == "point" else values @ rotation.T
            done.update(names)
    return turned


def model_reference_markers(model_path: str, marker_set: str | None = None) -> dict[str, np.ndarray]:
    """The model's markers on its root body (the body the joint to ground moves), in ground
    at the default pose: what facing the model's +X looks like."""
    import opensim as osim

    from .opensim_tools import load_model

    model = load_model(model_path, what="model")
    if marker_set:
        model.updateMarkerSet(osim.MarkerSet(str(Path(marker_set).resolve())))
    state = model.initSystem()
    root_joint = next(j for j in model.getJointSet() if j.getParentFrame().findBaseFrame().getName() == "ground")
    root = root_joint.getChildFrame().findBaseFrame().getName()
    reference = {}
    for marker in model.getMarkerSet():
        if marker.getParentFrame().findBaseFrame().getName() == root:
            location = marker.getLocationInGround(state)
            reference[marker.getName()] = np.array([location.get(i) for i in range(3)])
    return reference


def face_model(markers: MarkerTable, model_path: str, marker_set: str | None, subject: str, trial: str) -> Heading:
    """The heading of ``markers`` (model names) relative to the model's default pose."""
    return estimate_heading(markers, model_reference_markers(model_path, marker_set), subject=subject, trial=trial)
