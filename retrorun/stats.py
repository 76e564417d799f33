"""Paired statistics between two conditions, one value (or curve) per subject each.

Scalars: mean and SD per condition, paired difference (second minus first) with its
95 % confidence interval (t distribution), paired t-test, Wilcoxon signed-rank test and
Cohen's dz (mean difference / SD of differences; Lakens 2013, Front Psychol 4:863).
Curves: SPM paired t-test (spm1d; Pataky 2012), supra-threshold clusters as % cycle.
Below ``min_subjects`` no test is run and ``note`` says why.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

COMPARISON_COLUMNS = ["n_subjects", "mean_a", "sd_a", "mean_b", "sd_b", "difference_mean", "difference_sd",
                      "difference_ci95_low", "difference_ci95_high", "t_statistic", "t_test_p", "wilcoxon_p",
                      "effect_size_dz", "note"]


def too_few_note(n: int, *, min_subjects: int, condition_a: str, condition_b: str) -> str:
    return (f"{n} subject(s) with both '{condition_a}' and '{condition_b}': paired tests need at least "
            f"{min_subjects} (analysis.min_subjects), so no test is run (no p-value, confidence interval or effect size)")


def paired_comparison(a, b, *, min_subjects: int = 3, condition_a: str = "a", condition_b: str = "b") -> dict:
    """Compare paired samples ``a`` and ``b`` (one value per subject, same order)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D and paired (same length), got {a.shape} and {b.shape}")
    if min_subjects < 3:
        raise ValueError(f"min_subjects must be >= 3 (an SD of differences needs 2, a test more), got {min_subjects}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    d = b - a
    out = dict.fromkeys(COMPARISON_COLUMNS, np.nan)
    out.update(n_subjects=n, note="")
    if n:
        out.update(mean_a=a.mean(), mean_b=b.mean(), difference_mean=d.mean())
    if n >= 2:
        out.update(sd_a=a.std(ddof=1), sd_b=b.std(ddof=1), difference_sd=d.std(ddof=1))
    if n < min_subjects:
        out["note"] = too_few_note(n, min_subjects=min_subjects, condition_a=condition_a, condition_b=condition_b)
        return out
    sd = d.std(ddof=1)
    half = sps.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    out.update(difference_ci95_low=d.mean() - half, difference_ci95_high=d.mean() + half)
    if sd == 0:
        out["note"] = "every subject has the same difference: no test (zero variance)"
        return out
    test = sps.ttest_rel(b, a)
    out.update(t_statistic=float(test.statistic), t_test_p=float(test.pvalue), effect_size_dz=d.mean() / sd)
    if np.any(d != 0):
        out["wilcoxon_p"] = float(sps.wilcoxon(b, a).pvalue)
    return out


SPM_COLUMNS = ["n_subjects", "cluster", "start_pct", "end_pct", "direction", "p", "t_critical", "note"]


def spm_paired(curves_a, curves_b, *, alpha: float = 0.05, min_subjects: int = 3, condition_a: str = "a",
               condition_b: str = "b", pct=None) -> list[dict]:
    """SPM paired t-test (two-tailed) of ``curves_b`` against ``curves_a``, each
    (subjects, points). One dict per supra-threshold cluster; one row with an empty
    cluster and a note when there is none or the test cannot run."""
    a, b = np.asarray(curves_a, dtype=float), np.asarray(curves_b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"curves must be paired 2-D arrays (subjects, points), got {a.shape} and {b.shape}")
    keep = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    a, b = a[keep], b[keep]
    n = int(a.shape[0])
    pct = np.linspace(0.0, 100.0, a.shape[1]) if pct is None else np.asarray(pct, dtype=float)
    empty = {"n_subjects": n, "cluster": np.nan, "start_pct": np.nan, "end_pct": np.nan, "direction": "",
             "p": np.nan, "t_critical": np.nan}
    if n < min_subjects:
        return [empty | {"note": too_few_note(n, min_subjects=min_subjects, condition_a=condition_a, condition_b=condition_b)}]
    if np.allclose((b - a).std(axis=0, ddof=1), 0):
        return [empty | {"note": "the paired differences have no variance: SPM cannot run"}]
    import spm1d  # imported here: slow to import, and only this function needs it

    inference = spm1d.stats.ttest_paired(b, a).inference(alpha, two_tailed=True)
    rows = []
    for k, cluster in enumerate(inference.clusters):
        first, last = cluster.endpoints
        rows.append({"n_subjects": n, "cluster": k, "start_pct": float(np.interp(first, np.arange(pct.size), pct)),
                     "end_pct": float(np.interp(last, np.arange(pct.size), pct)),
                     "direction": f"{condition_b} > {condition_a}" if cluster.csign > 0 else f"{condition_b} < {condition_a}",
                     "p": float(cluster.P), "t_critical": float(inference.zstar), "note": ""})
    if not rows:
        return [empty | {"t_critical": float(inference.zstar), "note": f"no supra-threshold cluster at alpha {alpha}"}]
    return rows
