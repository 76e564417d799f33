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
from . import metrics, stats
from .errors import AnalysisError

KNEE_MOMENT = "knee_extension_moment_nm_per_kg"
KNEE_ANGLE = "knee_angle_deg"
PAIR_GROUP = "quadriceps_hamstrings"
KNEE_GROUP = "knee"
CYCLE_GROUP = "cycle"
# The activation source of a row (docs/development/tables.md): the model chain, or measured EMG.
SOURCE_SO, SOURCE_EMG = "so", "emg"
SOURCES = (SOURCE_SO, SOURCE_EMG)
METRIC_COLUMNS = ["source", "side", "cycle", "group", "metric", "value", "note"]


def activation_column(group: str) -> str:
    return f"{group}_activation"


def activation_metric_values(
    pct, group_curves: dict, *, stance_pct: float, duration_s: float, stance_units: bool
) -> dict[tuple[str, str], tuple[float, str]]:
    """(group, metric) -> (value, note) of one cycle's group activation curves: each
    group's activation metrics, and the quadriceps-hamstrings pair metrics when both
    are there. The one place these are computed, for every activation source (SO's
    group activations, EMG's group envelopes)."""
    values = {}
    for group, curve in group_curves.items():
        if stance_units:
            found = metrics.stance_activation_metrics(pct, curve, stance_s=duration_s)
        else:
            found = metrics.activation_metrics(pct, curve, stance_pct=stance_pct, cycle_s=duration_s)
        values |= {(group, name): (value, "") for name, value in found.items()}
    if "quadriceps" not in group_curves or "hamstrings" not in group_curves:
        return values
    notes = {}
    pair = metrics.pair_metrics(
        pct, group_curves["quadriceps"], group_curves["hamstrings"], stance_pct=stance_pct, notes=notes
    )
    if stance_units:  # over a stance the cycle measures are the stance ones: not reported twice
        pair = {name: value for name, value in pair.items() if name.endswith("_stance") or name.endswith("_stance_pct")}
    return values | {(PAIR_GROUP, name): (value, notes.get(name, "")) for name, value in pair.items()}


@dataclass
class TrialAnalysis:
    cycles: pd.DataFrame  # every candidate cycle with its status
    metrics: pd.DataFrame  # long: side, cycle, group, metric, value (used cycles)
    curves: pd.DataFrame  # side, cycle, pct, then the normalised columns


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
) -> TrialAnalysis:
    """Curves and metrics of one trial's chosen units. ``settings`` is the config's ``analysis``.

    ``cycles`` is rule plan_cycles' table (``cycle_plan.plan``): every candidate cycle
    (or stance, ``settings['unit']``) with its status; the used ones are analysed, each
    normalised 0-100 % of itself. A stance unit has only the stance metrics (its
    ``stance_pct`` is 100). ``floors`` (muscle column -> the model's
    ``min_control``) is subtracted from each activation before the group curves and every
    metric: static optimization never goes below it, so without this a silent group
    reads 0.01 and inflates ratios and co-contraction. ``knee_signs`` (side -> +1/-1,
    read from the model) turns the knee coordinate's moment into an extension moment;
    ``settings['knee_extension_sign']``, when set, overrides it."""
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
    curve_parts, metric_rows = [], []
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
        values = {(CYCLE_GROUP, "duration_s"): (row["duration_s"], ""), (CYCLE_GROUP, "stance_pct"): (stance, "")}
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
    return TrialAnalysis(cycles=cycles, metrics=pd.DataFrame(metric_rows, columns=METRIC_COLUMNS), curves=curves)


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

    Names every trial of such a condition, with rule plan_cycles' warning: the nearest
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


def long_cycles(trial_metrics: list[tuple[dict, pd.DataFrame]]) -> pd.DataFrame:
    parts = [table.assign(**{key: info[key] for key in KEYS}) for info, table in trial_metrics if len(table)]
    columns = ["source", *KEYS, "side", "cycle", "group", "metric", "value", "note"]
    parts = [part if "note" in part else part.assign(note="") for part in parts]
    parts = [part if "source" in part else part.assign(source=SOURCE_SO) for part in parts]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


RATIO_INTEGRALS = {
    "ratio_mean_stance": ("integrated_stance_s", "stance_s"),
    "ratio_mean_cycle": ("integrated_s", "duration_s"),
}


def subject_means(cycles_long: pd.DataFrame) -> pd.DataFrame:
    """Per subject, condition, group and metric: mean and SD over all used cycles (both
    sides, every trial) and the number of cycles.

    The Q:H ratios are the exception: a subject's ratio is its quadriceps activation
    summed (time-integrated) over all its used cycles divided by its hamstrings' (NaN
    when the hamstrings stay at their floor over all of it), not the mean of per-cycle
    ratios, which a cycle with nearly silent hamstrings would dominate; ``sd`` is still
    that of the per-cycle ratios."""
    columns = ["subject", "condition", "group", "metric", "mean", "sd", "n_cycles"]
    if cycles_long.empty:
        return pd.DataFrame(columns=columns)
    out = (
        cycles_long.groupby(["subject", "condition", "group", "metric"], sort=True)["value"]
        .agg(mean="mean", sd="std", n_cycles="count")
        .reset_index()
    )
    wide = cycles_long.pivot_table(
        index=["subject", "condition", "trial", "side", "cycle"],
        columns=["group", "metric"],
        values="value",
        aggfunc="first",
    )
    if (CYCLE_GROUP, "duration_s") in wide and (CYCLE_GROUP, "stance_pct") in wide:
        durations = {
            "duration_s": wide[(CYCLE_GROUP, "duration_s")],
            "stance_s": wide[(CYCLE_GROUP, "duration_s")] * wide[(CYCLE_GROUP, "stance_pct")] / 100.0,
        }
        for metric, (integral, span) in RATIO_INTEGRALS.items():
            needed = [("quadriceps", integral), ("hamstrings", integral)]
            if not all(key in wide for key in needed):
                continue
            sums = pd.DataFrame({"q": wide[needed[0]], "h": wide[needed[1]], "span": durations[span]})
            counts = sums.dropna().groupby(level=["subject", "condition"]).size()
            sums = sums.groupby(level=["subject", "condition"]).sum(min_count=1)
            silent = sums["h"] < metrics.SILENT_ACTIVATION * sums["span"]
            ratio = (sums["q"] / sums["h"]).where(~silent)
            rows = (out["group"] == PAIR_GROUP) & (out["metric"] == metric)
            keys = list(zip(out.loc[rows, "subject"], out.loc[rows, "condition"]))
            out.loc[rows, "mean"] = [ratio.get(key, np.nan) for key in keys]
            out.loc[rows, "n_cycles"] = [int(counts.get(key, 0)) for key in keys]
    return out[columns]


PRIMARY, SECONDARY = "primary", "secondary"


def comparison(
    subjects: pd.DataFrame,
    *,
    compare: list[str],
    min_cycles: int,
    min_subjects: int,
    alpha: float = 0.05,
    primary_outcomes: list[str] | None = None,
) -> pd.DataFrame:
    """Per group and metric: the paired comparison of subject means, second condition minus
    first; ratios (``ratio_*``) on the log scale. ``family`` is primary for the
    ``group.metric`` names in ``primary_outcomes``, else secondary; the t-test and
    Wilcoxon p are Holm-adjusted within each family (``*_holm``)."""
    first, second = compare
    primary = set(primary_outcomes or [])
    rows = []
    for (group, metric), table in subjects.groupby(["group", "metric"], sort=True):
        enough = table[table["n_cycles"] >= min_cycles]
        wide = enough.pivot(index="subject", columns="condition", values="mean")
        a = wide[first] if first in wide else pd.Series(dtype=float)
        b = wide[second] if second in wide else pd.Series(dtype=float)
        paired = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
        result = stats.paired_comparison(
            paired["a"],
            paired["b"],
            min_subjects=min_subjects,
            condition_a=first,
            condition_b=second,
            alpha=alpha,
            log_scale=metric.startswith("ratio_"),
        )
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
        "t_test_p_holm",
        "wilcoxon_p_holm",
    ]
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
                    "note": "no used gait cycle; " + note,
                }
            ],
            columns=columns,
        )
    table = pd.DataFrame(rows)
    for test in ("t_test_p", "wilcoxon_p"):
        table[f"{test}_holm"] = np.nan
        for family in (PRIMARY, SECONDARY):
            members = table["family"] == family
            table.loc[members, f"{test}_holm"] = stats.holm(table.loc[members, test])
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
    parts = []
    for info, table in trial_curves:
        if len(table):
            part = table[["side", "cycle", "pct", *variables]].copy()
            part["subject"], part["condition"], part["trial"] = info["subject"], info["condition"], info["trial"]
            parts.append(part)
    columns = ["subject", "condition", "variable", "pct", "value", "n_cycles"]
    if not parts:
        return pd.DataFrame(columns=columns)
    everything = pd.concat(parts, ignore_index=True)
    longer = everything.melt(
        id_vars=["subject", "condition", "trial", "side", "cycle", "pct"],
        value_vars=variables,
        var_name="variable",
        value_name="value",
    )
    out = (
        longer.groupby(["subject", "condition", "variable", "pct"], sort=True)["value"]
        .agg(value="mean", n_cycles="count")
        .reset_index()
    )
    return out[columns]


def spm_table(
    curves: pd.DataFrame,
    *,
    variables: list[str],
    compare: list[str],
    alpha: float,
    min_subjects: int,
    min_cycles: int = 1,
) -> pd.DataFrame:
    """SPM paired t-test of the subject-mean curves, per variable; subjects with fewer than
    ``min_cycles`` cycles in a condition are left out, as in ``comparison``."""
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
            a, b, alpha=alpha, min_subjects=min_subjects, condition_a=first, condition_b=second
        ):
            rows.append({"variable": variable, "condition_a": first, "condition_b": second, "alpha": alpha} | row)
    return pd.DataFrame(rows, columns=["variable", "condition_a", "condition_b", "alpha", *stats.SPM_COLUMNS])
