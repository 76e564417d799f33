"""Sensitivity variants: the study processed again with some config keys overridden
(config ``sensitivity``), and whether each variant reaches the main run's conclusion.

A variant reruns only the stages its keys affect. The stages form one chain (a stage
reads only what the stages before it wrote), so a variant is described by the first
stage it changes: every rule of that stage and after runs again under
``results/<study>/sensitivity/<variant>/``, every rule before it is the main run's
(a ``filter_hz`` variant reuses the scaled models and the gait events; a
``static_optimization.*`` variant reuses IK, ID and residual reduction).
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import config_schema, load_schema, variant_values
from .errors import ConfigError

# The processing chain in order. Gait events (detect_contacts, plan_cycles) read only the
# raw recordings, scaling only the static trial; putting events after scaling means a
# scaling variant also redoes the events (cheap), never the reverse.
STAGES = ("scaling", "events", "grf", "ik", "id", "residual_reduction", "so", "analysis")

# The stage of every rule a variant can rerun. Rules not here (C3D import, the demo's
# model and synthetic study) read no key a variant can change: always the main run's.
# Figures and the report front page are the main run's only; a variant writes its tables.
RULE_STAGES = {
    "scale_model": "scaling",
    # a chain of stages (workflow/rules/common.smk, Stage) by its last: gait events and
    # the cycles to analyse, the runner's heading, GRF, IK and ID (and RRA with the ID
    # after it where every run uses rra: CHAIN_STAGES in common.smk)
    "trial_motion": "id",
    "reduce_residuals": "residual_reduction",
    "residual_reduction_algorithm": "residual_reduction",
    "inverse_dynamics_after_reduction": "residual_reduction",
    "static_optimization_chunk": "so",
    # a chain of stages (workflow/rules/common.smk, Stage) by its last: a trial's residual
    # step (where no run uses mass_com), merging SO's chunks, the cycles' metrics, gait
    # geometry and QC
    "trial_analysis": "analysis",
    "aggregate_qc": "analysis",
    "analysis_tables": "analysis",
    # a variant's activations against the main run's EMG envelopes (a solver variant: which
    # solver agrees better with the measured muscle activity)
    "emg_agreement": "analysis",
}

# Rules a variant always takes from the main run: they read only the recordings and the
# generic model (C3D import, the demo's model, synthetic study and truth), or make the main
# run's report. A new rule goes in RULE_STAGES (and gets its `use rule` copy in
# workflow/rules/sensitivity.smk) or here: tests/test_sensitivity.py checks it is in one.
MAIN_ONLY_RULES = (
    "build_demo_model",
    "import_c3d",
    "synthesize_study",
    # the truth and the EMG synthesized from it (one job)
    "demo_truth",
    "validate_ground_truth",
    "analysis_figures",
    "report_front_page",
    "methods_text",
    # measured EMG: processed once (its keys are fixed), read by every variant's analysis
    "process_emg",
    "emg_normalisation",
    "emg_envelopes",
    "emg_figures",
    # the main run's and every variant's EMG agreement side by side
    "emg_agreement_sensitivity",
    # the demo's validation against its truth
    "validate_emg_truth",
    "error_budget_trial",
    "error_budget",
    # the study's claims and the chains' anatomical premise: read once, from the main
    # run's tables and scaled models; a variant's answer on the primary outcomes is
    # tables/sensitivity.csv
    "model_chains",
    "hypotheses",
)

# The first stage each config key affects (a key, or a section for all its keys). The
# longest matching entry wins: `analysis.weighting` is analysis, `analysis.unit` events.
KEY_STAGES = {
    "gaps": "scaling",
    "ik_margin_s": "events",
    "analysis.contact_threshold_n": "events",
    "analysis.min_contact_s": "events",
    "analysis.unit": "events",
    "analysis.cycles": "events",
    "analysis.min_cycle_s": "events",
    "analysis.max_cycle_s": "events",
    "filter_hz": "grf",
    "grf": "grf",
    "residual_reduction": "residual_reduction",
    "static_optimization": "so",
    "analysis": "analysis",
    "qc": "analysis",
}
# Keys a variant may not change, and why.
FIXED_KEYS = {
    "analysis.compare": "the compared conditions define the outcomes every variant is compared on",
    "analysis.primary_outcomes": "the primary outcomes are what every variant is compared on",
    "analysis.allow_empty": "it changes no number",
    "emg": "the EMG envelopes are processed once, in the main run, and read by every variant",
}
# `named` holds variants of several keys at once; every other entry of `sensitivity` is a
# key with the values to try one at a time.
NAMED = "named"
MAIN = "main"


@dataclass(frozen=True)
class Variant:
    """One variant: its name (a folder name), the overridden keys (dotted) with their
    values, the first stage they affect, and the study config with the overrides applied."""

    name: str
    overrides: dict
    first_stage: str
    config: dict = field(repr=False)

    def reruns(self, rule: str, rule_stages: dict | None = None) -> bool:
        """Whether the variant runs ``rule`` itself (else it reads the main run's outputs).
        ``rule_stages``: the stage of each rule in this run of the workflow, where a chain's
        last stage differs from RULE_STAGES'."""
        stage = (RULE_STAGES if rule_stages is None else rule_stages).get(rule)
        return stage is not None and STAGES.index(stage) >= STAGES.index(self.first_stage)

    @property
    def description(self) -> str:
        return ", ".join(f"{key} = {_text(value)}" for key, value in self.overrides.items())


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def schema_keys(node: dict | None = None, prefix: str = "") -> list[str]:
    """Every dotted key the config schema declares (sections and their keys)."""
    node = config_schema() if node is None else node
    keys = []
    for name, sub in node.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        if isinstance(sub, dict) and sub.get("type") == "object":
            keys += schema_keys(sub, dotted + ".")
    return keys


def key_stage(key: str) -> str:
    """The first stage ``key`` affects; a ConfigError naming the closest key if it is not
    a config key, or saying why if it is one a variant cannot change."""
    known = schema_keys()
    if key not in known:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(
            f"sensitivity: '{key}' is not a config key{hint}",
            fix="name an existing key in dotted form, e.g. filter_hz or static_optimization.activation_exponent "
            "(config/README.md lists them)",
        )
    fixed = [entry for entry in FIXED_KEYS if key == entry or key.startswith(entry + ".")]
    if fixed:
        raise ConfigError(f"sensitivity: '{key}' cannot vary: {FIXED_KEYS[fixed[0]]}", fix=_variable_keys_hint())
    matches = [entry for entry in KEY_STAGES if key == entry or key.startswith(entry + ".")]
    if not matches:
        raise ConfigError(
            f"sensitivity: '{key}' cannot vary: it names the study's data, model or muscles, not a processing choice",
            fix=_variable_keys_hint(),
        )
    return KEY_STAGES[max(matches, key=len)]


def _variable_keys_hint() -> str:
    sections = dict.fromkeys(key.split(".")[0] for key in KEY_STAGES)
    return f"vary a key of {', '.join(sections)} (config/README.md, section sensitivity)"


def _get(config: dict, key: str):
    node = config
    for part in key.split("."):
        node = node[part]
    return node


def variant_specs(sensitivity: dict, main: dict) -> dict[str, dict]:
    """name -> overrides, from config ``sensitivity``: each ``key: [values]`` entry gives
    one variant per value (named ``<key>-<value>``), each ``named`` entry one variant of
    several keys. A value equal to the main run's is the main run, and is left out."""
    specs = {}
    for key, values in sensitivity.items():
        if key == NAMED:
            continue
        key_stage(key)  # a key that is not a config key has no main value to compare with
        for value in values:
            if value != _get(main, key):
                specs[f"{key}-{_text(value)}"] = {key: value}
    for name, overrides in (sensitivity.get(NAMED) or {}).items():
        specs[name] = dict(overrides)
    return specs


def plan_variants(config: dict, *, source: str) -> dict[str, Variant]:
    """The variants config ``sensitivity`` asks for, checked before any job starts: every
    key a config key a variant may change, every value one the schema allows."""
    sensitivity = config.get("sensitivity") or {}
    main = {key: value for key, value in config.items() if key != "sensitivity"}
    variants = {}
    for name, overrides in variant_specs(sensitivity, main).items():
        if name == MAIN or not re.fullmatch(load_schema("name")["pattern"], name):
            raise ConfigError(
                f"{source}: sensitivity variant name '{name}' cannot be used: it becomes a folder name and "
                f"'{MAIN}' is the main run's",
                fix=load_schema("name")["description"],
            )
        stages = [key_stage(key) for key in overrides]
        values = variant_values(main, overrides, source=f"{source}, sensitivity variant '{name}'")
        variants[name] = Variant(
            name=name,
            overrides=copy.deepcopy(overrides),
            first_stage=min(stages, key=STAGES.index),
            config=values,
        )
    return variants


# ---------------------------------------------------------------- the conclusions


def conclusion(difference: float, p: float, alpha: float) -> tuple[str, bool | None]:
    """(sign, significant) of one forward-backward difference: sign '+', '-' or '0' of the
    difference (on the log scale for ratios), 'n/a' when there is none; significant when
    p < alpha (None without a p)."""
    if difference is None or not np.isfinite(difference):
        return "n/a", None
    sign = "+" if difference > 0 else "-" if difference < 0 else "0"
    if p is None or not np.isfinite(p):
        return sign, None
    return sign, bool(p < alpha)


def conclusion_matches(main: tuple[str, bool | None], variant: tuple[str, bool | None]) -> bool | None:
    """The conclusion holds when the sign and the significance are the main run's; None
    when the main run has no difference to compare with (e.g. one condition only)."""
    if main[0] == "n/a":
        return None
    return main == variant


OUTCOME_COLUMNS = [
    "n_subjects",
    "mean_a",
    "mean_b",
    "scale",
    "difference_mean",
    "difference_ci_low",
    "difference_ci_high",
    "ci_level",
    "ratio_of_geometric_means",
    "ratio_ci_low",
    "ratio_ci_high",
    "test",
    "p",
    "p_holm",
]


def primary_rows(comparison: pd.DataFrame, *, variant: str, alpha: float, outcomes: list[str]) -> pd.DataFrame:
    """The primary ``outcomes`` of one run's comparison.csv with their conclusion, one row
    per source and outcome; an outcome the comparison lacks (no used cycle) is a row of
    empty values whose note is the comparison's."""
    table = comparison.copy()
    if "source" not in table:
        table["source"] = "so"
    sources = list(dict.fromkeys(table["source"].dropna())) or ["so"]
    table["outcome"] = table["group"].astype(str) + "." + table["metric"].astype(str)
    why = "; ".join(dict.fromkeys(str(n) for n in table["note"].dropna() if str(n)))
    table = table[table["family"] == "primary"].set_index(["source", "outcome"])
    every = pd.MultiIndex.from_product([sources, outcomes], names=["source", "outcome"])
    table = table.reindex(every).reset_index()
    table["note"] = table["note"].where(table["note"].notna(), why)
    table["variant"] = variant
    signs = [conclusion(d, p, alpha) for d, p in zip(table["difference_mean"], table["p_holm"])]
    table["sign"] = [s for s, _ in signs]
    table["significant"] = [sig for _, sig in signs]
    table["alpha"] = alpha
    return table[["variant", "source", "outcome", *OUTCOME_COLUMNS, "alpha", "sign", "significant", "note"]]


def sensitivity_table(
    main: pd.DataFrame, variants: dict[str, pd.DataFrame], *, alphas: dict, described: dict, outcomes: list[str]
):
    """tables/sensitivity.csv: the main run's primary outcomes and every variant's, one row
    per variant x source x outcome, with ``matches_main``: the same sign and significance
    as the main run (True for the main run's own rows; empty where the main run has no
    difference)."""
    frames = [primary_rows(main, variant=MAIN, alpha=alphas[MAIN], outcomes=outcomes)]
    frames += [
        primary_rows(table, variant=name, alpha=alphas[name], outcomes=outcomes) for name, table in variants.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    reference = {(row.source, row.outcome): (row.sign, row.significant) for row in frames[0].itertuples(index=False)}
    table["matches_main"] = [
        conclusion_matches(reference.get((s, o), ("n/a", None)), (sign, sig))
        for s, o, sign, sig in zip(table["source"], table["outcome"], table["sign"], table["significant"])
    ]
    table.insert(1, "overrides", [described.get(v, "") for v in table["variant"]])
    return table


def front_page_sentence(table: pd.DataFrame, source: str = "so") -> str:
    """One sentence for the report's front page: in how many variants every primary
    outcome keeps the main run's conclusion, and under which it changes."""
    rows = table[(table["variant"] != MAIN) & (table["source"] == source)]
    variants = list(dict.fromkeys(rows["variant"]))
    if not variants:
        return ""
    judged = rows[rows["matches_main"].notna()]
    if judged.empty:
        return (
            f"Sensitivity: {len(variants)} processing variants ran, but the main comparison has no "
            "forward-backward difference to compare their conclusions with (``tables/sensitivity.csv``)."
        )
    changed = {}
    for variant in variants:
        mine = judged[judged["variant"] == variant]
        outcomes = list(mine.loc[~mine["matches_main"].astype(bool), "outcome"])
        if outcomes:
            changed[variant] = outcomes
    held = len(variants) - len(changed)
    sentence = (
        "Sensitivity: the conclusion (sign and significance of every primary outcome) holds in "
        f"{held} of {len(variants)} processing variants"
    )
    if changed:
        from .front_page import outcome_name  # not at the top: planning imports this module, lightly

        sentence += "; it changes under " + "; ".join(
            f"``{variant}`` for {' and '.join(outcome_name(*outcome.split('.', 1)) for outcome in outcomes)}"
            for variant, outcomes in changed.items()
        )
    return sentence + " (``tables/sensitivity.csv``, sensitivity.png_)."


def forest_plot(table: pd.DataFrame, source: str = "so"):
    """One panel per primary outcome: each variant's forward-backward difference with its
    CI (ratios: the ratio of geometric means), the main run on top; a filled
    marker is significant, a red one a conclusion that differs from the main run's."""
    from .figures import plt

    rows = table[table["source"] == source]
    outcomes = list(dict.fromkeys(rows["outcome"]))
    variants = list(dict.fromkeys(rows["variant"]))
    figure, axes = plt.subplots(
        1, max(len(outcomes), 1), figsize=(3.6 * max(len(outcomes), 1), 1.6 + 0.35 * len(variants)), squeeze=False
    )
    for axis, outcome in zip(axes[0], outcomes):
        mine = rows[rows["outcome"] == outcome].set_index("variant").reindex(variants)
        log = (mine["scale"] == "log").any()
        centre, low, high = (
            (mine["ratio_of_geometric_means"], mine["ratio_ci_low"], mine["ratio_ci_high"])
            if log
            else (mine["difference_mean"], mine["difference_ci_low"], mine["difference_ci_high"])
        )
        y = np.arange(len(variants))[::-1]
        for k, variant in enumerate(variants):
            colour = "black" if variant == MAIN else "#c1121f" if not bool(mine["matches_main"].iloc[k]) else "#1d3557"
            filled = mine["significant"].iloc[k] is True or mine["significant"].iloc[k] == 1
            axis.errorbar(
                centre.iloc[k],
                y[k],
                xerr=[[centre.iloc[k] - low.iloc[k]], [high.iloc[k] - centre.iloc[k]]],
                fmt="o",
                color=colour,
                markerfacecolor=colour if filled else "white",
                capsize=2,
            )
        axis.axvline(1.0 if log else 0.0, color="grey", linestyle=":")
        axis.set_yticks(y, variants if axis is axes[0][0] else [""] * len(variants))
        axis.set_title(outcome + ("\n(ratio)" if log else "\n(difference)"), fontsize=8)
    figure.suptitle(
        "Difference between the compared conditions per processing variant\n(CI at 1 - alpha; filled: significant "
        "after Holm; red: the conclusion differs from the main run's)",
        fontsize=9,
    )
    figure.tight_layout()
    return figure


def with_front_page_sentence(page: str, table: pd.DataFrame) -> str:
    """The front page (retrorun.front_page) with the sensitivity sentence as a paragraph
    after the primary outcomes (before the next section; at the end if there is none)."""
    sentence = front_page_sentence(table)
    if not sentence:
        return page
    lines = page.split("\n")
    # the next section's title is the line above its underline
    after = (
        next(
            (k - 1 for k in range(lines.index("Primary outcomes") + 2, len(lines)) if set(lines[k]) == {"-"}),
            len(lines),
        )
        if "Primary outcomes" in lines
        else len(lines)
    )
    return "\n".join(lines[:after] + [sentence, ""] + lines[after:])
