"""Marker data as OpenSim will see it: lab names mapped to model names, gaps handled.

Gaps are runs of frames where a marker is NaN, and frames missing from the file
altogether (a jump in the time column). A short gap is filled by a cubic spline
through the marker's other frames; a long one is either left as NaN, which OpenSim's IK
treats as a missing marker with no weight in those frames (InverseKinematicsSolver
skips a marker whose reference value is NaN: opensim-core pull request 2054), or
fails the trial. A marker not yet (or no longer) in view at the start (end) of the
recording has nothing to interpolate from and is always left as NaN there.
"""

from __future__ import annotations

import logging

import numpy as np

from .config import config_schema
from .errors import InputError, KinematicsError
from .formats import MarkerTable

log = logging.getLogger("retrorun")

# config gaps: its policies and defaults, as the config schema states them
_GAPS = config_schema("gaps")["properties"]
GAP_POLICIES = tuple(_GAPS["long_gap_policy"]["enum"])
DEFAULT_GAPS = {name: entry["default"] for name, entry in _GAPS.items()}

# The model's root body moves on six coordinates, and a rigid body's pose needs at least
# three non-collinear points (Soderkvist & Wedin 1993, J Biomech 26:1473-1477).
MIN_TRACKED_MARKERS = 3


def prepare_markers(
    markers: MarkerTable, *, aliases: dict[str, str], gaps: dict, subject: str, trial: str
) -> MarkerTable:
    """Rename markers by ``aliases`` (lab name -> model name) and fill or mark gaps per ``gaps``."""
    markers = apply_aliases(markers, aliases or {}, subject=subject, trial=trial)
    settings = DEFAULT_GAPS | (gaps or {})
    markers = restore_missing_frames(markers, subject=subject, trial=trial)
    return fill_gaps(
        markers,
        max_gap_s=float(settings["max_gap_s"]),
        long_gap_policy=settings["long_gap_policy"],
        subject=subject,
        trial=trial,
    )


def apply_aliases(markers: MarkerTable, aliases: dict[str, str], *, subject: str = "", trial: str = "") -> MarkerTable:
    """Markers renamed lab name -> model name; a clash (two markers ending with one name) is an error."""
    renamed: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for name, xyz in markers.positions_m.items():
        target = aliases.get(name, name)
        if target in renamed:
            raise InputError(
                f"{markers.source}: markers '{origin[target]}' and '{name}' would both be called '{target}' "
                f"after marker_aliases",
                subject=subject,
                trial=trial,
                fix=f"map only one lab marker to '{target}' in the config's marker_aliases",
            )
        renamed[target] = xyz
        origin[target] = name
    return MarkerTable(
        markers.time_s, renamed, markers.rate_hz, markers.source, markers.header_units, dict(markers.extra)
    )


def check_marker_timing(markers: MarkerTable, path) -> list[str]:
    """A TRC's time column must increase and agree with its declared DataRate."""
    steps = np.diff(markers.time_s)
    if len(steps) == 0:
        return []  # a one-frame static trial has no timing to check
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0])
        return [
            f"{path}: the Time column does not increase at frame {bad + 2} ({markers.time_s[bad]:g} -> "
            f"{markers.time_s[bad + 1]:g} s); export the trial again"
        ]
    # Every time should sit on the DataRate grid (to rounding of the cells, e.g. 60 Hz
    # written as 0.017 s), with consecutive frames one grid step apart; a few larger
    # steps are frames missing from the export (gaps), not a wrong rate.
    period = 1.0 / markers.rate_hz
    grid = np.rint((markers.time_s - markers.time_s[0]) / period)
    off_grid = np.abs(markers.time_s - markers.time_s[0] - grid * period) > 0.25 * period
    grid_steps = np.diff(grid)
    if off_grid.any() or np.any(grid_steps < 1) or np.median(grid_steps) != 1:
        measured = (len(steps)) / float(markers.time_s[-1] - markers.time_s[0])
        return [
            f"{path}: DataRate says {markers.rate_hz:g} Hz but the Time column steps at {measured:.4g} Hz; "
            f"correct DataRate in the TRC header (line 3) or the Time column"
        ]
    return []


def restore_missing_frames(markers: MarkerTable, *, subject: str = "", trial: str = "") -> MarkerTable:
    """Put every frame at its exact time on the DataRate grid, and frames missing from the
    file back as NaN rows, so they count as gaps.

    Exporters round the Time column (60 Hz written as 0.000, 0.017, 0.033 s: steps of 16
    and 17 ms). Taken as they are, those times shift every sample by up to 0.33 ms, and
    the splines IK, ID and SO differentiate twice turn that into acceleration ripple:
    on the Hamner running trial, SO's accelerations (a spline through the spline's
    speeds) then differed from ID's (the spline's second derivative) by 8 % of each
    coordinate's peak moment (median), 0.09 % on the exact grid (tools/benchmark_fast_so.py)."""
    time_s = markers.time_s
    steps = np.diff(time_s)
    if len(steps) == 0:
        return markers
    problems = check_marker_timing(markers, markers.source)
    if problems:
        raise InputError(
            "; ".join(problems),
            subject=subject,
            trial=trial,
            fix="export the trial again; frames must be in time order, on the DataRate grid",
        )
    period = 1.0 / markers.rate_hz
    index = np.rint((time_s - time_s[0]) / period).astype(int)
    grid = time_s[0] + np.arange(index[-1] + 1) * period
    if not np.any(steps > 1.5 * period):
        return MarkerTable(
            grid, markers.positions_m, markers.rate_hz, markers.source, markers.header_units, dict(markers.extra)
        )
    positions = {}
    for name, xyz in markers.positions_m.items():
        filled = np.full((len(grid), 3), np.nan)
        filled[index] = xyz
        positions[name] = filled
    log.warning("%s: %d frames missing from the file are treated as gaps", markers.source, len(grid) - len(time_s))
    return MarkerTable(grid, positions, markers.rate_hz, markers.source, markers.header_units, dict(markers.extra))


def gap_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last) frame index] of each run of True."""
    padded = np.concatenate([[False], missing, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def fill_gaps(
    markers: MarkerTable, *, max_gap_s: float, long_gap_policy: str, subject: str = "", trial: str = ""
) -> MarkerTable:
    """Cubic-spline fill of gaps up to ``max_gap_s``; longer gaps per ``long_gap_policy``."""
    if max_gap_s < 0:
        raise ValueError(f"max_gap_s must be >= 0, got {max_gap_s}")
    if long_gap_policy not in GAP_POLICIES:
        raise InputError(
            f"gaps.long_gap_policy is '{long_gap_policy}'",
            subject=subject,
            trial=trial,
            fix=f"set config gaps.long_gap_policy to one of {', '.join(GAP_POLICIES)}",
        )
    time_s = markers.time_s
    n = len(time_s)
    positions, long_gaps, edge_gaps = {}, [], []
    for name, xyz in markers.positions_m.items():
        xyz = xyz.copy()
        missing = np.isnan(xyz).any(axis=1)
        xyz[missing] = np.nan
        if missing.all():
            edge_gaps.append((name, 0, n - 1))
            positions[name] = xyz
            continue
        seen = ~missing
        spline = None
        for first, last in gap_runs(missing):
            if first == 0 or last == n - 1:
                # not yet (or no longer) in view: nothing to interpolate from, and common
                # outside the analysis window, so it is left empty whatever the policy
                edge_gaps.append((name, first, last))
                continue
            # a gap of k missing frames spans k + 1 sample periods between the frames around it
            length_s = (last - first + 2) / markers.rate_hz
            if length_s <= max_gap_s + 1e-9 and seen.sum() >= 4:
                # imported here: scipy.interpolate takes about 0.3 s to import, and planning
                # imports this module (the up-front checks) and never fills a gap
                from scipy.interpolate import CubicSpline

                spline = spline or CubicSpline(time_s[seen], xyz[seen], axis=0)
                xyz[first : last + 1] = spline(time_s[first : last + 1])
            else:
                long_gaps.append((name, first, last))
        positions[name] = xyz
    if edge_gaps:
        log.warning(
            "%s: markers out of view at the start or end, left out of IK there: %s",
            markers.source,
            _describe(edge_gaps, time_s),
        )
    if long_gaps:
        described = _describe(long_gaps, time_s)
        if long_gap_policy == "fail":
            raise InputError(
                f"{markers.source}: marker gaps longer than gaps.max_gap_s = {max_gap_s:g} s: {described}",
                subject=subject,
                trial=trial,
                fix="fill the gaps in the lab software, raise gaps.max_gap_s, or set "
                "gaps.long_gap_policy: ignore_marker to give those markers no IK weight in those frames",
            )
        log.warning("%s: markers left out of IK where their gaps exceed %g s: %s", markers.source, max_gap_s, described)
    extra = dict(markers.extra) | {"long_gaps": long_gaps, "edge_gaps": edge_gaps}
    return MarkerTable(time_s, positions, markers.rate_hz, markers.source, markers.header_units, extra)


def require_tracked_frames(markers: MarkerTable, weighted: list[str], *, subject: str = "", trial: str = "") -> None:
    """Refuse frames where fewer than MIN_TRACKED_MARKERS of the IK's weighted markers are
    seen. No solver can place the model there: OpenSim's IK fails, and a solver that warm
    starts from the previous frame would silently hold the last pose."""
    tracked = [name for name in weighted if name in markers.positions_m]
    seen = np.zeros(len(markers.time_s), dtype=int)
    for name in tracked:
        seen += ~np.isnan(markers.positions_m[name]).any(axis=1)
    runs = gap_runs(seen < MIN_TRACKED_MARKERS)
    if not runs:
        return
    raise KinematicsError(
        f"{markers.source}: fewer than {MIN_TRACKED_MARKERS} of the {len(tracked)} markers the IK tasks weight "
        f"are visible in {_describe([('', a, b) for a, b in runs], markers.time_s)}, where IK runs (the "
        "analysed cycles plus margin); "
        "nothing there places the model",
        subject=subject,
        trial=trial,
        fix="fill the gaps in the lab software, raise gaps.max_gap_s so they are interpolated, or set the "
        "trial's start_s/end_s in the trials sheet to leave those frames out",
    )


def _describe(gaps: list[tuple[str, int, int]], time_s: np.ndarray, *, shown: int = 10) -> str:
    text = "; ".join(
        f"{name} frames {a + 1}-{b + 1} ({time_s[a]:.3f}-{time_s[b]:.3f} s)".strip() for name, a, b in gaps[:shown]
    )
    return text + (f" and {len(gaps) - shown} more" if len(gaps) > shown else "")
