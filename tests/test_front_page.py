"""The report's front page is written from the tables for a reader: primary outcomes in
words with 3 significant digits, the quality checks in sentences, exclusions, figures."""

import numpy as np
import pandas as pd
import pytest
from test_stats import constructed_subjects

from retrorun import analysis, front_page, metrics

QC_COLUMNS = ["subject", "trial", "condition", "status", "pass", "flags"]


def study(*, excluded=None, failed=()):
    """The comparison and cycle counts of test_stats' six subjects (one trial per condition)."""
    long = pd.concat([constructed_subjects(), constructed_subjects().assign(group="hamstrings", metric="mean_swing")])
    comparison = analysis.comparison(
        analysis.subject_means(long),
        compare=["forward", "backward"],
        min_cycles=1,
        min_subjects=3,
        alpha=0.05,
        primary_outcomes=["quadriceps.mean_stance"],
    )
    cycles = pd.DataFrame({"side": ["r"], "status": ["used"]})
    trials = [
        {"subject": f"s{k}", "trial": f"{c}_1", "condition": c} for k in range(6) for c in ("forward", "backward")
    ]
    counts = analysis.cycle_counts([(t, cycles) for t in trials], list(failed), sides=["r"], excluded=excluded or {})
    return comparison, trials, counts


def qc_table(trials, flags: dict) -> pd.DataFrame:
    """Every trial done; ``flags``: (subject, trial) -> its failed checks (the others pass)."""
    rows = []
    for t in trials:
        flagged = flags.get((t["subject"], t["trial"]), "")
        rows.append(t | {"status": "done", "pass": not flagged, "flags": flagged})
    return pd.DataFrame(rows, columns=QC_COLUMNS)


def test_the_front_page_states_the_primary_outcomes_and_who_was_left_out():
    from docutils.core import publish_parts

    comparison, trials, counts = study(
        excluded={("s5", "backward_1"): "QC failed: residual_force"},
        failed=[{"subject": "s9", "trial": "forward_1", "condition": "forward", "stage": "inverse_kinematics"}],
    )
    qc = qc_table(trials, {("s5", "backward_1"): "residual_force"})
    text = front_page.front_page(
        study="demo", comparison=comparison, counts=counts, qc=qc, qc_gate="exclude", alpha=0.05
    )
    row = comparison.iloc[0]
    number = front_page._number
    primary = [line for line in text.splitlines() if "(``quadriceps.mean_stance``)" in line]
    assert len(primary) == 1 and primary[0].startswith("- **Mean quadriceps activation in stance**")
    assert "6 subjects" in primary[0]
    assert f"difference (backward - forward) {number(row['difference_mean'], signed=True)} " in primary[0]
    assert f"95 % CI {number(row['difference_ci_low'])} to {number(row['difference_ci_high'])}" in primary[0]
    assert f"paired t-test p {row['p']:.3f}, Holm-adjusted {row['p_holm']:.3f}" in primary[0] or "<0.001" in primary[0]
    assert "hamstrings.mean_swing" not in text  # secondary outcomes stay in the table
    assert "12 trials ran: 11 passed every quality check, 1 failed at least one" in text
    assert "out of the statistics:\n\n- s5/backward_1 (backward): peak residual force above its limit" in text
    assert "s9/forward_1 (forward): at stage ``inverse_kinematics``" in text
    # s5's forward cycles are not paired (its backward trial is excluded): not counted (issue 19, item 8)
    assert "5 subjects with used gait cycles in both conditions (paired)" in text
    assert "their 5 forward and 5 backward gait cycles enter the statistics." in text
    # valid reStructuredText once Snakemake's report has defined the figure targets
    links = "".join(f"\n.. _{name}: https://example.org/{name}" for name in front_page.FIGURES)
    html = publish_parts(text + links, writer="html", settings_overrides={"halt_level": 2})["html_body"]
    assert "knee_moment.png" in html and "Primary outcomes" in html and "<strong>Mean quadriceps" in html


def test_trials_that_failed_qc_under_the_gate_include_are_not_called_unfailed():
    """The gate include keeps flagged trials in the statistics; the page said so and then
    "no trial failed" (its fallback looked only at exclusions and processing failures)."""
    comparison, trials, counts = study()
    flags = {("s0", "forward_1"): "residual_force;saturation", ("s1", "backward_1"): "residual_force"}
    text = front_page.front_page(
        study="s", comparison=comparison, counts=counts, qc=qc_table(trials, flags), qc_gate="include", alpha=0.05
    )
    assert "no trial failed" not in text.lower()
    section = text.split("Quality checks\n--------------")[1].split("Figures")[0]
    assert "12 trials ran: 10 passed every quality check, 2 failed at least one" in section
    assert "(``residual_force``): 2 of 12 trials" in section and "(``saturation``): 1 of 12 trials" in section
    assert "(``analysis.qc_gate: include``) keeps the 2 trials that failed a check in the statistics" in section
    assert "Every trial's processing ran to the end." in section


def test_failed_checks_are_said_in_words_with_their_limits():
    thresholds = {
        "residual_force_max_share_of_peak_grf": 0.05,
        "saturated_frame_share_max": 0.05,
        "saturation_activation": 0.95,
        "scale_marker_rms_max_m": 0.01,
        "kinematic_change_rms_max_deg": 2.0,
        "kinematic_change_rms_max_cm": 2.0,
    }
    words = front_page.check_words
    assert words("residual_force", thresholds) == "peak residual force above 5 % of the peak GRF"
    assert words("saturation", thresholds) == "share of frames with a saturated muscle (activation ≥ 0.95) above 5 %"
    assert words("scale_marker_rms", thresholds) == "RMS marker error of the bony landmarks after scaling above 1 cm"
    assert words("kinematic_change", thresholds).endswith("above 2 deg or 2 cm")
    assert (
        words("residual_force") == "peak residual force above its limit (``qc.residual_force_max_share_of_peak_grf``)"
    )
    assert words("no_cycles") == "no usable gait cycle"


def test_every_trial_passing_is_said_once():
    comparison, trials, counts = study()
    for gate in ("include", "exclude"):
        text = front_page.front_page(
            study="s", comparison=comparison, counts=counts, qc=qc_table(trials, {}), qc_gate=gate, alpha=0.05
        )
        assert "All 12 trials that ran passed every quality check" in text and "QC gate" not in text


def test_outcomes_are_named_in_words_for_any_group_with_their_code_name():
    every_metric = metrics.ACTIVATION_METRICS + metrics.PAIR_METRICS + metrics.KNEE_METRICS + metrics.CYCLE_METRICS
    assert set(every_metric) <= set(front_page.METRIC_WORDS)
    assert front_page.outcome_words("bfsh", "mean_stance") == "mean bfsh activation in stance"
    assert front_page.outcome_words("rectus_femoris", "peak") == "peak rectus femoris activation"
    assert front_page.outcome_words(analysis.KNEE_GROUP, "peak_extension_moment_nm_per_kg") == (
        "peak knee extension moment in stance, N·m/kg"
    )
    assert front_page.outcome_name(analysis.PAIR_GROUP, "quadriceps_share_stance", lead=True) == (
        "**Quadriceps share of summed quadriceps and hamstrings activation in stance, Q/(Q+H)** "
        "(``quadriceps_hamstrings.quadriceps_share_stance``)"
    )


@pytest.mark.parametrize(
    "value, shown",
    [
        (0.5298, "0.530"),
        (0.0890, "0.0890"),
        (2.15, "2.15"),
        (-0.0612, "-0.0612"),
        (1234.0, "1230"),
        (0.000505, "0.000505"),
    ],
)
def test_numbers_have_3_significant_digits_with_their_trailing_zeros(value, shown):
    assert front_page._number(value) == shown


def test_the_subjects_left_out_are_named_per_outcome_in_words():
    subjects = analysis.subject_means(constructed_subjects())
    subjects.loc[(subjects["subject"] == "s2") & (subjects["condition"] == "backward"), "n_cycles"] = 0
    lines = front_page.left_out_lines(subjects, compare=["forward", "backward"], min_cycles=1)
    assert lines == [
        "- s2: mean quadriceps activation in stance (``quadriceps.mean_stance``): backward: 0 cycle(s) with a "
        "value, analysis.min_cycles 1"
    ]


def test_an_empty_comparison_says_why_on_the_front_page():
    comparison = analysis.comparison(
        pd.DataFrame(columns=["subject", "condition", "group", "metric", "mean", "sd", "n_cycles"]),
        compare=["forward", "backward"],
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["quadriceps.mean_stance"],
    )
    counts = analysis.cycle_counts([], [], sides=["r"])
    qc = pd.DataFrame(columns=QC_COLUMNS)
    text = front_page.front_page(study="s", comparison=comparison, counts=counts, qc=qc, qc_gate="exclude", alpha=0.05)
    assert "- No comparison: no used gait cycle" in text


def test_emg_lines_read_the_comparison_the_analysis_writes():
    """SO's and EMG's differences side by side, from analysis.comparison's own columns
    (p_holm), the outcomes in words; the agreement per group in sentences."""
    rng = np.random.default_rng(5)
    rows = [
        {"source": source, "subject": f"s{k}", "condition": c, "group": "quadriceps", "metric": "mean_stance"}
        | {"mean": 0.2 + (0.05 if c == "backward" else 0.0) + rng.normal(0, 0.005), "sd": 0.01, "n_cycles": 3}
        | {"note": ""}
        for source in ("so", "emg")
        for k in range(6)
        for c in ("forward", "backward")
    ]
    compared = analysis.per_source(
        analysis.comparison,
        pd.DataFrame(rows),
        compare=["forward", "backward"],
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["quadriceps.mean_stance"],
    )
    so, emg = (compared[compared["source"] == s].drop(columns="source") for s in ("so", "emg"))
    agreement = pd.DataFrame(
        {
            "kind": ["group", "group"],
            "name": ["quadriceps", "quadriceps"],
            "r_mean_cycle": [0.3, 0.4],
            "r_at_lag": [0.9, 0.9],
            "lag_ms": [50.0, 40.0],
            "on_off_agreement_pct": [60.0, 70.0],
        }
    )
    said = "\n".join(front_page.emg_lines(so, emg, agreement))
    line = next(line for line in said.splitlines() if "(``quadriceps.mean_stance``)" in line)
    assert line.startswith("- **Mean quadriceps activation in stance**")
    assert "SO +0.0" in line and "EMG +0.0" in line and "Holm-adjusted p n/a" not in line and "6 subjects" in line
    assert (
        "- Quadriceps activation, SO vs EMG: r 0.350 over the mean cycle, 0.900 at the best shift "
        "(EMG leading by 45.0 ms); on/off agreement 65.0 % of the cycle; 2 trial sides." in said
    )


def test_the_claims_open_the_page_in_words_with_their_verdicts():
    """tables/hypotheses.csv in words: each claim, its measure named, what was found and
    the verdict; EMG's answers apart from the model's."""
    from retrorun.hypotheses import COLUMNS

    base = dict.fromkeys(COLUMNS, np.nan) | {
        "condition_a": "forward",
        "condition_b": "backward",
        "ci_level": 0.95,
        "test": "t",
        "rule": "supported: Holm p < alpha with the expected sign",
        "note": "",
    }
    rows = [
        base
        | {
            "source": "so",
            "id": "rests_hamstrings",
            "claim": "Backward running rests the hamstrings",
            "measure": "hamstrings.mean_stance",
            "expected": "backward < forward",
            "family": "primary",
            "estimate_scale": "difference_b_minus_a",
            "n_subjects": 8,
            "estimate": -0.0177,
            "ci_low": -0.0358,
            "ci_high": 0.000505,
            "p_holm": 0.165,
            "verdict": "inconclusive",
        },
        base
        | {
            "source": "emg",
            "id": "rests_hamstrings",
            "claim": "Backward running rests the hamstrings",
            "measure": "hamstrings.mean_stance",
            "expected": "backward < forward",
            "family": "primary",
            "estimate_scale": "difference_b_minus_a",
            "n_subjects": 8,
            "estimate": -0.0929,
            "ci_low": -0.15,
            "ci_high": -0.03,
            "p_holm": 0.01,
            "verdict": "supported",
        },
    ]
    text = "\n".join(front_page.hypotheses_lines(pd.DataFrame(rows, columns=COLUMNS)))
    assert "Claims tested" in text
    so, emg = text.split("The same claims from the measured EMG:")
    assert "- **inconclusive**: Backward running rests the hamstrings (primary; mean hamstrings activation" in so
    assert "difference (backward - forward) -0.0177 [95 % CI -0.0358 to 0.000505], 8 subjects" in so
    assert "Holm-adjusted p 0.165" in so
    assert "- **supported**: Backward running rests the hamstrings" in emg and "-0.0929" in emg
    assert "hamstrings.mean_stance" in so  # the code name, to find the row
