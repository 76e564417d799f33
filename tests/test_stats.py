"""Paired statistics on constructed tables with known answers, and SPM on known curves."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from retrorun import analysis, stats
from retrorun.cycles import PERCENT

DIFFERENCES = np.array([0.10, 0.12, 0.08, 0.11, 0.09, 0.10])  # mean 0.10, SD sqrt(0.002 / 5) = 0.02


def constructed_subjects():
    """6 subjects, 2 cycles each per condition; backward Q:H ratio higher by DIFFERENCES."""
    rows = []
    forward = np.array([1.2, 1.5, 0.9, 1.1, 1.3, 1.0])
    for k, (base, diff) in enumerate(zip(forward, DIFFERENCES)):
        for condition, value in (("forward", base), ("backward", base + diff)):
            for cycle, wobble in enumerate((-0.01, 0.01)):  # cycle means average back to value
                rows.append(
                    {
                        "subject": f"s{k}",
                        "condition": condition,
                        "trial": f"{condition}_1",
                        "side": "r",
                        "cycle": cycle,
                        "group": "quadriceps",
                        "metric": "mean_stance",
                        "value": value + wobble,
                    }
                )
    return pd.DataFrame(rows)


def test_paired_comparison_of_six_subjects_with_a_known_difference():
    subjects = analysis.subject_means(constructed_subjects())
    assert set(subjects["n_cycles"]) == {2}
    table = analysis.comparison(subjects, compare=["forward", "backward"], min_cycles=1, min_subjects=3)
    row = table.iloc[0]
    assert row["n_subjects"] == 6 and row["note"] == ""
    assert row["difference_mean"] == pytest.approx(0.10)
    sd = np.sqrt(np.sum((DIFFERENCES - 0.10) ** 2) / 5)
    assert row["difference_sd"] == pytest.approx(sd)
    assert row["effect_size_dz"] == pytest.approx(0.10 / sd)
    half = sps.t.ppf(0.975, 5) * sd / np.sqrt(6)  # t(0.975, 5) = 2.5706
    assert row["difference_ci95_low"] == pytest.approx(0.10 - half)
    assert row["difference_ci95_high"] == pytest.approx(0.10 + half)
    t = 0.10 / (sd / np.sqrt(6))
    assert row["t_statistic"] == pytest.approx(t)
    assert row["t_test_p"] == pytest.approx(2 * sps.t.sf(t, 5))
    # every difference positive: the exact two-sided Wilcoxon p of n = 6 is 2 / 2**6
    assert row["wilcoxon_p"] == pytest.approx(2 / 64)
    assert row["mean_a"] == pytest.approx(np.mean([1.2, 1.5, 0.9, 1.1, 1.3, 1.0]))


def test_too_few_subjects_give_no_p_values_and_say_why():
    one = constructed_subjects()
    one = one[one["subject"].isin(["s0", "s1"])]
    table = analysis.comparison(
        analysis.subject_means(one), compare=["forward", "backward"], min_cycles=1, min_subjects=3
    )
    row = table.iloc[0]
    assert row["n_subjects"] == 2
    assert np.isnan(row["t_test_p"]) and np.isnan(row["wilcoxon_p"]) and np.isnan(row["difference_ci95_low"])
    assert "need at least 3" in row["note"]
    only_forward = one[one["condition"] == "forward"]
    row = analysis.comparison(
        analysis.subject_means(only_forward), compare=["forward", "backward"], min_cycles=1, min_subjects=3
    ).iloc[0]
    assert row["n_subjects"] == 0 and row["n_subjects_a"] == 2 and row["n_subjects_b"] == 0
    assert "'backward'" in row["note"] and np.isnan(row["t_test_p"])


def test_min_cycles_leaves_out_subjects_with_too_few_cycles():
    subjects = analysis.subject_means(constructed_subjects())
    table = analysis.comparison(subjects, compare=["forward", "backward"], min_cycles=3, min_subjects=3)
    assert table.iloc[0]["n_subjects"] == 0


def bump(centre, width=10.0, height=1.0):
    return height * np.exp(-0.5 * ((PERCENT - centre) / width) ** 2)


def test_spm_finds_the_cluster_where_the_curves_differ():
    rng = np.random.default_rng(4)
    n = 8
    forward = np.array([bump(30) * (0.5 + 0.05 * k) + 0.2 for k in range(n)]) + rng.normal(0, 0.02, (n, 101))
    # backward: 0.3 more around 70 % of the cycle, the same elsewhere (plus noise)
    backward = forward + bump(70, width=6, height=0.3) + rng.normal(0, 0.02, (n, 101))
    rows = stats.spm_paired(forward, backward, alpha=0.05, condition_a="forward", condition_b="backward")
    assert len(rows) == 1
    cluster = rows[0]
    assert 55 < cluster["start_pct"] < 65 and 75 < cluster["end_pct"] < 85
    assert cluster["p_upper_bound"] < 0.05 and cluster["direction"] == "backward > forward"


def test_spm_without_a_difference_reports_no_cluster():
    rng = np.random.default_rng(5)
    forward = np.array([bump(30) + rng.normal(0, 0.05, 101) for _ in range(8)])
    backward = forward + rng.normal(0, 0.05, (8, 101))
    rows = stats.spm_paired(forward, backward, alpha=0.05)
    assert len(rows) == 1 and np.isnan(rows[0]["cluster"]) and "no supra-threshold cluster" in rows[0]["note"]


def test_spm_on_differences_flat_in_every_subject_says_where_instead_of_failing():
    # both conditions at the activation floor (0 after the floor is taken off) in every
    # subject over 40-50 % of the cycle: the differences have no variance there
    rng = np.random.default_rng(6)
    forward = np.array([bump(30) + rng.normal(0, 0.05, 101) for _ in range(8)])
    backward = forward + rng.normal(0, 0.05, (8, 101))
    forward[:, 40:51] = backward[:, 40:51] = 0.0
    rows = stats.spm_paired(forward, backward, alpha=0.05)
    assert len(rows) == 1 and np.isnan(rows[0]["cluster"])
    assert "paired differences are the same in every subject" in rows[0]["note"] and "40-50 %" in rows[0]["note"]


def test_spm_with_too_few_subjects_says_why():
    rows = stats.spm_paired(
        np.zeros((2, 101)), np.ones((2, 101)), min_subjects=3, condition_a="forward", condition_b="backward"
    )
    assert rows[0]["n_subjects"] == 2 and "need at least 3" in rows[0]["note"]


def test_spm_table_pairs_subjects_by_name():
    rows = []
    for k in range(5):
        for condition, shift in (("forward", 0.0), ("backward", 0.5)):
            for pct, value in zip(PERCENT, bump(50) + shift + 0.01 * k * (1 if condition == "forward" else -1)):
                rows.append(
                    {
                        "subject": f"s{k}",
                        "condition": condition,
                        "variable": "quadriceps_activation",
                        "pct": pct,
                        "value": value,
                        "n_cycles": 2,
                    }
                )
    table = analysis.spm_table(
        pd.DataFrame(rows),
        variables=["quadriceps_activation"],
        compare=["forward", "backward"],
        alpha=0.05,
        min_subjects=3,
    )
    assert (table["n_subjects"] == 5).all()
    assert table["start_pct"].iloc[0] == pytest.approx(0.0) and table["end_pct"].iloc[0] == pytest.approx(100.0)


# ------------------------------------------- primary outcomes, multiplicity, CI level (issue 9)


def test_holm_adjusts_within_each_family_and_matches_the_textbook_steps():
    # Holm 1979: sorted p 0.01, 0.02, 0.03 with m = 3 -> 0.03, 0.04, 0.04 (monotone)
    np.testing.assert_allclose(stats.holm([0.03, 0.01, 0.02, np.nan]), [0.04, 0.03, 0.04, np.nan])
    subjects = analysis.subject_means(
        pd.concat(
            [
                constructed_subjects(),
                constructed_subjects().assign(group="hamstrings"),
                constructed_subjects().assign(group="knee", metric="peak_extension_moment_nm_per_kg"),
            ]
        )
    )
    table = analysis.comparison(
        subjects,
        compare=["forward", "backward"],
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["knee.peak_extension_moment_nm_per_kg", "quadriceps.mean_stance"],
    )
    assert list(table["family"]) == ["primary", "primary", "secondary"]
    assert list(table["group"]) == ["knee", "quadriceps", "hamstrings"]  # primary first, in config order
    primary = table[table["family"] == "primary"]
    np.testing.assert_allclose(primary["p_holm"], stats.holm(primary["t_test_p"]))
    assert table.iloc[2]["p_holm"] == pytest.approx(table.iloc[2]["t_test_p"])  # a family of one


def test_the_confidence_interval_follows_alpha():
    subjects = analysis.subject_means(constructed_subjects())
    row = analysis.comparison(subjects, compare=["forward", "backward"], min_cycles=1, min_subjects=3, alpha=0.01).iloc[
        0
    ]
    sd = np.std(DIFFERENCES, ddof=1)
    assert row["ci_level"] == pytest.approx(0.99)
    assert row["difference_ci_high"] - 0.10 == pytest.approx(sps.t.ppf(0.995, 5) * sd / np.sqrt(6))
    assert row["difference_ci95_high"] - 0.10 == pytest.approx(sps.t.ppf(0.975, 5) * sd / np.sqrt(6))


def test_an_unreachable_wilcoxon_p_is_not_printed_but_explained():
    assert stats.wilcoxon_min_subjects(0.05) == 6 and stats.wilcoxon_min_subjects(0.01) == 8
    five = stats.paired_comparison([1.0, 2, 3, 4, 5], [1.5, 2.6, 3.4, 4.7, 5.5], alpha=0.05)
    assert np.isnan(five["wilcoxon_p"]) and np.isfinite(five["t_test_p"])
    assert "Wilcoxon not reported" in five["note"] and "0.0625" in five["note"] and "6" in five["note"]


def test_ratios_are_compared_as_a_ratio_of_geometric_means():
    forward = np.array([2.0, 4.0, 1.0, 3.0, 2.5, 1.5])
    backward = forward * np.array([1.5, 1.4, 1.6, 1.5, 1.45, 1.55])
    out = stats.paired_comparison(forward, backward, log_scale=True, alpha=0.05)
    logs = np.log(backward / forward)
    assert out["scale"] == "log"
    assert out["mean_a"] == pytest.approx(np.exp(np.mean(np.log(forward))))  # geometric mean
    assert out["ratio_of_geometric_means"] == pytest.approx(np.exp(logs.mean()))
    half = sps.t.ppf(0.975, 5) * logs.std(ddof=1) / np.sqrt(6)
    assert out["ratio_ci_low"] == pytest.approx(np.exp(logs.mean() - half))
    assert out["t_test_p"] == pytest.approx(sps.ttest_rel(np.log(backward), np.log(forward)).pvalue)


def test_spm_p_below_resolution_is_a_bound_not_zero():
    assert stats.spm_p_fields(0.0) == {
        "p": pytest.approx(np.nan, nan_ok=True),
        "p_upper_bound": 0.001,
        "p_text": "<0.001",
    }
    assert stats.spm_p_fields(0.0213)["p_text"] == "0.021"


def test_the_subject_q_to_h_ratio_is_a_ratio_of_summed_activations():
    rows = []
    # two cycles: hamstrings almost silent in the first (0.002 above the floor), active in the second
    for cycle, (q, h) in enumerate(((0.2, 0.002), (0.2, 0.2))):
        values = {
            ("quadriceps", "integrated_stance_s"): q * 0.25,
            ("hamstrings", "integrated_stance_s"): h * 0.25,
            ("quadriceps", "integrated_s"): q * 0.25,
            ("hamstrings", "integrated_s"): h * 0.7,
            ("quadriceps_hamstrings", "ratio_mean_stance"): q / h,
            ("quadriceps_hamstrings", "ratio_mean_cycle"): q * 0.25 / (h * 0.7),
            ("cycle", "duration_s"): 0.7,
            ("cycle", "stance_pct"): 100 * 0.25 / 0.7,
        }
        rows += [
            {
                "subject": "s1",
                "condition": "forward",
                "trial": "t",
                "side": "r",
                "cycle": cycle,
                "group": g,
                "metric": m,
                "value": v,
            }
            for (g, m), v in values.items()
        ]
    subjects = analysis.subject_means(pd.DataFrame(rows)).set_index(["group", "metric"])
    # mean of per-cycle ratios would be (100 + 1) / 2 = 50.5; summed: 0.4 / 0.202
    assert subjects.loc[("quadriceps_hamstrings", "ratio_mean_stance"), "mean"] == pytest.approx(0.4 / 0.202)
    assert subjects.loc[("quadriceps_hamstrings", "ratio_mean_stance"), "n_cycles"] == 2
