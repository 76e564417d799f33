"""Which gait cycles (or stances) of a trial are analysed, and so where IK, ID and SO run.

The one place the analysis span is decided: contacts come from the raw GRF (rule
detect_contacts) before any IK or SO; this module chooses the units to analyse and
returns the span that covers them. IK, ID and SO then run over that span (plus the
margins they need), never over a hand-tuned window.

Units (config ``analysis.unit``):

- ``cycle``: one foot strike to the next of the same foot (treadmill, long walkways).
- ``stance``: one plate contact, strike to toe off of the loaded foot (overground
  running with one or two plates). Running has a flight phase, so the stance of a foot
  on a plate is dynamically complete when the other foot carries no load; a contact
  whose edge the plate did not see, or during which the other foot is loaded, is refused.

``start_s``/``end_s`` in the trials sheet are an optional region in which units are
looked for: a unit is taken when it lies in the region within one marker frame at each
edge (the markers' frames are the finest time grid IK and SO know). ``analysis.cycles``
is ``all`` or a number per side (the first N complete units of each side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CYCLE, STANCE = "cycle", "stance"
UNITS = (CYCLE, STANCE)

USED = "used"
OUTSIDE_REGION = "outside_region"
NOT_CHOSEN = "not_chosen"
MISSING_CONTACT = "missing_contact"
IMPLAUSIBLE_DURATION = "implausible_duration"
IRREGULAR_CONTACTS = "irregular_contacts"
OFF_MEDIAN_DURATION = "off_median_duration"
NEAR_EDGE = "near_edge"
OFF_PLATE = "off_plate"
OTHER_FOOT_LOADED = "other_foot_loaded"
STATUSES = [
    USED,
    OUTSIDE_REGION,
    NOT_CHOSEN,
    MISSING_CONTACT,
    IMPLAUSIBLE_DURATION,
    IRREGULAR_CONTACTS,
    OFF_MEDIAN_DURATION,
    NEAR_EDGE,
    OFF_PLATE,
    OTHER_FOOT_LOADED,
]
# default analysis.cycle_duration_tolerance: a missed strike doubles a cycle and a
# strike on the wrong side halves one, far outside +-25 % of the trial's median, while
# steady running varies by a few % stride to stride
DURATION_TOLERANCE = 0.25
# default analysis.edge_margin_frames: where a unit starts within a few frames of the
# recording, IK and ID end there and their splines' end conditions reach into it. On
# Hamner's running (60 Hz) the SO-ID mismatch at IK frames 5-8 was 4.8, 2.5, 1.5 and
# 0.7 %, and at most 0.49 % from frame 9 on (docs/validation.md, SO against ID); SO starts one frame
# before the unit, so 10 frames keep every SO frame from the 9th on
EDGE_FRAMES = 10

UNIT_COLUMNS = [
    "side",
    "cycle",
    "unit",
    "strike_s",
    "toe_off_s",
    "next_strike_s",
    "start_s",
    "end_s",
    "duration_s",
    "stance_pct",
    "status",
    "reason",
]


@dataclass
class Plan:
    units: pd.DataFrame  # every candidate with its status and reason (cycles.csv)
    span: dict = field(default_factory=dict)  # where SO, and with margins IK/ID, run (analysis_span.json)
    warning: str = ""  # one line when no unit is used: the nearest candidate and what to change


def parse_count(value) -> int | None:
    """``analysis.cycles``: None for all, else the number per side (>= 1)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    count = int(value)
    if count < 1 or count != float(value):
        raise ValueError(f"analysis.cycles must be 'all' or a whole number >= 1, got {value!r}")
    return count


def plan(
    contacts: pd.DataFrame,
    *,
    unit: str,
    count,
    record_start_s: float,
    record_end_s: float,
    frame_s: float,
    min_cycle_s: float,
    max_cycle_s: float,
    margin_s: float,
    region_start_s: float | None = None,
    region_end_s: float | None = None,
    duration_tolerance: float = DURATION_TOLERANCE,
    edge_frames: int = EDGE_FRAMES,
    subject: str = "",
    trial: str = "",
) -> Plan:
    """Candidates from ``detect_side_contacts`` output; the chosen ones and their span.

    ``record_*`` is the time both markers and GRF cover; ``frame_s`` the marker frame
    period (the region's tolerance, and the frame kept beyond each unit so curves can be
    interpolated at its edges); ``margin_s`` the IK/ID margin each side of the SO span.

    A cycle is used only with exactly one strike of the other foot between its two
    strikes (else ``irregular_contacts``: a contact missed, or one on the wrong side)
    and a duration within ``duration_tolerance`` (a share) of the median of the trial's
    complete cycles (else ``off_median_duration``); where the other foot has no contact
    in the record at all (on no plate) the strike count cannot be checked and only the
    duration is. A unit without ``edge_frames`` marker frames of recording before and
    after it is ``near_edge``: IK and ID end at the recording's edge there and the
    splines' end conditions reach into the unit (``EDGE_FRAMES``).
    """
    if unit not in UNITS:
        raise ValueError(f"analysis.unit must be one of {UNITS}, got {unit!r}")
    if not 0 < min_cycle_s < max_cycle_s:
        raise ValueError(f"need 0 < min_cycle_s < max_cycle_s, got {min_cycle_s} and {max_cycle_s}")
    if frame_s <= 0:
        raise ValueError(f"frame_s must be > 0, got {frame_s}")
    limit = parse_count(count)
    region = (
        record_start_s if region_start_s is None else float(region_start_s),
        record_end_s if region_end_s is None else float(region_end_s),
    )
    rows = []
    for side, own in contacts.groupby("side", sort=False):
        own = own.sort_values("contact").reset_index(drop=True)
        others = contacts[contacts["side"] != side]
        for i, contact in own.iterrows():
            strike, toe_off = float(contact["strike_s"]), float(contact["toe_off_s"])
            following = float(own["strike_s"].iloc[i + 1]) if i + 1 < len(own) else np.nan
            if unit == CYCLE:
                row = {
                    "strike_s": strike,
                    "toe_off_s": toe_off,
                    "next_strike_s": following,
                    "start_s": strike,
                    "end_s": following,
                    "duration_s": following - strike,
                    "stance_pct": 100.0 * (toe_off - strike) / (following - strike),
                }
                status, reason = _classify_cycle(strike, toe_off, following, min_cycle_s, max_cycle_s)
                if status == USED and others["strike_s"].notna().any():
                    status, reason = _contralateral_strikes(strike, following, others)
            else:
                row = {
                    "strike_s": strike,
                    "toe_off_s": toe_off,
                    "next_strike_s": following,
                    "start_s": strike,
                    "end_s": toe_off,
                    "duration_s": toe_off - strike,
                    "stance_pct": 100.0,
                }
                status, reason = _classify_stance(strike, toe_off, others, max_cycle_s)
            rows.append({"side": side, "cycle": -1, "unit": unit} | row | {"status": status, "reason": reason})
    units = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    if unit == CYCLE:
        _check_median_duration(units, duration_tolerance)
    for index, row in units[units["status"] == USED].iterrows():
        status, reason = _in_region(row["start_s"], row["end_s"], region, frame_s)
        if status == USED:
            status, reason = _near_edge(
                row["start_s"], row["end_s"], (record_start_s, record_end_s), edge_frames, frame_s
            )
        units.loc[index, ["status", "reason"]] = [status, reason]
    for side in units["side"].unique():
        taken = units.index[(units["side"] == side) & (units["status"] == USED)]
        for n, index in enumerate(taken):
            if limit is not None and n >= limit:
                units.loc[index, ["status", "reason"]] = [
                    NOT_CHOSEN,
                    f"analysis.cycles is {limit}: the first {limit} complete {unit}(s) of each side are analysed",
                ]
            else:
                units.loc[index, "cycle"] = n
    used = units[units["status"] == USED]
    if len(used):
        start, end = float(used["start_s"].min()), float(used["end_s"].max())
        warning = ""
    else:
        # nothing to analyse: the region (or the whole record) still runs, so the QC
        # of the trial exists and says why it holds no unit
        start, end = region
        warning = empty_warning(
            units,
            unit=unit,
            region=region,
            record=(record_start_s, record_end_s),
            region_given=(region_start_s is not None, region_end_s is not None),
            subject=subject,
            trial=trial,
        )
    # one frame beyond each edge, so every unit's curves interpolate at its own edges
    so_start = max(record_start_s, start - frame_s)
    so_end = min(record_end_s, end + frame_s)
    span = {
        "unit": unit,
        "n_used": int(len(used)),
        "so_start_s": so_start,
        "so_end_s": so_end,
        "ik_start_s": max(record_start_s, so_start - margin_s),
        "ik_end_s": min(record_end_s, so_end + margin_s),
        "region_start_s": region[0],
        "region_end_s": region[1],
        "record_start_s": record_start_s,
        "record_end_s": record_end_s,
        "frame_s": frame_s,
        "warning": warning,
    }
    return Plan(units=units, span=span, warning=warning)


def _classify_cycle(strike, toe_off, following, min_cycle_s, max_cycle_s) -> tuple[str, str]:
    if not np.isfinite(strike):
        return MISSING_CONTACT, "the contact was under way when the record started: no foot strike"
    if not np.isfinite(following):
        return (
            MISSING_CONTACT,
            "no next foot strike of this foot in the record (the record ends or the foot left the plates)",
        )
    if not np.isfinite(toe_off) or toe_off >= following:
        return MISSING_CONTACT, "no toe off between the two foot strikes"
    duration = following - strike
    if duration > max_cycle_s:
        return IMPLAUSIBLE_DURATION, f"{duration:.3f} s is longer than max_cycle_s {max_cycle_s} s (a contact missed?)"
    if duration < min_cycle_s:
        return IMPLAUSIBLE_DURATION, f"{duration:.3f} s is shorter than min_cycle_s {min_cycle_s} s"
    return USED, ""


def _contralateral_strikes(strike, following, others: pd.DataFrame) -> tuple[str, str]:
    """Exactly one strike of the other foot between two strikes of this one: running and
    walking alternate feet, so none or two mean a contact missed or given the wrong side."""
    strikes = others["strike_s"].to_numpy(dtype=float)
    between = strikes[(strikes > strike) & (strikes < following)]
    if between.size == 1:
        return USED, ""
    return IRREGULAR_CONTACTS, (
        f"{between.size} strikes of the other foot between {strike:.3f} and {following:.3f} s, exactly one "
        "expected: a contact missed or on the wrong side (a foot off the plates or belt?)"
    )


def _check_median_duration(units: pd.DataFrame, tolerance: float) -> None:
    """Mark the complete cycles whose duration lies outside +-``tolerance`` of the
    median of the trial's complete cycles (both sides), in place."""
    if not tolerance > 0:
        raise ValueError(f"analysis.cycle_duration_tolerance must be > 0, got {tolerance}")
    complete = units["status"] == USED
    if not complete.any():
        return
    median = float(units.loc[complete, "duration_s"].median())
    off = complete & ((units["duration_s"] - median).abs() > tolerance * median)
    for index in units.index[off]:
        duration = float(units.loc[index, "duration_s"])
        units.loc[index, ["status", "reason"]] = [
            OFF_MEDIAN_DURATION,
            f"{duration:.3f} s is {100 * (duration / median - 1):+.0f} % off the trial's median cycle "
            f"{median:.3f} s (analysis.cycle_duration_tolerance {100 * tolerance:g} %): a double or half stride?",
        ]


def _near_edge(start, end, record, edge_frames, frame_s) -> tuple[str, str]:
    before, after = start - record[0], record[1] - end
    if min(before, after) >= edge_frames * frame_s - 1e-6 * frame_s:
        return USED, ""
    return NEAR_EDGE, (
        f"{start:.3f}-{end:.3f} s has {before / frame_s:.0f} frame(s) of recording before it and "
        f"{after / frame_s:.0f} after, fewer than analysis.edge_margin_frames {edge_frames} on a side: IK and ID "
        "end at the recording's edge there, and their splines' end effects reach into the unit"
    )


def _classify_stance(strike, toe_off, others: pd.DataFrame, max_cycle_s) -> tuple[str, str]:
    if not np.isfinite(strike):
        return OFF_PLATE, "the foot was already loaded when the record started: its strike was not on the plate record"
    if not np.isfinite(toe_off):
        return OFF_PLATE, "the foot was still loaded when the record ended: its toe off was not on the plate record"
    if toe_off - strike > max_cycle_s:
        return IMPLAUSIBLE_DURATION, f"a stance of {toe_off - strike:.3f} s is longer than max_cycle_s {max_cycle_s} s"
    # the other foot loaded at any instant of this stance (its contact overlaps it, or
    # has an unseen edge reaching into it): the stance is not dynamically alone
    other_strike = others["strike_s"].fillna(-np.inf).to_numpy(dtype=float)
    other_toe_off = others["toe_off_s"].fillna(np.inf).to_numpy(dtype=float)
    overlap = (other_strike < toe_off) & (other_toe_off > strike)
    if overlap.any():
        k = int(np.flatnonzero(overlap)[0])
        return OTHER_FOOT_LOADED, (
            f"the {others['side'].iloc[k]} foot is loaded during this stance "
            f"({other_strike[k]:.3f}-{other_toe_off[k]:.3f} s): not a single-support stance"
        )
    return USED, ""


def _in_region(start, end, region, frame_s) -> tuple[str, str]:
    low, high = region[0] - frame_s, region[1] + frame_s
    if start >= low - 1e-9 and end <= high + 1e-9:
        return USED, ""
    fixes = []
    if start < low - 1e-9:
        fixes.append(f"move start_s to at most {np.floor(start * 100) / 100:.2f} s")
    if end > high + 1e-9:
        fixes.append(f"extend end_s to at least {np.ceil(end * 100) / 100:.2f} s")
    return OUTSIDE_REGION, (
        f"{start:.3f}-{end:.3f} s is not inside the region {region[0]:.3f}-{region[1]:.3f} s "
        f"(tolerance one marker frame, {frame_s * 1000:.1f} ms): " + " and ".join(fixes)
    )


def empty_warning(units: pd.DataFrame, *, unit: str, region, record, region_given, subject: str, trial: str) -> str:
    """One line: why the trial has no unit, the nearest candidate and what to change."""
    where = (
        f"the region start_s-end_s {region[0]:.3f}-{region[1]:.3f} s"
        if any(region_given)
        else f"the whole record {record[0]:.3f}-{record[1]:.3f} s"
    )
    head = f"subject {subject}, trial {trial}: no usable {unit} in {where}"
    if units.empty:
        return (
            head + "; no foot contact was detected: check analysis.contact_threshold_n and that the external "
            "loads apply the plates' forces to the feet"
        )
    outside = units[units["status"] == OUTSIDE_REGION]
    if len(outside):
        # the candidate the region misses by least
        miss = np.maximum(region[0] - outside["start_s"], 0) + np.maximum(outside["end_s"] - region[1], 0)
        nearest = outside.loc[miss.idxmin()]
        return (
            f"{head}; nearest {unit}: side {nearest['side']} {nearest['start_s']:.3f}-{nearest['end_s']:.3f} s, "
            f"{nearest['reason']} (in the trials sheet)"
        )
    first = units.iloc[0]
    change = (
        "use analysis.unit: stance for overground plates"
        if unit == CYCLE and set(units["status"]) <= {MISSING_CONTACT, IMPLAUSIBLE_DURATION, IRREGULAR_CONTACTS}
        else "check the recording, analysis.contact_threshold_n, min_cycle_s and max_cycle_s"
    )
    return (
        f"{head}; candidates: "
        + ", ".join(f"{s} x{n}" for s, n in units["status"].value_counts().items())
        + f"; e.g. side {first['side']} {first['strike_s']:.3f} s: {first['reason']}; {change}"
    )


def read_span(path) -> dict:
    """analysis_span.json, as stage plan_cycles wrote it."""
    import json

    with open(path) as handle:
        return json.load(handle)
