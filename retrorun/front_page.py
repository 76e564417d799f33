"""The report's front page, written from the study tables: the primary outcomes (n, each
condition's mean, the difference or ratio with its CI, the primary test's Holm-adjusted
p, and every subject left out of the row and why), subjects whose conditions were not run
at a matched speed, which trials were left out and why, and links to the figures. reStructuredText, as Snakemake's
report renders it (a figure is linked as ``name.png_``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import analysis, speed

FIGURES = {
    "group_activation.png": "group activation over the gait cycle",
    "qh_ratio.png": "quadriceps share and quadriceps:hamstrings ratio per subject",
    "knee_moment.png": "knee extension moment and angle",
    "qc_overview.png": "cycles used and quality verdicts per trial",
}


def _number(value, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}g}"


def _p(value) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


TEST_NAMES = {"t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank"}


def paired_cycles(counts: pd.DataFrame, *, compare: list[str], min_cycles: int = 1) -> tuple[pd.Series, set]:
    """Used cycles per condition of the subjects with at least ``min_cycles`` used cycles in
    both compared conditions (trials that ran and passed the QC gate), and those subjects."""
    used = counts[counts["status"] == "done"]
    per_subject = used.groupby(["subject", "condition"])["n_used"].sum().unstack("condition")
    per_subject = per_subject.reindex(columns=compare).fillna(0)
    paired = set(per_subject.index[(per_subject >= min_cycles).all(axis=1)])
    cycles = used[used["subject"].isin(paired)].groupby("condition")["n_used"].sum()
    return cycles, paired


def left_out_lines(subjects: pd.DataFrame, *, compare: list[str], min_cycles: int) -> list[str]:
    """One line per subject and reason: the comparison rows (group.metric) that leave the
    subject out for that reason (analysis.left_out_subjects, as comparison.csv's notes)."""
    everyone = set(subjects.loc[subjects["condition"].isin(compare), "subject"])
    rows: dict[tuple[str, str], list[str]] = {}
    for (group, metric), table in subjects.groupby(analysis.OUTCOME_KEYS, sort=True):
        reasons = analysis.left_out_subjects(
            table, everyone, compare=compare, min_cycles=min_cycles, log_scale=metric.startswith("ratio_")
        )
        for subject, why in reasons.items():
            rows.setdefault((subject, why), []).append(f"``{group}.{metric}``")
    return [f"- {subject}: {', '.join(names)} ({why})" for (subject, why), names in sorted(rows.items())]


def outcome_line(row: pd.Series) -> str:
    a, b = row["condition_a"], row["condition_b"]
    name = f"``{row['group']}.{row['metric']}``"
    level = f"{100 * row['ci_level']:.0f} %" if np.isfinite(row.get("ci_level", np.nan)) else "CI"
    if row.get("scale") == "log":
        means = f"{a} {_number(row['mean_a'])}, {b} {_number(row['mean_b'])} (geometric means)"
        effect = (
            f"ratio {b}/{a} {_number(row['ratio_of_geometric_means'])} "
            f"[{level} CI {_number(row['ratio_ci_low'])} to {_number(row['ratio_ci_high'])}]"
        )
    else:
        means = f"{a} {_number(row['mean_a'])}, {b} {_number(row['mean_b'])}"
        effect = (
            f"difference {b} - {a} {_number(row['difference_mean'])} "
            f"[{level} CI {_number(row['difference_ci_low'])} to {_number(row['difference_ci_high'])}]"
        )
    test = TEST_NAMES.get(str(row.get("test")), str(row.get("test")))
    tests = f"{test} p {_p(row['p'])}, Holm-adjusted {_p(row['p_holm'])}"
    note = f" *{row['note']}*" if isinstance(row.get("note"), str) and row["note"] else ""
    return f"- {name}, n = {int(row['n_subjects'])} subjects: {means}; {effect}; {tests}.{note}"


def front_page(
    *,
    study: str,
    comparison: pd.DataFrame,
    counts: pd.DataFrame,
    qc: pd.DataFrame,
    qc_gate: str,
    alpha: float,
    subjects: pd.DataFrame | None = None,
    min_cycles: int = 1,
    max_speed_difference: float = 0.05,
) -> str:
    a, b = comparison["condition_a"].iloc[0], comparison["condition_b"].iloc[0]
    per_condition, paired = paired_cycles(counts, compare=[a, b], min_cycles=min_cycles)
    test = TEST_NAMES.get(str(comparison["test"].iloc[0]), "paired t-test") if "test" in comparison else ""
    lines = [
        f"Study ``{study}``: {b} against {a}",
        "=" * 60,
        "",
        f"Used gait cycles of the {len(paired)} subjects with both conditions (paired), entering the "
        f"statistics: {a} {int(per_condition.get(a, 0))}, {b} {int(per_condition.get(b, 0))}. Alpha {alpha:g}; "
        f"each row's p is the {test}'s, Holm-adjusted within the primary family (and separately within the "
        "secondary one, in ``comparison.csv``).",
        "",
        "Primary outcomes",
        "-" * 16,
        "",
    ]
    primary = comparison[comparison["family"] == "primary"]
    if not primary.empty:
        lines += [outcome_line(row) for _, row in primary.iterrows()]
    else:  # an empty comparison holds one row whose note says why
        reason = "; ".join(str(n) for n in comparison["note"].dropna().unique() if str(n))
        lines.append(f"- no comparison: {reason or 'no metric of analysis.primary_outcomes in comparison.csv'}")
    if subjects is not None and len(subjects):
        mismatched = speed.speed_mismatches(subjects, compare=[a, b], max_difference=max_speed_difference)
        lines += ["", "Running speed", "-" * 13, ""]
        if mismatched.empty:
            lines.append(
                f"- every subject ran both conditions within {100 * max_speed_difference:g} % of the same speed "
                "(``analysis.max_speed_difference``)."
            )
        lines += [f"- {note}" for note in mismatched["note"]]
    if subjects is not None and len(subjects):
        lines += ["", "Subjects left out of a comparison row", "-" * 37, ""]
        lines += left_out_lines(subjects, compare=[a, b], min_cycles=min_cycles) or [
            "- none: every subject with a used cycle is in every row."
        ]
    lines += ["", "Trials left out", "-" * 15, ""]
    excluded = counts[counts["status"] == "excluded_qc"].drop_duplicates(["subject", "trial"])
    failed = counts[counts["status"].astype(str).str.startswith("failed")]
    if qc_gate == "include":
        flagged = qc[~qc["pass"].astype(str).str.lower().isin(["true", "1"]) & (qc["status"] != "failed")]
        lines.append(f"- QC gate ``include``: {len(flagged)} trial(s) that failed QC are in the statistics.")
    for _, row in excluded.iterrows():
        lines.append(f"- {row['subject']}/{row['trial']} ({row['condition']}): {row['reason']}")
    for _, row in failed.iterrows():
        lines.append(f"- {row['subject']}/{row['trial']} ({row['condition']}): processing {row['status']}")
    if excluded.empty and failed.empty:
        lines.append("- none: every trial ran and passed QC" if qc_gate == "exclude" else "- no trial failed")
    lines += ["", "Figures", "-" * 7, ""]
    lines += [f"- {name}_: {what}" for name, what in FIGURES.items()]
    lines += [
        "",
        "retrorun scaled a generic OpenSim model to each subject, ran inverse kinematics, inverse "
        "dynamics and static optimization on every trial, and compared quadriceps and hamstrings "
        "activation between conditions; the tables and quality checks are under Results and Quality "
        "checks.",
        "",
    ]
    return "\n".join(lines)
