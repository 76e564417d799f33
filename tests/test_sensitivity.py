"""Sensitivity variants (config `sensitivity`, retrorun/sensitivity.py): which jobs a
variant plans, how its config is derived and checked, and when its conclusion matches
the main run's."""

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from workflow_runner import ok, snakemake

from retrorun import sensitivity
from retrorun.config import load_config
from retrorun.errors import ConfigError

DEMO = load_config(REPO / "config" / "config.yaml").values
OUTCOMES = ["quadriceps.mean_stance"]
N_SUBJECTS, TRIALS_PER_SUBJECT = 3, 2  # the demo with --config synthetic={n_subjects: 3}


def planned_by_variant(result) -> Counter:
    """(rule, variant) -> planned jobs, from a dry run's job listing ('' for the main run);
    a group job lists its jobs indented."""
    counts = Counter()
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", result.stdout + result.stderr):
        rule = re.match(r"\s*(?:local)?rule (\w+):", block)
        if rule:
            variant = re.search(r"^\s+wildcards: .*?variant=([^,\n]+)", block, re.M)
            counts[(rule.group(1), variant.group(1) if variant else "")] += 1
    return counts


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sensitivity_plan")
    result = snakemake(
        workdir,
        None,
        "-n",
        "--config",
        f"synthetic={{n_subjects: {N_SUBJECTS}}}",
        "sensitivity={filter_hz: [10], static_optimization.activation_exponent: [3]}",
    )
    ok(result)
    return planned_by_variant(result)


def test_a_filter_variant_reuses_scaling_and_events(dry_run):
    variant = "filter_hz-10"
    trials = N_SUBJECTS * TRIALS_PER_SUBJECT
    assert dry_run[("sensitivity_scale_model", variant)] == 0
    # one job per trial up to ID (its gait events too: cheap, and the same as the main
    # run's), and one from the residual step on: SO in one chunk is one of its stages
    for rule in ("trial_motion", "trial_analysis"):
        assert dry_run[(f"sensitivity_{rule}", variant)] == trials, rule
    assert dry_run[("sensitivity_static_optimization_chunk", variant)] == 0
    assert dry_run[("sensitivity_analysis_tables", variant)] == 1


def test_an_so_variant_reuses_ik_id_and_residual_reduction(dry_run):
    variant = "static_optimization.activation_exponent-3"
    trials = N_SUBJECTS * TRIALS_PER_SUBJECT
    for rule in ("scale_model", "trial_motion", "reduce_residuals"):
        assert dry_run[(f"sensitivity_{rule}", variant)] == 0, rule
    # SO is a stage of trial_analysis (SO_IN_ANALYSIS in workflow/rules/common.smk)
    assert dry_run[("sensitivity_trial_analysis", variant)] == trials


def test_with_a_variant_of_the_analysis_only_so_stays_a_job_of_the_main_run(tmp_path):
    """In trial_analysis, SO would rerun for a variant that changes only the analysis:
    then SO is a job of its own, the main run's, that the variant reads."""
    result = snakemake(
        tmp_path,
        None,
        "-n",
        "--config",
        f"synthetic={{n_subjects: {N_SUBJECTS}}}",
        "sensitivity={analysis.weighting: [max_isometric_force]}",
    )
    ok(result)
    planned = planned_by_variant(result)
    variant, trials = "analysis.weighting-max_isometric_force", N_SUBJECTS * TRIALS_PER_SUBJECT
    assert planned[("static_optimization_chunk", "")] == trials
    assert planned[("sensitivity_static_optimization_chunk", variant)] == 0
    assert planned[("sensitivity_trial_analysis", variant)] == trials


def test_the_main_run_is_planned_once_and_the_table_gathers_the_variants(dry_run):
    assert dry_run[("scale_model", "")] == N_SUBJECTS
    assert dry_run[("trial_motion", "")] == N_SUBJECTS * TRIALS_PER_SUBJECT
    assert dry_run[("sensitivity_table", "")] == 1 and dry_run[("sensitivity_figure", "")] == 1

    # the demo has EMG: every variant's agreement with it, and one table of them all
    for variant in ("filter_hz-10", "static_optimization.activation_exponent-3"):
        assert dry_run[("sensitivity_emg_agreement", variant)] == 1, variant
    assert dry_run[("emg_agreement_sensitivity", "")] == 1


# Where every run uses rra, RRA and the ID after it are stages of trial_motion
# (workflow/rules/dynamics.smk); else they are rules of their own.
RRA_APART = {"residual_reduction_algorithm", "inverse_dynamics_after_reduction"}


# In one chunk (the default) SO is a stage of trial_analysis; in several, a rule of its own.
SO_APART = {"static_optimization_chunk"}


@pytest.mark.parametrize(
    "method, chunks, absent",
    [("none", 1, SO_APART), ("rra", 1, RRA_APART | SO_APART), ("none", 2, set()), ("rra", 2, RRA_APART)],
)
def test_every_rule_is_rerun_by_a_variant_or_taken_from_the_main_run(tmp_path, method, chunks, absent):
    """A new rule (another muscle solver, say) must be placed: in RULE_STAGES with its
    `use rule` copy in sensitivity.smk, or in MAIN_ONLY_RULES. Listed with a variant (of
    SO: SO stays a stage of the analysis in one chunk), where every rule a variant could
    copy exists (without variants the EMG and the demo's truth are stages of the chains)."""
    result = snakemake(
        tmp_path,
        None,
        "--list-rules",
        "--config",
        f"residual_reduction={{method: {method}}}",
        f"static_optimization={{chunks: {chunks}}}",
        "sensitivity={static_optimization.activation_exponent: [3]}",
    )
    ok(result)
    listed = {line.strip() for line in result.stdout.splitlines() if re.fullmatch(r"\s*\w+\s*", line)}
    placed = {*sensitivity.RULE_STAGES} - absent
    expected = {*placed, *sensitivity.MAIN_ONLY_RULES, *{f"sensitivity_{rule}" for rule in placed}}
    assert listed == expected | {"sensitivity_table", "sensitivity_figure", "all"}


def test_variant_config_overrides_only_its_keys():
    config = DEMO | {"sensitivity": {"filter_hz": [10, 12], "named": {"both": {"static_optimization.chunks": 2}}}}
    variants = sensitivity.plan_variants(config, source="test")
    # 12 is the main run's value: that variant would be the main run
    assert list(variants) == ["filter_hz-10", "both"]
    assert variants["filter_hz-10"].config["filter_hz"] == 10 and DEMO["filter_hz"] == 12
    both = variants["both"].config["static_optimization"]
    assert both["chunks"] == 2 and both["activation_exponent"] == DEMO["static_optimization"]["activation_exponent"]
    assert variants["both"].first_stage == "so" and variants["filter_hz-10"].first_stage == "grf"
    assert not variants["both"].reruns("trial_motion") and variants["both"].reruns("analysis_tables")


def test_a_chain_is_placed_by_its_last_stage_in_this_run():
    """trial_motion ends with ID, or with RRA where every run uses rra (CHAIN_STAGES in
    workflow/rules/common.smk): an RRA setting reruns it only then."""
    config = DEMO | {"sensitivity": {"residual_reduction.rra_margin_s": [0.2]}}
    (rra_margin,) = sensitivity.plan_variants(config, source="test").values()
    assert rra_margin.first_stage == "residual_reduction"
    assert not rra_margin.reruns("trial_motion")
    ending_with_rra = sensitivity.RULE_STAGES | {"trial_motion": "residual_reduction"}
    assert rra_margin.reruns("trial_motion", ending_with_rra)
    assert not rra_margin.reruns("scale_model", ending_with_rra)


@pytest.mark.parametrize(
    "key, says",
    [
        ("static_optimization.exponent", "did you mean 'static_optimization.activation_exponent'"),
        ("filter_Hz", "did you mean 'filter_hz'"),
        ("model.osim", "cannot vary"),
        ("analysis.primary_outcomes", "cannot vary"),
    ],
)
def test_a_key_a_variant_cannot_change_is_refused_with_the_closest_name(key, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        sensitivity.plan_variants(DEMO | {"sensitivity": {key: [1]}}, source="test")


def test_a_value_the_schema_refuses_is_refused_up_front():
    with pytest.raises(ConfigError, match="residual_reduction.method"):
        sensitivity.plan_variants(DEMO | {"sensitivity": {"residual_reduction.method": ["rrb"]}}, source="test")


def test_snakemake_refuses_an_unknown_key_before_any_job(tmp_path):
    result = snakemake(tmp_path, None, "-n", "--config", "sensitivity={static_optimization.exponent: [3]}")
    assert result.returncode != 0
    assert "did you mean 'static_optimization.activation_exponent'" in result.stdout + result.stderr


def comparison(difference, p_holm, outcome="quadriceps.mean_stance", **extra):
    group, metric = outcome.split(".")
    row = {
        "group": group,
        "metric": metric,
        "family": "primary",
        "n_subjects": 8,
        "mean_a": 0.3,
        "mean_b": 0.3 + difference,
        "scale": "linear",
        "difference_mean": difference,
        "difference_ci_low": difference - 0.01,
        "difference_ci_high": difference + 0.01,
        "ci_level": 0.95,
        "ratio_of_geometric_means": np.nan,
        "ratio_ci_low": np.nan,
        "ratio_ci_high": np.nan,
        "test": "t",
        "p": p_holm,
        "p_holm": p_holm,
        "note": "",
    }
    secondary = row | {"metric": "peak", "family": "secondary", "difference_mean": -difference}
    return pd.DataFrame([row | extra, secondary])


@pytest.mark.parametrize(
    "difference, p, matches",
    [
        (0.05, 0.01, True),  # same sign, significant
        (0.02, 0.04, True),
        (-0.05, 0.01, False),  # sign flipped
        (0.05, 0.2, False),  # no longer significant
        (np.nan, np.nan, False),  # no result where the main run has one
    ],
)
def test_conclusion_matches_on_sign_and_significance(difference, p, matches):
    table = sensitivity.sensitivity_table(
        comparison(0.04, 0.001),
        {"v": comparison(difference, p)},
        alphas={"main": 0.05, "v": 0.05},
        described={"v": "filter_hz = 10"},
        outcomes=OUTCOMES,
    )
    assert list(table["variant"]) == ["main", "v"]  # primary outcomes only
    assert table["matches_main"].tolist() == [True, matches]
    assert table.loc[1, "overrides"] == "filter_hz = 10"


def test_each_variant_is_judged_at_its_own_alpha():
    table = sensitivity.sensitivity_table(
        comparison(0.04, 0.03),
        {"strict": comparison(0.04, 0.03)},
        alphas={"main": 0.05, "strict": 0.01},
        described={},
        outcomes=OUTCOMES,
    )
    assert table["significant"].tolist() == [True, False] and table["matches_main"].tolist() == [True, False]


def test_rows_are_per_source_when_the_tables_have_one():
    main = pd.concat([comparison(0.04, 0.001, source="so"), comparison(-0.02, 0.2, source="emg")])
    variant = pd.concat([comparison(0.04, 0.001, source="so"), comparison(0.02, 0.2, source="emg")])
    table = sensitivity.sensitivity_table(
        main, {"v": variant}, alphas={"main": 0.05, "v": 0.05}, described={}, outcomes=OUTCOMES
    )
    mine = table[table["variant"] == "v"].set_index("source")["matches_main"]
    assert bool(mine["so"]) and not bool(mine["emg"])  # each source against its own main row


def test_front_page_sentence_names_the_variants_that_change_the_conclusion():
    table = sensitivity.sensitivity_table(
        comparison(0.04, 0.001),
        {"a": comparison(0.03, 0.002), "b": comparison(0.03, 0.3)},
        alphas={"main": 0.05, "a": 0.05, "b": 0.05},
        described={},
        outcomes=OUTCOMES,
    )
    sentence = sensitivity.front_page_sentence(table)
    assert "holds in 1 of 2" in sentence
    assert "under ``b`` for mean quadriceps activation in stance (``quadriceps.mean_stance``) (" in sentence
    page = "Study\n=====\n\nPrimary outcomes\n----------------\n\n- one\n\nTrials left out\n---------------\n\n- none\n"
    added = sensitivity.with_front_page_sentence(page, table)
    assert added.index("holds in 1 of 2") < added.index("Trials left out") and added.index("- one") < added.index(
        "holds in"
    )


def test_without_a_main_difference_no_conclusion_is_claimed():
    table = sensitivity.sensitivity_table(
        comparison(np.nan, np.nan),
        {"v": comparison(np.nan, np.nan)},
        alphas={"main": 0.05, "v": 0.05},
        described={},
        outcomes=OUTCOMES,
    )
    assert table["matches_main"].isna().all()
    assert "no forward-backward difference to compare" in sensitivity.front_page_sentence(table)


def test_an_outcome_without_a_comparison_is_a_row_saying_why():
    empty = pd.DataFrame([{"group": np.nan, "metric": np.nan, "family": np.nan, "note": "no used gait cycle"}])
    empty = empty.reindex(columns=comparison(0.0, 0.0).columns)
    table = sensitivity.sensitivity_table(
        empty, {"v": empty}, alphas={"main": 0.05, "v": 0.05}, described={}, outcomes=["a.x", "b.y"]
    )
    assert list(table["outcome"]) == ["a.x", "b.y", "a.x", "b.y"]
    assert (table["note"] == "no used gait cycle").all() and table["matches_main"].isna().all()


def test_an_emg_key_cannot_vary_and_says_why():
    with pytest.raises(ConfigError, match="processed once, in the main run"):
        sensitivity.key_stage("emg.envelope_low_pass_hz")


def test_the_primary_rows_read_the_comparison_the_analysis_writes():
    """primary_rows on a real analysis.comparison table (its column names), not a hand-made one."""
    from retrorun import analysis

    rng = np.random.default_rng(3)
    subjects = pd.DataFrame(
        [
            {"subject": f"s{k}", "condition": c, "group": "quadriceps", "metric": "mean_stance", "n_cycles": 3}
            | {"mean": 0.2 + (0.05 if c == "backward" else 0.0) + rng.normal(0, 0.005), "sd": 0.01, "note": ""}
            for k in range(8)
            for c in ("forward", "backward")
        ]
    )
    compared = analysis.comparison(
        subjects,
        compare=["forward", "backward"],
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["quadriceps.mean_stance"],
    )
    rows = sensitivity.primary_rows(compared, variant="main", alpha=0.05, outcomes=["quadriceps.mean_stance"])
    assert rows["sign"].tolist() == ["+"] and rows["significant"].tolist() == [True]
    assert rows["p_holm"].iloc[0] == compared["p_holm"].iloc[0]


def test_an_so_variant_does_not_rerun_rra(tmp_path):
    """RRA and the ID after it end trial_motion where every run uses rra: an RRA setting's
    variant reruns that chain, an SO setting's variant reads the main run's."""
    result = snakemake(
        tmp_path,
        None,
        "-n",
        "--config",
        "synthetic={n_subjects: 1}",
        "residual_reduction={method: rra}",
        "sensitivity={residual_reduction.rra_margin_s: [0.2], static_optimization.activation_exponent: [3]}",
    )
    ok(result)
    planned = planned_by_variant(result)
    assert planned[("trial_motion", "")] == 2
    assert planned[("sensitivity_trial_motion", "residual_reduction.rra_margin_s-0.2")] == 2
    assert planned[("sensitivity_trial_motion", "static_optimization.activation_exponent-3")] == 0
    # SO is a stage of trial_analysis (SO_IN_ANALYSIS in workflow/rules/common.smk)
    assert planned[("sensitivity_trial_analysis", "static_optimization.activation_exponent-3")] == 2
