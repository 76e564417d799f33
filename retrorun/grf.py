"""Ground reaction forces: which columns act on which foot, filtering, per-side tables,
and each foot's contacts (gait events) from the raw force."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import events, templates
from .errors import InputError
from .filtering import filter_plate, sample_rate


def side_of_body(body: str, sides: dict[str, str]) -> str | None:
    for side, suffix in sides.items():
        if body.endswith(suffix):
            return side
    return None


def analysis_range(times: np.ndarray, window: dict, margin_s: float) -> tuple[float, float, float, float]:
    """(window start, window end, start with margin, end with margin), clipped to the data."""
    start = window.get("start_s")
    end = window.get("end_s")
    start = float(times[0]) if start is None else float(start)
    end = float(times[-1]) if end is None else float(end)
    return start, end, max(float(times[0]), start - margin_s), min(float(times[-1]), end + margin_s)


def prepare_grf(table: pd.DataFrame, *, external_loads: str, window: dict, margin_s: float, cutoff_hz: float,
                contact_threshold_n: float, sides: dict[str, str], subject: str, trial: str,
                source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filter each ExternalForce's columns; return (OpenSim table, per-side tidy table), windowed with margin."""
    specs = templates.external_forces(external_loads)
    times = table["time"].to_numpy()
    start, end, first, last = analysis_range(times, window, margin_s)
    if times[0] > start + 1e-6 or times[-1] < end - 1e-6:
        raise InputError(f"the GRF in {source} covers {times[0]:g}-{times[-1]:g} s, not the analysis window {start:g}-{end:g} s",
                         subject=subject, trial=trial, fix="correct start_s/end_s in the trials sheet or export a longer GRF")
    rate = sample_rate(times)
    prepared = {"time": times}
    per_side = {side: {"force": np.zeros((len(times), 3)), "moment": np.zeros((len(times), 3))} for side in sides}
    for spec in specs:
        columns = spec.columns()
        missing = [c for cols in columns.values() for c in cols if c not in table.columns]
        if missing:
            raise InputError(f"{source} lacks column(s) {', '.join(missing)} read by ExternalForce '{spec.name}' of {external_loads}",
                             subject=subject, trial=trial, fix="fix the identifiers in the external loads file or the GRF column names")
        force = table[columns["force"]].to_numpy(dtype=float)
        point = table[columns["point"]].to_numpy(dtype=float) if columns["point"] else np.zeros_like(force)
        torque = table[columns["torque"]].to_numpy(dtype=float) if columns["torque"] else np.zeros_like(force)
        if spec.force_expressed_in_body != "ground" or spec.point_expressed_in_body != "ground":
            raise InputError(f"ExternalForce '{spec.name}' in {external_loads} is expressed in a body frame; "
                             "retrorun filters and checks GRF in the ground frame",
                             subject=subject, trial=trial, fix="export the GRF in the lab (ground) frame")
        force, point, torque = filter_plate(force, point, torque, rate_hz=rate, cutoff_hz=cutoff_hz,
                                            contact_threshold_n=contact_threshold_n)
        for cols, values in ((columns["force"], force), (columns["point"], point), (columns["torque"], torque)):
            for i, column in enumerate(cols):
                prepared[column] = values[:, i]
        side = side_of_body(spec.applied_to_body, sides)
        if side is None:
            raise InputError(f"ExternalForce '{spec.name}' in {external_loads} acts on '{spec.applied_to_body}', "
                             f"which matches none of the side suffixes {sides}", subject=subject, trial=trial,
                             fix="apply each ExternalForce to a body named with a side suffix (e.g. calcn_r)")
        per_side[side]["force"] += force
        # Moment about the ground origin, so plates under one foot combine into one centre of pressure.
        per_side[side]["moment"] += np.cross(point, force) + torque
    prepared = pd.DataFrame(prepared)
    keep = (prepared["time"] >= first - 1e-9) & (prepared["time"] <= last + 1e-9)
    tidy = {"time_s": times}
    for side, sums in per_side.items():
        force, moment = sums["force"], sums["moment"]
        for i, axis in enumerate("xyz"):
            tidy[f"{side}_force_{axis}_n"] = force[:, i]
        cop = _centre_of_pressure(force, moment)
        for i, axis in enumerate("xyz"):
            tidy[f"{side}_cop_{axis}_m"] = cop[:, i]
    return prepared[keep].reset_index(drop=True), pd.DataFrame(tidy)[keep.to_numpy()].reset_index(drop=True)


def _centre_of_pressure(force: np.ndarray, moment: np.ndarray, *, floor_y: float = 0.0) -> np.ndarray:
    """Point on the floor plane (y = floor_y) where the horizontal moments vanish; NaN without load."""
    fy = force[:, 1]
    cop = np.full_like(force, np.nan)
    loaded = fy > 1e-6
    # M = r x F + free torque about y only, with r = (x, floor_y, z):
    # Mx = floor_y*Fz - z*Fy,  Mz = x*Fy - floor_y*Fx
    cop[loaded, 0] = (moment[loaded, 2] + floor_y * force[loaded, 0]) / fy[loaded]
    cop[loaded, 1] = floor_y
    cop[loaded, 2] = (floor_y * force[loaded, 2] - moment[loaded, 0]) / fy[loaded]
    return cop



def raw_contacts(table: pd.DataFrame, *, external_loads: str, window: dict, margin_s: float, threshold_n: float,
                 min_contact_s: float, sides: dict[str, str], subject: str, trial: str, source: str) -> pd.DataFrame:
    """Each foot's contacts (side, contact, strike_s, toe_off_s) from its raw vertical force.

    Detected on the unfiltered force at the plate's own rate, over the same span as
    ``prepare_grf``'s tables (window plus margin). A low-pass filter at the kinematics'
    cutoff (10-15 Hz) spreads each contact's edges over tens of milliseconds: on the
    demo's designed forces at 10 Hz the strike came 24 ms early forward and 13 ms
    early backward, so contact time, stance % and every stance mean were biased, and
    differently per condition. The filtered force is for ID and SO only.
    """
    specs = templates.external_forces(external_loads)
    times = table["time"].to_numpy(dtype=float)
    _, _, first, last = analysis_range(times, window, margin_s)
    vertical = {side: np.zeros(len(times)) for side in sides}
    for spec in specs:
        column = spec.columns()["force"][1]  # Y: vertical in OpenSim's ground frame
        if column not in table.columns:
            raise InputError(f"{source} lacks column {column} read by ExternalForce '{spec.name}' of {external_loads}",
                             subject=subject, trial=trial, fix="fix the identifiers in the external loads file or the GRF column names")
        side = side_of_body(spec.applied_to_body, sides)
        if side is None:
            raise InputError(f"ExternalForce '{spec.name}' in {external_loads} acts on '{spec.applied_to_body}', "
                             f"which matches none of the side suffixes {sides}", subject=subject, trial=trial,
                             fix="apply each ExternalForce to a body named with a side suffix (e.g. calcn_r)")
        vertical[side] += np.nan_to_num(table[column].to_numpy(dtype=float), nan=0.0)
    keep = (times >= first - 1e-9) & (times <= last + 1e-9)
    per_side = pd.DataFrame({"time_s": times[keep]} | {events.vertical_force_column(side): force[keep]
                                                        for side, force in vertical.items()})
    return events.detect_side_contacts(per_side, sides=list(sides), threshold_n=threshold_n, min_contact_s=min_contact_s)
