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
                rows.append({"subject": f"s{k}", "condition": condition, "trial": f"{condition}_1", "side": "r",
                             "cycle": cycle, "group": "quadriceps_hamstrings", "metric": "ratio_mean_cycle",
                             "value": value + wobble})
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
    table = analysis.comparison(analysis.subject_means(one), compare=["forward", "backward"], min_cycles=1,
                                min_subjects=3)
    row = table.iloc[0]
    assert row["n_subjects"] == 2
    assert np.isnan(row["t_test_p"]) and np.isnan(row["wilcoxon_p"]) and np.isnan(row["difference_ci95_low"])
    assert "need at least 3" in row["note"]
    only_forward = one[one["condition"] == "forward"]
    row = analysis.comparison(analysis.subject_means(only_forward), compare=["forward", "backward"], min_cycles=1,
                              min_subjects=3).iloc[0]
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
    assert cluster["p"] < 0.05 and cluster["direction"] == "backward > forward"


def test_spm_without_a_difference_reports_no_cluster():
    rng = np.random.default_rng(5)
    forward = np.array([bump(30) + rng.normal(0, 0.05, 101) for _ in range(8)])
    backward = forward + rng.normal(0, 0.05, (8, 101))
    rows = stats.spm_paired(forward, backward, alpha=0.05)
    assert len(rows) == 1 and np.isnan(rows[0]["cluster"]) and "no supra-threshold cluster" in rows[0]["note"]


def test_spm_with_too_few_subjects_says_why():
    rows = stats.spm_paired(np.zeros((2, 101)), np.ones((2, 101)), min_subjects=3, condition_a="forward",
                            condition_b="backward")
    assert rows[0]["n_subjects"] == 2 and "need at least 3" in rows[0]["note"]


def test_spm_table_pairs_subjects_by_name():
    rows = []
    for k in range(5):
        for condition, shift in (("forward", 0.0), ("backward", 0.5)):
            for pct, value in zip(PERCENT, bump(50) + shift + 0.01 * k * (1 if condition == "forward" else -1)):
                rows.append({"subject": f"s{k}", "condition": condition, "variable": "quadriceps_activation",
                             "pct": pct, "value": value, "n_cycles": 2})
    table = analysis.spm_table(pd.DataFrame(rows), variables=["quadriceps_activation"], compare=["forward", "backward"],
                               alpha=0.05, min_subjects=3)
    assert (table["n_subjects"] == 5).all()
    assert table["start_pct"].iloc[0] == pytest.approx(0.0) and table["end_pct"].iloc[0] == pytest.approx(100.0)
