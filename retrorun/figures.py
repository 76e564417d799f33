"""Figures of the study tables, saved as PNG and SVG. Headless: the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .cycle_plan import STATUSES  # noqa: E402
from .formats import atomic_path  # noqa: E402

STATUS_COLOURS = {
    "used": "#2a9d8f",
    "outside_region": "#bdbdbd",
    "not_chosen": "#8ecae6",
    "missing_contact": "#e9c46a",
    "implausible_duration": "#e76f51",
    "irregular_contacts": "#f4a261",
    "off_median_duration": "#d62828",
    "near_edge": "#6d6875",
    "off_plate": "#b08968",
    "other_foot_loaded": "#9d4edd",
}


def save(figure, *, png: str, svg: str) -> None:
    """Write ``figure`` to both files atomically and close it."""
    for path, fmt in ((png, "png"), (svg, "svg")):
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")
    plt.close(figure)


def _conditions(curves: pd.DataFrame, compare: list[str]) -> list[str]:
    present = list(dict.fromkeys(curves["condition"])) if len(curves) else []
    return [c for c in compare if c in present] + [c for c in present if c not in compare]


def _no_data(axis, text: str) -> None:
    axis.text(0.5, 0.5, text, ha="center", va="center", transform=axis.transAxes, wrap=True)
    axis.set_xticks([])
    axis.set_yticks([])


def mean_sd_curves(
    curves: pd.DataFrame, *, variables: dict[str, str], compare: list[str], title: str, spm: pd.DataFrame | None = None
):
    """One panel per variable (column value -> axis label): mean ± SD over subjects
    of the subject-mean curves, one colour per condition; grey bands mark the SPM
    clusters of that variable in ``spm`` (spm.csv), if given."""
    figure, axes = plt.subplots(1, len(variables), figsize=(5 * len(variables), 3.8), squeeze=False)
    conditions = _conditions(curves, compare)
    for axis, (variable, label) in zip(axes[0], variables.items()):
        own = curves[curves["variable"] == variable] if len(curves) else curves
        if own.empty:
            _no_data(axis, f"no used gait cycle: no {variable} curve")
            continue
        for k, condition in enumerate(conditions):
            wide = own[own["condition"] == condition].pivot(index="subject", columns="pct", values="value")
            if wide.empty:
                continue
            pct, mean = wide.columns.to_numpy(dtype=float), wide.mean(axis=0).to_numpy()
            sd = wide.std(axis=0, ddof=1).to_numpy() if len(wide) > 1 else np.zeros_like(mean)
            colour = f"C{k}"
            axis.plot(pct, mean, color=colour, label=f"{condition} (n={len(wide)})")
            axis.fill_between(pct, mean - sd, mean + sd, color=colour, alpha=0.25, linewidth=0)
        if spm is not None and len(spm):
            clusters = spm[(spm["variable"] == variable) & spm["cluster"].notna()]
            for k, cluster in enumerate(clusters.itertuples()):
                axis.axvspan(
                    cluster.start_pct,
                    cluster.end_pct,
                    color="0.85",
                    zorder=0,
                    label=f"SPM p < {cluster.alpha:g}" if k == 0 else None,
                )
        axis.set_xlabel("gait cycle (%)")
        axis.set_ylabel(label)
        axis.set_xlim(0, 100)
        axis.legend(frameon=False)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def paired_ratio(subjects: pd.DataFrame, *, compare: list[str], metrics: dict[str, str], group: str):
    """Quadriceps share and quadriceps:hamstrings ratio per subject, one line per subject
    from the first compared condition to the second (a subject with one condition is a
    lone dot); a dotted line at equal activation (share 0.5, ratio 1)."""
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 4), squeeze=False)
    for axis, (metric, label) in zip(axes[0], metrics.items()):
        own = subjects[(subjects["group"] == group) & (subjects["metric"] == metric)] if len(subjects) else subjects
        if own.empty:
            _no_data(axis, "no used gait cycle")
            continue
        wide = own.pivot(index="subject", columns="condition", values="mean").reindex(columns=compare)
        x = np.arange(len(compare))
        for subject, values in wide.iterrows():
            axis.plot(x, values.to_numpy(dtype=float), marker="o", color="0.4")
            last = np.flatnonzero(np.isfinite(values.to_numpy(dtype=float)))
            if last.size:
                axis.annotate(
                    str(subject),
                    (x[last[-1]], values.iloc[last[-1]]),
                    xytext=(5, 0),
                    textcoords="offset points",
                    fontsize=7,
                    va="center",
                )
        axis.plot(x, wide.mean(axis=0).to_numpy(dtype=float), marker="s", color="k", linewidth=2.5, label="mean")
        axis.axhline(0.5 if "share" in metric else 1.0, color="0.7", linestyle=":", linewidth=1)
        axis.set_xticks(x, compare)
        axis.set_xlim(-0.4, len(compare) - 0.6)
        axis.set_ylabel(label)
        axis.legend(frameon=False)
    figure.suptitle("Quadriceps share and quadriceps:hamstrings ratio of activation per subject")
    figure.tight_layout()
    return figure


# Above this many rows (trial x side) the QC overview draws one row per subject: a row
# per trial of a 1000-trial study made a 700-inch figure (27 MB PNG, 2 GB and two minutes
# to draw) that nobody can read; per trial the QC table (qc.csv) holds every verdict.
MAX_TRIAL_ROWS = 80
VERDICT_COLOURS = {"pass": "#2a9d8f", "flagged": "#e9c46a", "failed": "#c0392b"}


def qc_overview(counts: pd.DataFrame, qc: pd.DataFrame):
    """Left: gait cycles by status (used or why skipped), failed trials marked. Right: the
    QC verdicts. One row per trial and side (left) and per trial (right); above
    MAX_TRIAL_ROWS, one row per subject with its trials summed."""
    per_subject = len(counts) > MAX_TRIAL_ROWS
    # per subject, both panels have the same rows
    subjects = sorted(set(counts["subject"]) | set(qc["subject"] if "subject" in qc else []))
    rows = len(subjects) if per_subject else len(counts)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(12, max(3.0, 0.35 * max(rows, 1) + 1.5)), gridspec_kw={"width_ratios": [3, 2]}
    )
    if counts.empty:
        _no_data(left, "no trial")
    else:
        _cycle_bars(left, _subject_counts(counts, subjects) if per_subject else counts, per_subject=per_subject)
        figure.legend(
            *left.get_legend_handles_labels(), frameon=False, fontsize=8, loc="lower left", ncol=len(STATUSES)
        )
    if qc.empty:
        _no_data(right, "no QC table")
    elif per_subject:
        _subject_verdicts(right, qc, subjects)
    else:
        _trial_verdicts(right, qc)
    figure.tight_layout(rect=(0, 0.6 / figure.get_figheight(), 1, 1))  # room for the legend below
    return figure


def _verdicts(qc: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(passed, failed) per row of the QC table; neither is flagged."""
    passed = qc["pass"].astype(str).str.lower().eq("true").to_numpy()
    failed = qc["status"].astype(str).eq("failed").to_numpy() if "status" in qc else np.zeros(len(qc), bool)
    return passed & ~failed, failed


def _cycle_bars(axis, counts: pd.DataFrame, *, per_subject: bool) -> None:
    """Stacked cycles by status per row of ``counts`` (per trial and side, or per subject
    with its trials' ``n_failed`` and ``n_excluded``), with the failed and left-out trials named."""
    y = np.arange(len(counts))
    start = np.zeros(len(counts))
    for status in STATUSES:
        values = counts[f"n_{status}"].to_numpy(dtype=float)
        axis.barh(y, values, left=start, color=STATUS_COLOURS[status], label=status.replace("_", " "))
        start += values
    if per_subject:
        labels = [f"{r.subject} ({r.n_trials} trials)" for r in counts.itertuples()]
        for k, row in enumerate(counts.itertuples()):
            notes = []
            if row.n_failed:
                notes.append(f"{row.n_failed} failed")
            if row.n_excluded:
                notes.append(f"{row.n_excluded} left out (QC)")
            if notes:
                axis.text(0.1, y[k], "trials " + ", ".join(notes), va="center", color="#c0392b", fontsize=8)
    else:
        labels = [f"{r.subject}/{r.trial} {r.side}".strip() for r in counts.itertuples()]
        for k, status in enumerate(counts["status"]):
            if str(status).startswith("failed"):
                axis.text(0.1, y[k], f"trial {status}", va="center", color="#c0392b", fontsize=8)
            elif status == "excluded_qc":  # analysis.qc_gate exclude: not in the statistics
                axis.text(0.1, y[k], "left out of the statistics (QC)", va="center", color="#c0392b", fontsize=8)
    axis.set_yticks(y, labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("gait cycles")
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set_title(
        "Gait cycles per subject (its trials and sides summed)" if per_subject else "Gait cycles per trial and side"
    )


def _subject_counts(counts: pd.DataFrame, subjects: list[str]) -> pd.DataFrame:
    """The cycle counts summed per subject, with its trials, failed trials and trials the QC gate left out."""
    status = counts["status"].astype(str)
    table = counts.assign(
        failed=status.str.startswith("failed").to_numpy(), excluded=status.eq("excluded_qc").to_numpy()
    )
    summed = table.groupby("subject")[[f"n_{s}" for s in STATUSES]].sum()
    by_trial = table.drop_duplicates(["subject", "trial"]).groupby("subject")
    summed = summed.assign(
        n_trials=by_trial.size(), n_failed=by_trial["failed"].sum(), n_excluded=by_trial["excluded"].sum()
    )
    return summed.reindex(subjects, fill_value=0).rename_axis("subject").reset_index()


def _trial_verdicts(axis, qc: pd.DataFrame) -> None:
    table = qc.sort_values(["subject", "trial"])
    y = np.arange(len(table))
    passed, failed = _verdicts(table)
    colours = np.where(
        failed, VERDICT_COLOURS["failed"], np.where(passed, VERDICT_COLOURS["pass"], VERDICT_COLOURS["flagged"])
    )
    axis.barh(y, np.ones(len(table)), color=colours)
    for k, flags in enumerate(table["flags"].fillna("").astype(str)):
        names = [f for f in flags.split(";") if f]
        wrapped = "\n".join(", ".join(names[i : i + 3]) for i in range(0, len(names), 3))
        text = "failed" if failed[k] else ("pass" if passed[k] else wrapped)
        axis.text(0.02, y[k], text, va="center", fontsize=7)
    axis.set_yticks(y, [f"{r.subject}/{r.trial}" for r in table.itertuples()], fontsize=8)
    axis.invert_yaxis()
    axis.set_xticks([])
    axis.set_title("QC verdict (flags: thresholds not met)")


def _subject_verdicts(axis, qc: pd.DataFrame, subjects: list[str]) -> None:
    """Per subject, its trials by verdict (stacked) and its most frequent flags."""
    passed, failed = _verdicts(qc)
    table = qc.assign(verdict=np.where(failed, "failed", np.where(passed, "pass", "flagged")))
    counts = pd.crosstab(table["subject"], table["verdict"]).reindex(
        index=subjects, columns=list(VERDICT_COLOURS), fill_value=0
    )
    y = np.arange(len(subjects))
    start = np.zeros(len(subjects))
    for verdict, colour in VERDICT_COLOURS.items():
        values = counts[verdict].to_numpy(dtype=float)
        axis.barh(y, values, left=start, color=colour, label=verdict)
        start += values
    flagged = table[table["verdict"] == "flagged"]
    for k, subject in enumerate(subjects):
        flags = flagged.loc[flagged["subject"] == subject, "flags"].fillna("").astype(str)
        counted = pd.Series([f for text in flags for f in text.split(";") if f]).value_counts()
        if len(counted):
            axis.text(
                0.1, y[k], ", ".join(f"{name} {n}" for name, n in counted.head(3).items()), va="center", fontsize=7
            )
    axis.set_yticks(y, subjects, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("trials")
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.legend(frameon=False, fontsize=8, loc="lower right")
    axis.set_title("QC verdicts per subject (most frequent flags: thresholds not met)")


def chains(curves: pd.DataFrame, subjects: pd.DataFrame, *, compare: list[str], stance_pct: dict[str, float]):
    """The muscle chains (config ``chains``): one panel per condition with the front and
    the rear chain's activation over the gait cycle (mean ± SD over subjects, stance
    shaded up to the condition's mean toe off, ``stance_pct``), and a last panel with each
    subject's mean stance activation of both chains by condition (tables/subjects.csv)."""
    conditions = compare or _conditions(curves, compare)
    figure, axes = plt.subplots(1, len(conditions) + 1, figsize=(4.8 * (len(conditions) + 1), 3.8), squeeze=False)
    chain_columns = {"front_chain_activation": ("front chain", "C0"), "rear_chain_activation": ("rear chain", "C3")}
    own = curves[curves["variable"].isin(chain_columns)] if len(curves) else curves
    for axis, condition in zip(axes[0], conditions):
        mine = own[own["condition"] == condition] if len(own) else own
        if mine.empty:
            _no_data(axis, f"{condition}: no chain curve (config chains, or no used cycle)")
            continue
        for variable, (label, colour) in chain_columns.items():
            wide = mine[mine["variable"] == variable].pivot(index="subject", columns="pct", values="value")
            if wide.empty:
                continue
            pct, mean = wide.columns.to_numpy(dtype=float), wide.mean(axis=0).to_numpy()
            sd = wide.std(axis=0, ddof=1).to_numpy() if len(wide) > 1 else np.zeros_like(mean)
            axis.plot(pct, mean, color=colour, label=f"{label} (n={len(wide)})")
            axis.fill_between(pct, mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
        if np.isfinite(stance_pct.get(condition, np.nan)):
            axis.axvspan(0, stance_pct[condition], color="0.92", zorder=0, label="stance")
        axis.set_xlim(0, 100)
        axis.set_xlabel("gait cycle (%)")
        axis.set_ylabel("activation (0-1)")
        axis.set_title(condition)
        axis.legend(frameon=False, fontsize=8)
    axis = axes[0][-1]
    stance = (
        subjects[subjects["group"].isin(["front_chain", "rear_chain"]) & (subjects["metric"] == "mean_stance")]
        if len(subjects)
        else subjects
    )
    if stance.empty:
        _no_data(axis, "no chain stance activation")
    else:
        x = np.arange(len(conditions))
        for offset, (group, (label, colour)) in zip(
            (-0.12, 0.12), zip(["front_chain", "rear_chain"], chain_columns.values())
        ):
            wide = (
                stance[stance["group"] == group]
                .pivot(index="subject", columns="condition", values="mean")
                .reindex(columns=conditions)
            )
            for _, values in wide.iterrows():
                axis.plot(x + offset, values.to_numpy(dtype=float), color=colour, alpha=0.35, marker="o", markersize=3)
            axis.plot(
                x + offset,
                wide.mean(axis=0).to_numpy(dtype=float),
                color=colour,
                marker="s",
                linewidth=2.5,
                label=label,
            )
        axis.set_xticks(x, conditions)
        axis.set_xlim(-0.5, len(conditions) - 0.5)
        axis.set_ylabel("mean stance activation (0-1)")
        axis.set_title("per subject, stance")
        axis.legend(frameon=False, fontsize=8)
    figure.suptitle("Front vs rear muscle chain by condition")
    figure.tight_layout()
    return figure


def foot_placement(subjects: pd.DataFrame, *, compare: list[str]):
    """Where the foot is relative to the centre of mass over stance (retrorun.gait_geometry),
    by condition, from tables/subjects.csv: per condition the ankle joint centre and the
    centre of pressure from contact (circle) to toe off (arrow head), mean over subjects,
    in metres ahead of the COM along the runner's facing direction (0: the COM), and the
    hips' midpoint (the COM's offset from the hips, negated: where the hips are relative
    to the COM), mean over stance."""
    figure, axis = plt.subplots(figsize=(7.5, 1.2 + 1.1 * max(len(compare), 1)))

    def mean(condition: str, group: str, metric: str) -> float:
        own = subjects[
            (subjects["group"] == group) & (subjects["metric"] == metric) & (subjects["condition"] == condition)
        ]
        return float(own["mean"].mean()) if len(own) else float("nan")

    drawn = False
    for k, condition in enumerate(compare):
        y = len(compare) - 1 - k
        for dy, point, colour in ((0.15, "ankle", "C0"), (-0.15, "cop", "C1")):
            start = mean(condition, "placement", f"com_to_{point}_at_contact_m")
            end = mean(condition, "placement", f"com_to_{point}_at_toe_off_m")
            if not (np.isfinite(start) and np.isfinite(end)):
                continue
            drawn = True
            label = {"ankle": "ankle joint centre", "cop": "centre of pressure"}[point] if k == 0 else None
            axis.plot([start], [y + dy], marker="o", color=colour, label=label)
            axis.annotate(
                "", xy=(end, y + dy), xytext=(start, y + dy), arrowprops={"arrowstyle": "->", "color": colour}
            )
        hips = -mean(condition, "com_hip", "offset_stance_mean_m")
        if np.isfinite(hips):
            axis.plot(
                [hips],
                [y],
                marker="|",
                markersize=18,
                color="k",
                label="hips' midpoint (stance mean)" if k == 0 else None,
            )
    if not drawn:
        _no_data(axis, "no foot placement values (no used cycle)")
        return figure
    axis.axvline(0.0, color="0.6", linestyle=":", linewidth=1)
    axis.set_yticks(np.arange(len(compare)), list(reversed(compare)))
    axis.set_ylim(-0.6, len(compare) - 0.4)
    axis.set_xlabel("ahead of the centre of mass along the runner's facing direction (m)")
    axis.set_title("Foot relative to the centre of mass over stance: contact (dot) to toe off (arrow)")
    axis.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure
