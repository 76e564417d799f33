"""The report's front page, written from the study tables for a reader: the primary
outcomes in words with their code names (n, each condition's mean, the difference or
ratio with its CI, the primary test's Holm-adjusted p), measured EMG's answer beside the
model's, subjects whose conditions were not run at a matched speed, every subject left
out of a row and why, the quality checks in sentences (how many trials passed, how often
each check failed, what the QC gate did), and links to the figures. Numbers have 3
significant digits. reStructuredText, as Snakemake's report renders it (a figure is
linked as ``name.png_``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import analysis, speed
from .qc import CHECKS, qc_key

FIGURES = {
    "group_activation.png": "group activation over the gait cycle",
    "qh_ratio.png": "quadriceps share and quadriceps:hamstrings ratio per subject",
    "knee_moment.png": "knee extension moment and angle",
    "qc_overview.png": "cycles used and quality verdicts per trial (per subject in a large study)",
}


def _number(value, *, signed: bool = False) -> str:
    """3 significant digits, trailing zeros kept (0.530, not 0.53); ``signed``: a + on
    positive values, for differences."""
    if value is None or not np.isfinite(value):
        return "n/a"
    value = float(value)
    if value == 0:
        text = "0"
    elif 1e-4 <= abs(value) < 1e5:
        rounded = float(f"{value:.3g}")  # numpy's positional format drops the zero 0.5298 rounds to
        text = f"{rounded:.{max(0, 2 - int(np.floor(np.log10(abs(rounded)))))}f}"
    else:
        text = f"{value:.2e}"
    return f"+{text}" if signed and value > 0 else text


def _p(value) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


TEST_NAMES = {"t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank"}

# The outcomes in words, by metric name (retrorun.metrics lists them); ``{group}`` is
# the configured muscle group (config muscle_groups, any name). The one place a
# reader-facing outcome name is written.
_PHASES = {"cycle": "over the gait cycle", "stance": "in stance", "swing": "in swing"}
METRIC_WORDS = {
    **{f"mean_{phase}": f"mean {{group}} activation {words}" for phase, words in _PHASES.items()},
    "integrated_s": f"{{group}} activation integrated {_PHASES['cycle']} , activation·s",
    "integrated_stance_s": "{group} activation integrated over stance , activation·s",
    "peak": "peak {group} activation",
    "peak_timing_pct": "timing of the peak {group} activation , % of the gait cycle",
    **{
        f"quadriceps_share_{phase}": f"quadriceps share of summed quadriceps and hamstrings activation "
        f"{_PHASES[phase]}, Q/(Q+H)"
        for phase in ("cycle", "stance")
    },
    **{
        f"ratio_mean_{phase}": f"quadriceps:hamstrings ratio of mean activation {_PHASES[phase]}, Q/H"
        for phase in ("cycle", "stance")
    },
    **{
        f"cci_{phase}_pct": f"quadriceps-hamstrings co-contraction index {_PHASES[phase]}, %"
        for phase in ("cycle", "stance")
    },
    "peak_extension_moment_nm_per_kg": "peak knee extension moment in stance, N·m/kg",
    "peak_extension_moment_timing_pct_stance": "timing of the peak knee extension moment, % of stance",
    "duration_s": "gait cycle duration, s",
    "stance_pct": "stance duration , % of the gait cycle",
    "speed_m_s": "running speed, m/s",
}


def outcome_words(group: str, metric: str) -> str:
    """An outcome (comparison.csv's group and metric) as a reader says it, with its unit."""
    template = METRIC_WORDS.get(metric)
    if template is None:
        return f"{group} {metric}".replace("_", " ")
    return template.format(group=group.replace("_", " "))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def outcome_name(group: str, metric: str, *, lead: bool = False) -> str:
    """The words, then the code name that finds the row in comparison.csv; ``lead``: the
    words start a list item (capital, bold)."""
    words = outcome_words(group, metric)
    return f"**{_capital(words)}** (``{group}.{metric}``)" if lead else f"{words} (``{group}.{metric}``)"


def _limit(key: str, value: float) -> str:
    # a limit is the config's own number: "5 %", not "5.00 %"
    if key.endswith("_m"):
        return f"{100 * value:g} cm"
    if key.endswith("_cm"):
        return f"{value:g} cm"
    if key.endswith("_deg"):
        return f"{value:g} deg"
    if key.endswith("_nm"):
        return f"{value:g} N·m"
    return f"{100 * value:g} %"  # the other limits are shares


def check_words(flag: str, thresholds: dict | None = None) -> str:
    """A failed QC check (a flag of qc.csv) in words, with its limit when ``thresholds``
    (config qc) are given."""
    if flag not in CHECKS:
        return flag.replace("_", " ")
    check = CHECKS[flag]
    what = check.what
    if not check.over:
        return what
    keys = [qc_key(key) for key in check.limits]
    if thresholds and keys and all(key in thresholds for key in keys):
        if flag == "saturation" and "saturation_activation" in thresholds:
            what += f" (activation ≥ {thresholds['saturation_activation']:g})"
        return f"{what} {check.over.format(' or '.join(_limit(key, thresholds[key]) for key in keys))}"
    return f"{what} above its limit ({', '.join(f'``{key}``' for key in check.limits)})"


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
    """One line per subject and reason: the comparison rows (in words, with group.metric)
    that leave the subject out for that reason (analysis.left_out_subjects, as
    comparison.csv's notes)."""
    everyone = set(subjects.loc[subjects["condition"].isin(compare), "subject"])
    rows: dict[tuple[str, str], list[str]] = {}
    for (group, metric), table in subjects.groupby(analysis.OUTCOME_KEYS, sort=True):
        reasons = analysis.left_out_subjects(
            table, everyone, compare=compare, min_cycles=min_cycles, log_scale=metric.startswith("ratio_")
        )
        for subject, why in reasons.items():
            rows.setdefault((subject, why), []).append(outcome_name(group, metric))
    return [f"- {subject}: {'; '.join(names)}: {why}" for (subject, why), names in sorted(rows.items())]


def outcome_line(row: pd.Series) -> str:
    a, b = row["condition_a"], row["condition_b"]
    level = f"{100 * row['ci_level']:.0f} %" if np.isfinite(row.get("ci_level", np.nan)) else ""
    if row.get("scale") == "log":
        means = f"geometric means {a} {_number(row['mean_a'])}, {b} {_number(row['mean_b'])}"
        effect = (
            f"ratio ({b}/{a}) {_number(row['ratio_of_geometric_means'])} "
            f"[{level} CI {_number(row['ratio_ci_low'])} to {_number(row['ratio_ci_high'])}]"
        )
    else:
        means = f"means {a} {_number(row['mean_a'])}, {b} {_number(row['mean_b'])}"
        effect = (
            f"difference ({b} - {a}) {_number(row['difference_mean'], signed=True)} "
            f"[{level} CI {_number(row['difference_ci_low'])} to {_number(row['difference_ci_high'])}]"
        )
    test = TEST_NAMES.get(str(row.get("test")), str(row.get("test")))
    tests = f"{test} p {_p(row['p'])}, Holm-adjusted {_p(row['p_holm'])}"
    note = f" *{row['note']}*" if isinstance(row.get("note"), str) and row["note"] else ""
    name = outcome_name(row["group"], row["metric"], lead=True)
    return f"- {name}, {_count(int(row['n_subjects']), 'subject')}: {means}; {effect}; {tests}.{note}"


def _trial(row) -> str:
    return f"{row['subject']}/{row['trial']} ({row['condition']})"


def _flags(value) -> list[str]:
    return [flag for flag in str(value if isinstance(value, str) else "").split(";") if flag]


def qc_lines(counts: pd.DataFrame, qc: pd.DataFrame, *, qc_gate: str, thresholds: dict | None = None) -> list[str]:
    """The quality checks in sentences: how many trials ran and passed, how often each
    check failed, what the gate (analysis.qc_gate) did with the trials that failed, and
    which trials failed in processing. A trial that failed a check under the gate include
    is in the statistics: saying "no trial failed" beside that was wrong."""
    lines = []
    ran = qc[qc["status"] != "failed"] if len(qc) else qc
    passed = ran["pass"].astype(str).str.lower().isin(["true", "1"]) if len(ran) else pd.Series(dtype=bool)
    flagged = ran[~passed] if len(ran) else ran
    limits = "thresholds: config ``qc``, after Hicks et al. 2015; every value in ``qc.csv``"
    if ran.empty:
        lines.append("No trial that ran has a quality verdict (``qc.csv`` holds none).")
    elif flagged.empty:
        lines.append(f"All {_count(len(ran), 'trial')} that ran passed every quality check ({limits}).")
    else:
        lines += [
            f"{_count(len(ran), 'trial')} ran: {len(ran) - len(flagged) or 'none'} passed every quality check, "
            f"{len(flagged)} failed at least one ({limits}). How often each check failed:",
            "",
        ]
        times: dict[str, int] = {}
        for value in flagged["flags"]:
            for flag in dict.fromkeys(_flags(value)):
                times[flag] = times.get(flag, 0) + 1
        lines += [
            f"- {_capital(check_words(flag, thresholds))} (``{flag}``): {n} of {_count(len(ran), 'trial')}"
            for flag, n in sorted(times.items(), key=lambda item: (-item[1], item[0]))
        ]
        lines.append("")
        if qc_gate == "include":
            lines.append(
                f"The QC gate (``analysis.qc_gate: include``) keeps the {_count(len(flagged), 'trial')} that "
                "failed a check in the statistics: the outcomes above include them."
            )
        else:
            lines += [
                f"The QC gate (``analysis.qc_gate: {qc_gate}``) leaves the {_count(len(flagged), 'trial')} that "
                "failed a check out of the statistics:",
                "",
            ]
            lines += [
                f"- {_trial(row)}: {'; '.join(check_words(flag, thresholds) for flag in _flags(row['flags']))}"
                for _, row in flagged.iterrows()
            ]
    failed = counts[counts["status"].astype(str).str.startswith("failed")].drop_duplicates(["subject", "trial"])
    lines.append("")
    if failed.empty:
        lines.append("Every trial's processing ran to the end.")
    else:
        lines += [f"Processing failed for {_count(len(failed), 'trial')}, left out of every table:", ""]
        for _, row in failed.iterrows():
            stage = str(row["status"]).partition(":")[2]
            lines.append(f"- {_trial(row)}: at stage ``{stage}``" if stage else f"- {_trial(row)}")
    return lines


def emg_lines(so: pd.DataFrame, emg: pd.DataFrame, agreement: pd.DataFrame | None) -> list[str]:
    """Measured EMG's answer beside the model's (docs/development/tables.md): each primary
    outcome EMG has, its difference b - a from SO and from EMG with Holm-adjusted p, and
    how well SO's and EMG's group curves agree (tables/emg_agreement.csv)."""
    primary = emg[emg["family"] == "primary"] if len(emg) else emg
    if primary.empty:
        return []
    a, b = primary["condition_a"].iloc[0], primary["condition_b"].iloc[0]
    lines = [
        "",
        "Measured EMG beside the model",
        "-" * 29,
        "",
        f"The primary outcomes EMG measures, difference ({b} - {a}) from the model's static optimization (SO) "
        "and from the measured EMG (the rows with ``source`` so and emg in ``comparison.csv``), each "
        "Holm-adjusted within its own source:",
        "",
    ]
    by_outcome = so.set_index(analysis.OUTCOME_KEYS) if len(so) else None
    for _, row in primary.iterrows():
        key = (row["group"], row["metric"])
        cells = []
        for name, found in (
            ("SO", by_outcome.loc[key] if by_outcome is not None and key in by_outcome.index else None),
            ("EMG", row),
        ):
            if found is None:
                cells.append(f"{name} n/a")
                continue
            n = found.get("n_subjects")
            cells.append(
                f"{name} {_number(found.get('difference_mean'), signed=True)} (Holm-adjusted p "
                f"{_p(found.get('p_holm'))}, {_count(int(n) if n == n else 0, 'subject')})"
            )
        lines.append(f"- {outcome_name(*key, lead=True)}: {'; '.join(cells)}.")
    groups = agreement[agreement["kind"] == "group"] if agreement is not None and len(agreement) else None
    if groups is not None and len(groups):
        lines += [
            "",
            "How closely SO's activation follows the EMG (``tables/emg_agreement.csv``, mean over trials):",
            "",
        ]
        for name, table in groups.groupby("name", sort=False):
            lag = table["lag_ms"].mean()
            shift = "no shift" if not lag else f"EMG {'leading' if lag > 0 else 'lagging'} by {_number(abs(lag))} ms"
            label = _capital(name.replace("_", " "))
            lines.append(
                f"- {label} activation, SO vs EMG: r {_number(table['r_mean_cycle'].mean())} "
                f"over the mean cycle, {_number(table['r_at_lag'].mean())} at the best shift ({shift}); on/off "
                f"agreement {_number(table['on_off_agreement_pct'].mean())} % of the cycle; "
                f"{_count(len(table), 'trial side')}."
            )
    return lines


VERDICT_WORDS = {
    "supported": "supported",
    "contradicted": "contradicted",
    "inconclusive": "inconclusive",
}


def hypotheses_lines(hypotheses: pd.DataFrame) -> list[str]:
    """The study's claims (tables/hypotheses.csv) in words, the model's answer (source so)
    first and EMG's beside it: each claim, its measure, what was found and the verdict by
    the table's own rule."""
    if hypotheses.empty:
        return []
    lines = [
        "",
        "Claims tested",
        "-" * 13,
        "",
        f"Each claim of config ``hypotheses`` with its verdict ({hypotheses['rule'].iloc[0]}); all in "
        "``tables/hypotheses.csv``.",
        "",
    ]
    sources = ["so", *sorted(set(hypotheses["source"]) - {"so"})] if "source" in hypotheses else [None]
    for source in sources:
        own = hypotheses if source is None else hypotheses[hypotheses["source"] == source]
        if own.empty:
            continue
        if source not in (None, "so"):
            lines += ["", f"The same claims from the measured {source.upper()}:", ""]
        for _, row in own.iterrows():
            group, _, metric = str(row["measure"]).partition(".")
            primary = "primary" if row["family"] == "primary" else "secondary"
            ci = ""
            if np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
                ci = f" [{row['ci_level'] * 100:g} % CI {_number(row['ci_low'])} to {_number(row['ci_high'])}]"
            a, b = row["condition_a"], row["condition_b"]
            scale = {
                "difference_b_minus_a": f"difference ({b} - {a})",
                "ratio_b_over_a": f"ratio ({b} / {a})",
            }.get(str(row["estimate_scale"]), str(row["estimate_scale"]).replace("_minus_", " minus "))
            found = (
                f"{scale} {_number(row['estimate'], signed=True)}{ci}, "
                f"{_count(int(row['n_subjects']), 'subject')}, Holm-adjusted p {_p(row['p_holm'])}"
                if np.isfinite(row["estimate"])
                else f"no value ({row['note']})"
                if str(row["note"]) not in ("", "nan")
                else "no value"
            )
            lines.append(
                f"- **{VERDICT_WORDS.get(str(row['verdict']), row['verdict'])}**: {row['claim']} "
                f"({primary}; {outcome_name(group, metric)} expected {row['expected']}): {found}."
            )
    return lines


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
    qc_thresholds: dict | None = None,
    emg_comparison: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
    hypotheses: pd.DataFrame | None = None,
) -> str:
    """``comparison`` and ``subjects``: the model's rows (source so); ``emg_comparison``:
    EMG's rows of comparison.csv, set beside them when given."""
    a, b = comparison["condition_a"].iloc[0], comparison["condition_b"].iloc[0]
    per_condition, paired = paired_cycles(counts, compare=[a, b], min_cycles=min_cycles)
    test = TEST_NAMES.get(str(comparison["test"].iloc[0]), "paired t-test") if "test" in comparison else ""
    title = f"Study ``{study}``: {b} against {a}"
    lines = [
        title,
        "=" * len(title),
        "",
        "retrorun scaled a generic OpenSim model to each subject, ran inverse kinematics, inverse "
        "dynamics and static optimization on every trial, and compared quadriceps and hamstrings "
        "activation between conditions. Every table and figure is in this report's Results and Quality "
        "checks categories.",
        "",
        f"{_count(len(paired), 'subject')} with used gait cycles in both conditions (paired): their "
        f"{int(per_condition.get(a, 0))} {a} and {int(per_condition.get(b, 0))} {b} gait cycles enter the "
        f"statistics. Alpha {alpha:g}; each p is the {test}'s, Holm-adjusted within the primary outcomes "
        "(the secondary ones, in ``comparison.csv``, are adjusted among themselves).",
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
        lines.append(f"- No comparison: {reason or 'no metric of analysis.primary_outcomes in comparison.csv'}")
    if hypotheses is not None:
        lines += hypotheses_lines(hypotheses)
    if emg_comparison is not None:
        lines += emg_lines(comparison, emg_comparison, agreement)
    if subjects is not None and len(subjects):
        mismatched = speed.speed_mismatches(subjects, compare=[a, b], max_difference=max_speed_difference)
        lines += ["", "Running speed", "-" * 13, ""]
        if mismatched.empty:
            lines.append(
                f"- Every subject ran both conditions within {100 * max_speed_difference:g} % of the same speed "
                "(``analysis.max_speed_difference``)."
            )
        lines += [f"- {note}" for note in mismatched["note"]]
    if subjects is not None and len(subjects):
        lines += ["", "Subjects left out of a comparison row", "-" * 37, ""]
        lines += left_out_lines(subjects, compare=[a, b], min_cycles=min_cycles) or [
            "- None: every subject with a used cycle is in every row."
        ]
    lines += ["", "Quality checks", "-" * 14, ""]
    lines += qc_lines(counts, qc, qc_gate=qc_gate, thresholds=qc_thresholds)
    lines += ["", "Figures", "-" * 7, ""]
    lines += [f"- {name}_: {what}" for name, what in FIGURES.items()]
    lines.append("")
    return "\n".join(lines)
