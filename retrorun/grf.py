"""Ground reaction forces: which columns act on which foot, filtering, per-side tables,
and each foot's contacts (gait events) from the raw force."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import events, templates
from .errors import InputError
from .filtering import filter_plate, on_uniform_grid, sample_rate


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


def check_time_increases(times: np.ndarray, *, grf_path) -> list[str]:
    """The GRF's time column must increase (filtering needs one sample rate); an empty
    (NaN) time is a step that does not."""
    wrong = ~(np.diff(times) > 0)
    if np.any(wrong):
        bad = int(np.flatnonzero(wrong)[0])
        return [
            f"the time column of {grf_path} does not increase at data row {bad + 2} "
            f"({times[bad]:g} -> {times[bad + 1]:g} s); export the GRF again without repeated or reordered rows"
        ]
    return []


def check_window_covered(times: np.ndarray, start_s: float, end_s: float, *, grf_path: str) -> list[str]:
    """The GRF must cover the analysis window."""
    if times[0] > start_s + 1e-6 or times[-1] < end_s - 1e-6:
        return [
            f"the GRF in {grf_path} covers {times[0]:g}-{times[-1]:g} s, not the whole analysis window "
            f"{start_s:g}-{end_s:g} s; correct start_s/end_s or the GRF file"
        ]
    return []


def check_force_columns(columns, specs: list, *, grf_path: str, loads_path: str) -> list[str]:
    """Every column an ExternalForce reads must be in the GRF file."""
    problems = []
    for spec in specs:
        missing = spec.missing_columns(columns)
        if missing:
            problems.append(
                f"the GRF file {grf_path} lacks column(s) {', '.join(missing)} that ExternalForce "
                f"'{spec.name}' in {loads_path} reads; fix the identifiers in the external loads file "
                "or the GRF columns"
            )
    return problems


def check_force_sides(specs: list, sides: dict[str, str], *, loads_path: str) -> list[str]:
    """Every ExternalForce must act on a body whose name ends in a side suffix: that is
    how its force goes to a foot."""
    return [
        f"external loads {loads_path}: ExternalForce '{spec.name}' acts on '{spec.applied_to_body}', "
        f"whose name ends in none of the side suffixes {sorted(sides.values())} (config 'sides')"
        for spec in specs
        if side_of_body(spec.applied_to_body, sides) is None
    ]


def check_ground_frame(specs: list, *, loads_path: str) -> list[str]:
    """Every ExternalForce must be expressed in the ground frame: that is where retrorun
    filters the forces and finds each foot's contacts."""
    return [
        f"ExternalForce '{spec.name}' in {loads_path} is expressed in a body frame; retrorun filters and checks "
        f"GRF in the ground frame: export the GRF in the lab (ground) frame"
        for spec in specs
        if spec.force_expressed_in_body != "ground" or spec.point_expressed_in_body != "ground"
    ]


def check_force_values(grf: pd.DataFrame, spec, *, grf_path: str, threshold_n: float) -> list[str]:
    """NaN cells and downward vertical force in the columns one ExternalForce reads (checked
    up front on the user's GRF files; the files the workflow writes hold neither)."""
    problems = []
    columns = [c for cols in spec.columns().values() for c in cols]
    # one array for all the columns: a pandas call per column cost a millisecond per trial
    # of every plan's up-front checks
    empty = np.isnan(grf[columns].to_numpy(dtype=float))
    if empty.any():
        time_s = grf["time"].to_numpy()
        for index in np.flatnonzero(empty.any(axis=0)):
            first = float(time_s[empty[:, index]][0])
            problems.append(
                f"the GRF file {grf_path}: column '{columns[index]}' has {int(empty[:, index].sum())} empty/NaN "
                f"value(s) in the analysis window (first at {first:g} s); fill them (zero force out of contact) "
                f"or export again"
            )
    vertical = spec.columns()["force"][1]
    values = grf[vertical].to_numpy(dtype=float)
    if np.nanmin(values, initial=0.0) < -threshold_n:
        at = float(grf["time"].to_numpy()[np.nanargmin(values)])
        problems.append(
            f"the GRF file {grf_path}: column '{vertical}' goes down to {np.nanmin(values):.0f} N at {at:g} s: "
            f"the ground can only push up, so the force sign or axes are wrong (OpenSim's vertical is +Y); "
            f"export the reaction force in OpenSim's frame"
        )
    return problems


def _raise_problems(problems: list[str], *, subject: str, trial: str) -> None:
    if problems:
        raise InputError(
            "; ".join(problems),
            subject=subject,
            trial=trial,
            fix="correct the GRF file, the external loads file or the sheet as said above",
        )


def prepare_grf(
    table: pd.DataFrame,
    *,
    external_loads: str,
    window: dict,
    margin_s: float,
    cutoff_hz: float,
    contact_threshold_n: float,
    sides: dict[str, str],
    subject: str,
    trial: str,
    source: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Filter each ExternalForce's columns; return (OpenSim table, per-side tidy table), windowed with margin."""
    specs = templates.external_forces(external_loads)
    # on the grid, as the markers are (markers.restore_missing_frames): a GRF sampled with
    # them but rounded the same way would otherwise be paired with them up to 0.33 ms off
    times = on_uniform_grid(table["time"].to_numpy())
    start, end, first, last = analysis_range(times, window, margin_s)
    _raise_problems(check_time_increases(times, grf_path=source), subject=subject, trial=trial)
    _raise_problems(
        check_window_covered(times, start, end, grf_path=source)
        + check_force_columns(table.columns, specs, grf_path=source, loads_path=external_loads)
        + check_force_sides(specs, sides, loads_path=external_loads)
        + check_ground_frame(specs, loads_path=external_loads),
        subject=subject,
        trial=trial,
    )
    rate = sample_rate(times)
    prepared = {"time": times}
    per_side = {side: {"force": np.zeros((len(times), 3)), "moment": np.zeros((len(times), 3))} for side in sides}
    for spec in specs:
        columns = spec.columns()
        force = table[columns["force"]].to_numpy(dtype=float)
        point = table[columns["point"]].to_numpy(dtype=float) if columns["point"] else np.zeros_like(force)
        torque = table[columns["torque"]].to_numpy(dtype=float) if columns["torque"] else np.zeros_like(force)
        force, point, torque = filter_plate(
            force, point, torque, rate_hz=rate, cutoff_hz=cutoff_hz, contact_threshold_n=contact_threshold_n
        )
        for cols, values in ((columns["force"], force), (columns["point"], point), (columns["torque"], torque)):
            for i, column in enumerate(cols):
                prepared[column] = values[:, i]
        side = side_of_body(spec.applied_to_body, sides)
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


def raw_contacts(
    table: pd.DataFrame,
    *,
    external_loads: str,
    window: dict,
    margin_s: float,
    threshold_n: float,
    min_contact_s: float,
    sides: dict[str, str],
    subject: str,
    trial: str,
    source: str,
) -> pd.DataFrame:
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
    _raise_problems(
        check_force_columns(table.columns, specs, grf_path=source, loads_path=external_loads)
        + check_force_sides(specs, sides, loads_path=external_loads)
        + check_ground_frame(specs, loads_path=external_loads),
        subject=subject,
        trial=trial,
    )
    vertical = {side: np.zeros(len(times)) for side in sides}
    for spec in specs:
        column = spec.columns()["force"][1]  # Y: vertical in OpenSim's ground frame
        side = side_of_body(spec.applied_to_body, sides)
        vertical[side] += np.nan_to_num(table[column].to_numpy(dtype=float), nan=0.0)
    keep = (times >= first - 1e-9) & (times <= last + 1e-9)
    per_side = pd.DataFrame(
        {"time_s": times[keep]} | {events.vertical_force_column(side): force[keep] for side, force in vertical.items()}
    )
    return events.detect_side_contacts(
        per_side, sides=list(sides), threshold_n=threshold_n, min_contact_s=min_contact_s
    )
