"""From one trial's tables to its gait cycles, normalised curves and cycle metrics; from
every trial's to the study tables (cycles, subjects, comparison, SPM, cycle counts).

Per-cycle curves keep every muscle, IK coordinate and ID column under its own name,
plus side-free columns for the cycle's own side: ``<group>_activation``,
``knee_extension_moment_nm_per_kg`` and ``knee_angle_deg``, which the study tables and
figures read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cycle_plan as plan
from . import cycles as cyc
from . import groups as grp
from . import metrics, speed, stats
from .errors import AnalysisError

KNEE_MOMENT = "knee_extension_moment_nm_per_kg"
KNEE_ANGLE = "knee_angle_deg"
PAIR_GROUP = "quadriceps_hamstrings"
# Muscle chains (config `chains`, issue 22): each chain is a group of its own, and the
# pair of them reports the front share and how much of stance the rear chain leads.
FRONT_CHAIN, REAR_CHAIN, CHAIN_PAIR = "front_chain", "rear_chain", "chains"
CHAIN_METRICS = ["front_share_cycle", "front_share_stance", "rear_takes_over_stance_pct"]


@dataclass(frozen=True)
class Pair:
    """Two groups compared within a cycle: ``group`` names the rows, ``first`` over
    ``second`` gives the share (``<share_name>_share_*``), ``keep`` the metrics reported
    (None: all of metrics.pair_metrics)."""

    group: str
    first: str
    second: str
    share_name: str
    keep: tuple[str, ...] | None = None


PAIRS = (
    Pair(PAIR_GROUP, "quadriceps", "hamstrings", "quadriceps"),
    # no ratio or CCI for the chains: the share says the same without the ratio's undefined cases
    Pair(CHAIN_PAIR, FRONT_CHAIN, REAR_CHAIN, "front", keep=("front_share_cycle", "front_share_stance")),
)
KNEE_GROUP = "knee"
CYCLE_GROUP = "cycle"
# The activation source of a row (docs/development/tables.md): the model chain, or measured EMG.
SOURCE_SO, SOURCE_EMG = "so", "emg"
SOURCES = (SOURCE_SO, SOURCE_EMG)
METRIC_COLUMNS = ["source", "side", "cycle", "group", "metric", "value", "note"]
# the variables of the study curves and SPM (with one activation per muscle group)
CURVE_VARIABLES = [KNEE_MOMENT, KNEE_ANGLE]
# pelvis translations whose displacement over a cycle gives the running speed
SPEED_COORDINATES = ["pelvis_tx", "pelvis_tz"]


def activation_column(group: str) -> str:
    return f"{group}_activation"


def activation_metric_values(
    pct, group_curves: dict, *, stance_pct: float, duration_s: float, stance_units: bool
) -> dict[tuple[str, str], tuple[float, str]]:
    """(group, metric) -> (value, note) of one cycle's group activation curves: each
    group's activation metrics, and the metrics of each pair of ``PAIRS`` (quadriceps vs
    hamstrings, front vs rear chain) whose two groups are there. The one place these are
    computed, for every activation source (SO's group activations, EMG's group envelopes)."""
    values = {}
    for group, curve in group_curves.items():
        if stance_units:
            found = metrics.stance_activation_metrics(pct, curve, stance_s=duration_s)
        else:
            found = metrics.activation_metrics(pct, curve, stance_pct=stance_pct, cycle_s=duration_s)
        values |= {(group, name): (value, "") for name, value in found.items()}
    for pair in PAIRS:
        if pair.first in group_curves and pair.second in group_curves:
            values |= _pair_values(pct, group_curves, pair, stance_pct=stance_pct, stance_units=stance_units)
    return values


def _pair_values(pct, group_curves, pair: Pair, *, stance_pct, stance_units) -> dict:
    notes = {}
    first, second = group_curves[pair.first], group_curves[pair.second]
    found = metrics.pair_metrics(
        pct, first, second, stance_pct=stance_pct, notes=notes, names=(pair.share_name, pair.second)
    )
    if pair.keep is not None:
        found = {name: value for name, value in found.items() if name in pair.keep}
    if pair.group == CHAIN_PAIR:
        end = float(np.asarray(pct)[-1]) if stance_units else stance_pct
        found["rear_takes_over_stance_pct"] = metrics.exceeds_pct(
            pct, second, first, start_pct=float(np.asarray(pct)[0]), end_pct=end
        )
    if stance_units:  # over a stance the cycle measures are the stance ones: not reported twice
        found = {
            name: value for name, value in found.items() if name.endswith("_stance") or name.endswith("_stance_pct")
        }
    return {(pair.group, name): (value, notes.get(name, "")) for name, value in found.items()}


@dataclass
class TrialAnalysis:
    cycles: pd.DataFrame  # every candidate cycle with its status
    metrics: pd.DataFrame  # long: side, cycle, group, metric, value (used cycles)
    curves: pd.DataFrame  # side, cycle, pct, then the normalised columns
    # side, cycle, pct (% stance: strike to toe off), group activations, knee moment and
    # angle; empty for stance units, whose curves are already over stance
    stance_curves: pd.DataFrame | None = None


def analyse_trial(
    *,
    cycles: pd.DataFrame,
    activations: pd.DataFrame,
    ik: pd.DataFrame,
    id_forces: pd.DataFrame,
    groups: dict[str, list[str]],
    sides: dict[str, str],
    settings: dict,
    mass_kg: float,
    weights: dict[str, float] | None = None,
    floors: dict[str, float] | None = None,
    knee_signs: dict[str, float] | None = None,
    subject: str = "",
    trial: str = "",
    sources: dict[str, str] | None = None,
    speed_m_s: float | None = None,
) -> TrialAnalysis:
    """Curves and metrics of one trial's chosen units. ``settings`` is the config's ``analysis``.

    ``cycles`` is stage plan_cycles's table (``cycle_plan.plan``): every candidate cycle
    (or stance, ``settings['unit']``) with its status; the used ones are analysed, each
    normalised 0-100 % of itself. A stance unit has only the stance metrics (its
    ``stance_pct`` is 100). ``floors`` (muscle column -> the model's
    ``min_control``) is subtracted from each activation before the group curves and every
    metric: static optimization never goes below it, so without this a silent group
    reads 0.01 and inflates ratios and co-contraction. ``knee_signs`` (side -> +1/-1,
    read from the model) turns the knee coordinate's moment into an extension moment;
    ``settings['knee_extension_sign']``, when set, overrides it. Each cycle's
    ``cycle.speed_m_s`` is the pelvis's horizontal speed over it (retrorun.speed), or
    ``speed_m_s`` (the trials sheet's treadmill speed) when given."""
    sources = sources or {}
    if mass_kg <= 0:
        raise AnalysisError(
            f"body mass {mass_kg} kg is not positive",
            fix="set mass_kg in the subjects sheet",
            subject=subject,
            trial=trial,
        )
    stance_units = settings.get("unit", plan.CYCLE) == plan.STANCE
    above_floor = grp.above_floor(activations, floors or {})
    group_table = grp.group_activations(
        above_floor,
        groups=groups,
        sides=sides,
        weights=weights,
        source=sources.get("activations", "so_activations.csv"),
        subject=subject,
        trial=trial,
    )
    knee_columns = {}
    for side, suffix in sides.items():
        moment = f"{settings['knee_coordinate']}{suffix}_moment_nm"
        angle = f"{settings['knee_coordinate']}{suffix}_deg"
        for column, table, name in ((moment, id_forces, "id_forces"), (angle, ik, "ik")):
            if column not in table:
                raise AnalysisError(
                    f"{sources.get(name, name)} has no column {column}",
                    fix="set analysis.knee_coordinate to the model's knee coordinate without its side "
                    "suffix (e.g. knee_angle)",
                    subject=subject,
                    trial=trial,
                )
        knee_columns[side] = (moment, angle)
    override = settings.get("knee_extension_sign")
    signs = {
        side: float(override) if override is not None else float((knee_signs or {}).get(side, np.nan)) for side in sides
    }
    unknown = [side for side, sign in signs.items() if not np.isfinite(sign)]
    if unknown:
        raise AnalysisError(
            f"the knee extension direction of side(s) {', '.join(unknown)} is not known",
            fix="give the scaled model (its quadriceps' moment arms set it) or set analysis.knee_extension_sign",
            subject=subject,
            trial=trial,
        )
    curve_parts, stance_parts, metric_rows = [], [], []
    for _, row in cycles[cycles["status"] == plan.USED].iterrows():
        side, cycle = row["side"], int(row["cycle"])
        span = {"start_s": row["start_s"], "end_s": row["end_s"]}
        muscles = cyc.normalise_table(activations, **span)
        group_curves = cyc.normalise_table(group_table, **span)
        joint_angles = cyc.normalise_table(ik, **span)
        joint_moments = cyc.normalise_table(id_forces, **span)
        moment_column, angle_column = knee_columns[side]
        curve = pd.DataFrame({"side": side, "cycle": cycle, "pct": muscles["pct"]})
        for group in groups:
            curve[activation_column(group)] = group_curves[grp.group_column(group, side)]
        curve[KNEE_MOMENT] = signs[side] * joint_moments[moment_column] / mass_kg
        curve[KNEE_ANGLE] = joint_angles[angle_column]
        curve = pd.concat(
            [curve, muscles.drop(columns="pct"), joint_angles.drop(columns="pct"), joint_moments.drop(columns="pct")],
            axis=1,
        )
        curve = curve.loc[:, ~curve.columns.duplicated()]
        curve_parts.append(curve)
        pct, stance = curve["pct"].to_numpy(), float(row["stance_pct"])
        if not stance_units:
            stance_parts.append(
                _stance_curve(
                    group_table,
                    ik,
                    id_forces,
                    row,
                    groups=groups,
                    knee_columns=knee_columns,
                    scale=signs[side] / mass_kg,
                )
            )
        if speed_m_s is not None and np.isfinite(speed_m_s):
            cycle_speed, speed_note = float(speed_m_s), ""
        else:
            cycle_speed = speed.cycle_speed_m_s(
                ik,
                start_s=row["start_s"],
                end_s=row["end_s"],
                coordinates=settings.get("speed_coordinates", SPEED_COORDINATES),
            )
            speed_note = speed.overground_note(cycle_speed)
            if speed_note:
                cycle_speed = float("nan")
        values = {
            (CYCLE_GROUP, "duration_s"): (row["duration_s"], ""),
            (CYCLE_GROUP, "stance_pct"): (stance, ""),
            (CYCLE_GROUP, speed.SPEED): (cycle_speed, speed_note),
        }
        values |= activation_metric_values(
            pct,
            {group: curve[activation_column(group)] for group in groups},
            stance_pct=stance,
            duration_s=row["duration_s"],
            stance_units=stance_units,
        )
        notes = {}
        knee = metrics.knee_extension_peak(pct, curve[KNEE_MOMENT], stance_pct=stance, notes=notes)
        values |= {(KNEE_GROUP, name): (value, notes.get(name, "")) for name, value in knee.items()}
        metric_rows += [
            {
                "source": SOURCE_SO,
                "side": side,
                "cycle": cycle,
                "group": g,
                "metric": m,
                "value": float(v),
                "note": note,
            }
            for (g, m), (v, note) in values.items()
        ]
    curves = (
        pd.concat(curve_parts, ignore_index=True) if curve_parts else pd.DataFrame(columns=["side", "cycle", "pct"])
    )
    stance_curves = (
        pd.concat(stance_parts, ignore_index=True) if stance_parts else pd.DataFrame(columns=["side", "cycle", "pct"])
    )
    return TrialAnalysis(
        cycles=cycles,
        metrics=pd.DataFrame(metric_rows, columns=METRIC_COLUMNS),
        curves=curves,
        stance_curves=stance_curves,
    )


def _stance_curve(group_table, ik, id_forces, row, *, groups, knee_columns, scale) -> pd.DataFrame:
    """One cycle's group activations, knee extension moment (the knee coordinate's moment
    times ``scale``: extension sign / body mass) and angle,
    normalised 0-100 % of its stance (strike to toe off): backward running's shorter
    contact moves toe off, so a cycle-normalised difference may only reflect that."""
    side, span = row["side"], {"start_s": row["start_s"], "end_s": row["toe_off_s"]}
    group_curves = cyc.normalise_table(group_table, **span)
    moment_column, angle_column = knee_columns[side]
    curve = pd.DataFrame({"side": side, "cycle": int(row["cycle"]), "pct": group_curves["pct"]})
    for group in groups:
        curve[activation_column(group)] = group_curves[grp.group_column(group, side)]
    curve[KNEE_MOMENT] = scale * cyc.normalise_table(id_forces[["time_s", moment_column]], **span)[moment_column]
    curve[KNEE_ANGLE] = cyc.normalise_table(ik[["time_s", angle_column]], **span)[angle_column]
    return curve


# ------------------------------------------------------------------------ study level


KEYS = ["subject", "condition", "trial"]


def per_source(function, table: pd.DataFrame, *args, shared_groups=(), **kwargs) -> pd.DataFrame:
    """``function`` applied to each activation source's rows of ``table`` on their own,
    its results stacked with ``source`` as the first column: so every statistic (means,
    Holm families, SPM) runs within one source, and an EMG row never changes an SO one.
    Rows of ``shared_groups`` (e.g. the cycle's duration, which the Q:H ratio's sums
    need) exist for SO only: every other source is given them too, and they are left
    out of its result."""
    parts = []
    shared = table[(table["source"] == SOURCE_SO) & table["group"].isin(shared_groups)] if shared_groups else None
    for source in SOURCES:
        own = table[table["source"] == source]
        if source != SOURCE_SO and not len(own):
            continue
        if source != SOURCE_SO and shared is not None:
            own = pd.concat([own, shared], ignore_index=True)
        result = function(own.drop(columns="source"), *args, **kwargs)
        if source != SOURCE_SO and shared_groups:
            result = result[~result["group"].isin(shared_groups)]
        parts.append(result.assign(source=source)[["source", *result.columns]])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def cycle_counts(
    trial_cycles: list[tuple[dict, pd.DataFrame]],
    failed: list[dict],
    *,
    sides,
    excluded: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """One row per trial and side: candidate cycles by status; failed trials listed; a
    trial the QC gate left out has status ``excluded_qc`` and its reason."""
    excluded = excluded or {}
    rows = []
    for info, table in trial_cycles:
        for side in sides:
            own = table[table["side"] == side]
            reason = excluded.get((info["subject"], info["trial"]))
            row = {key: info[key] for key in KEYS} | {
                "side": side,
                "status": "excluded_qc" if reason else "done",
                "reason": reason or "",
            }
            row |= {f"n_{status}": int((own["status"] == status).sum()) for status in plan.STATUSES}
            rows.append(row)
    for info in failed:
        rows.append(
            {key: info.get(key, "") for key in KEYS}
            | {"side": "", "status": f"failed:{info.get('stage', '')}", "reason": f"failed at {info.get('stage', '')}"}
            | {f"n_{status}": 0 for status in plan.STATUSES}
        )
    columns = [*KEYS, "side", "status", *[f"n_{s}" for s in plan.STATUSES], "reason"]
    return pd.DataFrame(rows, columns=columns).sort_values(KEYS + ["side"], kind="stable").reset_index(drop=True)


def empty_comparison(
    trial_cycles: list[tuple[dict, pd.DataFrame]], warnings: dict[tuple[str, str], str], *, compare: list[str]
) -> str:
    """Why the comparison is empty, or "" when every compared condition that has trials has
    a used cycle (or stance) in at least one of them.

    Names every trial of such a condition, with stage plan_cycles's warning: the nearest
    candidate and what to change. (A condition with no trial at all is the trials sheet's
    business, checked before any job; trials the QC gate leaves out are listed on the
    report's front page.)"""
    used: dict[str, int] = {}
    for info, table in trial_cycles:
        if info["condition"] in compare:
            used[info["condition"]] = used.get(info["condition"], 0) + int((table["status"] == plan.USED).sum())
    empty = [condition for condition in dict.fromkeys(compare) if used.get(condition) == 0]
    if not empty:
        return ""
    lines = [
        f"no usable cycle in any trial of condition(s) {', '.join(empty)}: the comparison "
        f"{compare[0]} vs {compare[1]} would be empty"
    ]
    for info, _ in trial_cycles:
        if info["condition"] in empty:
            key = (info["subject"], info["trial"])
            lines.append("  " + (warnings.get(key) or f"{key[0]}/{key[1]}: no used cycle (its cycles.csv says why)"))
    return "\n".join(lines)


def long_cycles(
    trial_metrics: list[tuple[dict, pd.DataFrame]], *, excluded: dict[tuple[str, str], str] | None = None
) -> pd.DataFrame:
    """Every trial's cycle metrics, long; ``qc_excluded`` is true for the cycles of the
    trials the QC gate leaves out of the statistics (``excluded``: (subject, trial) -> reason)."""
    excluded = excluded or {}
    parts = [
        table.assign(**{key: info[key] for key in KEYS}, qc_excluded=(info["subject"], info["trial"]) in excluded)
        for info, table in trial_metrics
        if len(table)
    ]
    columns = ["source", *KEYS, "side", "cycle", "group", "metric", "value", "note", "category", "qc_excluded"]
    parts = [part if "note" in part else part.assign(note="") for part in parts]
    # a contact's strike category (retrorun.gait_geometry) on its strike rows, else empty
    parts = [part.assign(category=part["category"].fillna("") if "category" in part else "") for part in parts]
    parts = [part if "source" in part else part.assign(source=SOURCE_SO) for part in parts]
    if not parts:  # typed, so that long[~long["qc_excluded"]] selects rows, not columns
        return pd.DataFrame(columns=columns).astype({"qc_excluded": bool})
    return pd.concat(parts, ignore_index=True)[columns]


# the keys of one subject's value (tables/subjects.csv) and of one outcome
# (tables/comparison.csv), in one place so a further key (docs/development/tables.md:
# source) is added here
SUBJECT_KEYS = ["subject", "condition"]
OUTCOME_KEYS = ["group", "metric"]

# pair metrics whose subject value comes from the groups' activations summed (time-
# integrated) over all its cycles: (pair group, metric) -> (first group, second group,
# integral, the span it is over, formula)
PAIR_SUMS = {
    (PAIR_GROUP, "ratio_mean_stance"): ("quadriceps", "hamstrings", "integrated_stance_s", "stance_s", "ratio"),
    (PAIR_GROUP, "ratio_mean_cycle"): ("quadriceps", "hamstrings", "integrated_s", "duration_s", "ratio"),
    (PAIR_GROUP, "quadriceps_share_stance"): ("quadriceps", "hamstrings", "integrated_stance_s", "stance_s", "share"),
    (PAIR_GROUP, "quadriceps_share_cycle"): ("quadriceps", "hamstrings", "integrated_s", "duration_s", "share"),
    (CHAIN_PAIR, "front_share_stance"): (FRONT_CHAIN, REAR_CHAIN, "integrated_stance_s", "stance_s", "share"),
    (CHAIN_PAIR, "front_share_cycle"): (FRONT_CHAIN, REAR_CHAIN, "integrated_s", "duration_s", "share"),
}


def subject_means(cycles_long: pd.DataFrame) -> pd.DataFrame:
    """Per subject, condition, group and metric: mean and SD over all used cycles (both
    sides, every trial), the number of cycles with a value, and ``note`` when the mean
    is empty (why).

    The pair metrics of ``PAIR_SUMS`` are the exception: a subject's Q:H ratio is its
    quadriceps activation summed (time-integrated) over all its used cycles divided by
    its hamstrings' (NaN when the hamstrings stay at their floor over all of it), and
    its quadriceps share Q / (Q + H) of the same sums (NaN only when both groups stay at
    their floor); not the mean of per-cycle values, which a cycle with nearly silent
    hamstrings would dominate. ``sd`` is still that of the per-cycle values (for the
    ratios, on the linear scale)."""
    keys = [*SUBJECT_KEYS, *OUTCOME_KEYS]
    columns = [*keys, "mean", "sd", "n_cycles", "note"]
    if cycles_long.empty:
        return pd.DataFrame(columns=columns)
    out = cycles_long.groupby(keys, sort=True)["value"].agg(mean="mean", sd="std", n_cycles="count").reset_index()
    out["note"] = ""
    index = [*SUBJECT_KEYS, "trial", "side", "cycle"]
    wide = cycles_long.pivot_table(index=index, columns=OUTCOME_KEYS, values="value", aggfunc="first")
    if (CYCLE_GROUP, "duration_s") in wide and (CYCLE_GROUP, "stance_pct") in wide:
        durations = {
            "duration_s": wide[(CYCLE_GROUP, "duration_s")],
            "stance_s": wide[(CYCLE_GROUP, "duration_s")] * wide[(CYCLE_GROUP, "stance_pct")] / 100.0,
        }
        for (pair_group, metric), (first, second, integral, span, formula) in PAIR_SUMS.items():
            needed = [(first, integral), (second, integral)]
            rows = (out["group"] == pair_group) & (out["metric"] == metric)
            if not all(key in wide for key in needed) or not rows.any():
                continue
            sums = pd.DataFrame({"q": wide[needed[0]], "h": wide[needed[1]], "span": durations[span]})
            counts = sums.dropna().groupby(level=SUBJECT_KEYS).size()
            sums = sums.groupby(level=SUBJECT_KEYS).sum(min_count=1)
            phase = span.removesuffix("_s").replace("duration", "cycle")
            if formula == "ratio":
                silent = sums["h"] < metrics.SILENT_ACTIVATION * sums["span"]
                value = (sums["q"] / sums["h"]).where(~silent)
                why = (
                    f"{second} at their activation floor over the {{phase}} of all {{n}} used cycle(s) "
                    "(mean {m:.2g} above it): Q:H undefined"
                )
                level = sums["h"] / sums["span"]
            else:
                silent = (sums["q"] + sums["h"]) < metrics.SILENT_ACTIVATION * sums["span"]
                value = (sums["q"] / (sums["q"] + sums["h"])).where(~silent)
                why = (
                    f"{first} and {second} both at their activation floor over the {{phase}} of all {{n}} used cycle(s)"
                )
                level = (sums["q"] + sums["h"]) / sums["span"]
            keys_ = list(zip(*(out.loc[rows, key] for key in SUBJECT_KEYS)))
            out.loc[rows, "mean"] = [value.get(key, np.nan) for key in keys_]
            out.loc[rows, "n_cycles"] = [int(counts.get(key, 0)) for key in keys_]
            out.loc[rows, "note"] = [
                why.format(phase=phase, n=int(counts.get(key, 0)), m=float(level.get(key, np.nan)))
                if bool(silent.get(key, False))
                else ""
                for key in keys_
            ]
    # any other empty mean: the per-cycle notes say why (e.g. no knee extension peak)
    cycle_notes = (
        cycles_long[cycles_long["note"].fillna("").astype(str) != ""].groupby(keys)["note"].first()
        if "note" in cycles_long
        else pd.Series(dtype=str)
    )
    empty = out["mean"].isna() & (out["note"] == "")
    out.loc[empty, "note"] = [
        cycle_notes.get(tuple(key), "no used cycle with a value")
        for key in out.loc[empty, keys].itertuples(index=False)
    ]
    return out[columns]


PRIMARY, SECONDARY = "primary", "secondary"


def left_out_subjects(
    table: pd.DataFrame, everyone, *, compare: list[str], min_cycles: int, log_scale: bool
) -> dict[str, str]:
    """Subject -> why it is not in one outcome's paired comparison: no used cycle in a
    condition, fewer than ``min_cycles``, an empty value (the subjects table's note), or
    (``log_scale``) a ratio of 0. ``table``: that outcome's rows of subject_means;
    ``everyone``: the subjects with any used cycle in a compared condition."""
    # one pass over the rows, not a filtered copy per subject: an outcome's table is read
    # once per subject, and a study has up to a hundred outcomes
    rows = {(row["subject"], row["condition"]): row for row in table.to_dict("records")}
    reasons = {}
    for subject in sorted(everyone):
        why = [
            reason
            for condition in compare
            if (reason := condition_left_out(condition, rows.get((subject, condition)), min_cycles, log_scale))
        ]
        if why:
            reasons[subject] = "; ".join(why)
    return reasons


def condition_left_out(condition: str, row, min_cycles: int, log_scale: bool) -> str | None:
    """Why a subject's mean in ``condition`` (``row``: its subject_means row, None where it
    has no used cycle there) cannot enter a paired comparison, or None where it can."""
    if row is None:
        return f"{condition}: no used cycle"
    if row["n_cycles"] < min_cycles:
        return f"{condition}: {int(row['n_cycles'])} cycle(s) with a value, analysis.min_cycles {min_cycles}"
    if not np.isfinite(row["mean"]):
        return f"{condition}: {row.get('note') or 'no value'}"
    if log_scale and row["mean"] <= 0:
        return f"{condition}: a ratio of 0 (quadriceps at their floor) has no log"
    return None


def comparison(
    subjects: pd.DataFrame,
    *,
    compare: list[str],
    min_cycles: int,
    min_subjects: int,
    alpha: float = 0.05,
    primary_outcomes: list[str] | None = None,
    test: str = "t",
    notes: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Per group and metric: the paired comparison of subject means, second condition minus
    first; ratios (``ratio_*``) on the log scale. ``family`` is primary for the
    ``group.metric`` names in ``primary_outcomes``, else secondary. ``test`` (t or
    wilcoxon) is the primary test: ``p`` is its p and ``p_holm`` its Holm-adjusted p
    within the family, THE p of the row; ``t_test_p`` and ``wilcoxon_p`` stay beside it
    unadjusted, for information. Every subject with a used cycle but left out of a row
    is named in its ``note`` with the reason; ``notes`` ((group, metric) -> text) adds
    to a row's note (e.g. the speed check)."""
    first, second = compare
    primary = set(primary_outcomes or [])
    notes = notes or {}
    everyone = set(subjects.loc[subjects["condition"].isin(compare), "subject"])
    rows = []
    for (group, metric), table in subjects.groupby(OUTCOME_KEYS, sort=True):
        log_scale = metric.startswith("ratio_")
        enough = table[table["n_cycles"] >= min_cycles]
        wide = enough.pivot(index="subject", columns="condition", values="mean")
        a = wide[first] if first in wide else pd.Series(dtype=float)
        b = wide[second] if second in wide else pd.Series(dtype=float)
        paired = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
        if log_scale:
            paired = paired[(paired["a"] > 0) & (paired["b"] > 0)]
        result = stats.paired_comparison(
            paired["a"],
            paired["b"],
            min_subjects=min_subjects,
            condition_a=first,
            condition_b=second,
            alpha=alpha,
            log_scale=log_scale,
            test=test,
        )
        left_out = left_out_subjects(table, everyone, compare=compare, min_cycles=min_cycles, log_scale=log_scale)
        extra = [notes[(group, metric)]] if notes.get((group, metric)) else []
        if left_out:
            extra.append(
                f"{len(left_out)} subject(s) left out: "
                + "; ".join(f"{subject} ({why})" for subject, why in left_out.items())
            )
        result["note"] = "; ".join(part for part in [result["note"], *extra] if part)
        rows.append(
            {
                "group": group,
                "metric": metric,
                "condition_a": first,
                "condition_b": second,
                "n_subjects_a": int(a.notna().sum()),
                "n_subjects_b": int(b.notna().sum()),
                "family": PRIMARY if f"{group}.{metric}" in primary else SECONDARY,
            }
            | result
        )
    columns = [
        "group",
        "metric",
        "condition_a",
        "condition_b",
        "n_subjects_a",
        "n_subjects_b",
        "family",
        *stats.COMPARISON_COLUMNS,
    ]
    columns.insert(columns.index("p") + 1, "p_holm")
    if not rows:
        note = stats.too_few_note(0, min_subjects=min_subjects, condition_a=first, condition_b=second)
        return pd.DataFrame(
            [
                {
                    "group": "",
                    "metric": "",
                    "condition_a": first,
                    "condition_b": second,
                    "n_subjects_a": 0,
                    "n_subjects_b": 0,
                    "n_subjects": 0,
                    "test": test,
                    "note": "no used gait cycle; " + note,
                }
            ],
            columns=columns,
        )
    table = pd.DataFrame(rows)
    table["p_holm"] = np.nan
    for family in (PRIMARY, SECONDARY):
        members = table["family"] == family
        table.loc[members, "p_holm"] = stats.holm(table.loc[members, "p"])
        if test == "wilcoxon":
            size = int(members.sum())
            for index in table.index[members]:
                why = stats.wilcoxon_family_note(
                    int(table.loc[index, "n_subjects"]), alpha=alpha, family_size=size, family=family
                )
                if why:
                    table.loc[index, "note"] = "; ".join(part for part in [table.loc[index, "note"], why] if part)
    # primary outcomes first, in the order the config names them
    order = {name: k for k, name in enumerate(primary_outcomes or [])}
    table["_order"] = [order.get(f"{g}.{m}", len(order)) for g, m in zip(table["group"], table["metric"])]
    return table.sort_values(["_order", "group", "metric"], kind="stable")[columns].reset_index(drop=True)


def qc_exclusions(qc: pd.DataFrame, *, gate: str) -> pd.DataFrame:
    """The trials the QC gate leaves out of the statistics: subject, trial, condition, reason.
    ``gate`` exclude: every trial that ran but failed a QC threshold; include: none."""
    columns = ["subject", "trial", "condition", "reason"]
    if gate == "include" or qc.empty:
        return pd.DataFrame(columns=columns)
    failed = qc[(qc["status"] != "failed") & ~qc["pass"].astype(str).str.lower().isin(["true", "1"])]
    return pd.DataFrame(
        {
            "subject": failed["subject"],
            "trial": failed["trial"],
            "condition": failed["condition"],
            "reason": "QC failed: " + failed["flags"].fillna("").astype(str),
        },
        columns=columns,
    )


def mean_curves(trial_curves: list[tuple[dict, pd.DataFrame]], *, variables: list[str]) -> pd.DataFrame:
    """Per subject, condition, variable and % cycle: the mean over that subject's cycles."""
    # a cycle's rows need no trial, side or cycle label here: only who, which condition, where
    parts = [
        table[["pct", *variables]].assign(subject=info["subject"], condition=info["condition"])
        for info, table in trial_curves
        if len(table)
    ]
    columns = ["subject", "condition", "variable", "pct", "value", "n_cycles"]
    if not parts or not variables:
        return pd.DataFrame(columns=columns)
    everything = pd.concat(parts, ignore_index=True)
    # each variable averaged in its own column, then made long: the same cycles in the
    # same order as a long table's groups (so the same sums), without the long table,
    # which at 1000 trials took analysis_tables past 1 GB
    per_pct = everything.groupby(["subject", "condition", "pct"], sort=True)[variables]
    means, counts = per_pct.mean(), per_pct.count()
    out = pd.concat(
        [
            pd.DataFrame({"variable": variable, "value": means[variable], "n_cycles": counts[variable]})
            for variable in variables
        ]
    ).reset_index()
    return out.sort_values(["subject", "condition", "variable", "pct"], kind="stable", ignore_index=True)[columns]


# what a curve's 0-100 % spans: the whole cycle, or its stance (strike to toe off)
NORMALISED_TO = ("cycle", "stance")
SPM_KEYS = ["variable", "normalised_to"]


def spm_table(
    curves: pd.DataFrame,
    *,
    variables: list[str],
    compare: list[str],
    alpha: float,
    min_subjects: int,
    min_cycles: int = 1,
    normalised_to: str = "cycle",
) -> pd.DataFrame:
    """SPM paired t-test of the subject-mean curves, per variable; subjects with fewer than
    ``min_cycles`` cycles in a condition are left out, as in ``comparison``.
    ``normalised_to`` (cycle or stance) says what the curves' 0-100 % spans."""
    first, second = compare
    rows = []
    for variable in variables:
        own = curves[(curves["variable"] == variable) & (curves["n_cycles"] >= min_cycles)]
        wide = {
            cond: own[own["condition"] == cond].pivot(index="subject", columns="pct", values="value")
            for cond in compare
        }
        subjects = sorted(set(wide[first].index) & set(wide[second].index))
        n_points = cyc.N_POINTS
        a = wide[first].loc[subjects].to_numpy() if subjects else np.empty((0, n_points))
        b = wide[second].loc[subjects].to_numpy() if subjects else np.empty((0, n_points))
        for row in stats.spm_paired(
            a, b, alpha=alpha, min_subjects=min_subjects, condition_a=first, condition_b=second, phase=normalised_to
        ):
            rows.append(
                {"variable": variable, "normalised_to": normalised_to}
                | {"condition_a": first, "condition_b": second, "alpha": alpha}
                | row
            )
    return pd.DataFrame(rows, columns=[*SPM_KEYS, "condition_a", "condition_b", "alpha", *stats.SPM_COLUMNS])
