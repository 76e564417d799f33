"""Paired statistics between two conditions, one value (or curve) per subject each.

Scalars: mean and SD per condition, paired difference (second minus first) with its
confidence interval at 1 - alpha (and at 95 %, t distribution), paired t-test, Wilcoxon
signed-rank test and Cohen's dz (mean difference / SD of differences; Lakens 2013, Front
Psychol 4:863). Ratios are compared on the log scale (``log_scale``): the tests run on
log values and the result is the ratio of geometric means with its CI.
One of the two tests is the primary one (``test``, config ``analysis.test``): its p is
``p``; the other one's p stays beside it, unadjusted, for information.
Multiplicity: Holm's step-down adjustment (Holm 1979, Scand J Stat 6:65-70) of the
primary test's p, applied separately to the primary and the secondary family of outcomes.
Curves: SPM paired t-test (spm1d; Pataky 2012) as a one-sample test of the paired
differences, supra-threshold clusters as % cycle (or % stance).
Below ``min_subjects`` no test is run and ``note`` says why.
"""

from __future__ import annotations

import numpy as np

COMPARISON_COLUMNS = [
    "n_subjects",
    "mean_a",
    "sd_a",
    "mean_b",
    "sd_b",
    "difference_mean",
    "difference_sd",
    "difference_ci95_low",
    "difference_ci95_high",
    "test",
    "p",
    "t_statistic",
    "t_test_p",
    "wilcoxon_p",
    "effect_size_dz",
    "scale",
    "ci_level",
    "difference_ci_low",
    "difference_ci_high",
    "ratio_of_geometric_means",
    "ratio_ci_low",
    "ratio_ci_high",
    "note",
]


def wilcoxon_min_subjects(alpha: float) -> int:
    """Smallest n at which the exact two-sided Wilcoxon signed-rank test can reach ``alpha``:
    its smallest p, every difference of one sign, is 2 / 2**n."""
    n = 1
    while 2.0 / 2**n > alpha:
        n += 1
    return n


TESTS = {"t": "t_test_p", "wilcoxon": "wilcoxon_p"}  # analysis.test -> its p column


def wilcoxon_family_note(n: int, *, alpha: float, family_size: int, family: str = "") -> str:
    """Why the exact Wilcoxon cannot give a Holm-adjusted p below ``alpha`` with ``n``
    subjects in a family of ``family_size`` outcomes ("" when it can): Holm compares the
    smallest p of the family with alpha / m, and the exact test's smallest p is 2 / 2**n."""
    needed = wilcoxon_min_subjects(alpha / max(family_size, 1))
    if n >= needed:
        return ""
    return (
        f"with {n} subjects the exact Wilcoxon's smallest two-sided p is {2.0 / 2**n:.3g}, and Holm over the "
        f"{family_size} {family + ' ' if family else ''}outcome(s) needs p <= alpha/m = {alpha / family_size:.3g}: "
        f"no Holm-adjusted p can reach alpha {alpha:g} below {needed} subjects"
    )


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count in the family)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m, running = len(order), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out


def too_few_note(n: int, *, min_subjects: int, condition_a: str, condition_b: str) -> str:
    return (
        f"{n} subject(s) with both '{condition_a}' and '{condition_b}': paired tests need at least "
        f"{min_subjects} (analysis.min_subjects), so no test is run (no p-value, confidence interval or effect size)"
    )


def paired_comparison(
    a,
    b,
    *,
    min_subjects: int = 3,
    condition_a: str = "a",
    condition_b: str = "b",
    alpha: float = 0.05,
    log_scale: bool = False,
    test: str = "t",
) -> dict:
    """Compare paired samples ``a`` and ``b`` (one value per subject, same order).

    ``test`` (``t`` or ``wilcoxon``) is the primary test: ``p`` is its p. The exact
    Wilcoxon is computed whenever it is primary; as the other test, only from the n at
    which it can reach ``alpha`` (else ``note`` says why it is empty).

    ``log_scale`` (for ratios): every statistic is of the natural logs, ``mean_a`` and
    ``mean_b`` are geometric means, and ``ratio_of_geometric_means`` (b over a) with its
    CI at 1 - alpha is the result to read; subjects with a ratio not > 0 are left out."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D and paired (same length), got {a.shape} and {b.shape}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {sorted(TESTS)}, got {test!r}")
    if min_subjects < 3:
        raise ValueError(f"min_subjects must be >= 3 (an SD of differences needs 2, a test more), got {min_subjects}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    keep = np.isfinite(a) & np.isfinite(b)
    notes = []
    if log_scale:
        positive = keep & (a > 0) & (b > 0)
        if (keep & ~positive).any():
            notes.append(f"{int((keep & ~positive).sum())} subject(s) with a ratio of 0 left out of the log-scale test")
        keep = positive
    a, b = a[keep], b[keep]
    if log_scale:
        a, b = np.log(a), np.log(b)
    n = int(a.size)
    d = b - a
    out = dict.fromkeys(COMPARISON_COLUMNS, np.nan)
    out.update(n_subjects=n, note="", scale="log" if log_scale else "linear", ci_level=1.0 - alpha, test=test)
    if n:
        out.update(
            mean_a=np.exp(a.mean()) if log_scale else a.mean(),
            mean_b=np.exp(b.mean()) if log_scale else b.mean(),
            difference_mean=d.mean(),
        )
        if log_scale:
            out["ratio_of_geometric_means"] = float(np.exp(d.mean()))
    if n >= 2:
        out.update(sd_a=a.std(ddof=1), sd_b=b.std(ddof=1), difference_sd=d.std(ddof=1))
    if n < min_subjects:
        out["note"] = "; ".join(
            notes + [too_few_note(n, min_subjects=min_subjects, condition_a=condition_a, condition_b=condition_b)]
        )
        return out
    # imported here: scipy.stats takes about 0.3 s to import, and planning imports this
    # module (config.outcome_names -> analysis) in every Snakemake process, cluster jobs too
    from scipy import stats as sps

    sd = d.std(ddof=1)
    for level, low, high in (
        (0.95, "difference_ci95_low", "difference_ci95_high"),
        (1.0 - alpha, "difference_ci_low", "difference_ci_high"),
    ):
        half = sps.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)
        out.update({low: d.mean() - half, high: d.mean() + half})
    if log_scale:
        out.update(
            ratio_ci_low=float(np.exp(out["difference_ci_low"])), ratio_ci_high=float(np.exp(out["difference_ci_high"]))
        )
    if sd == 0:
        out["note"] = "; ".join(notes + ["every subject has the same difference: no test (zero variance)"])
        return out
    t_test = sps.ttest_rel(b, a)
    out.update(t_statistic=float(t_test.statistic), t_test_p=float(t_test.pvalue), effect_size_dz=d.mean() / sd)
    reachable = wilcoxon_min_subjects(alpha)
    if n < reachable and test != "wilcoxon":
        notes.append(
            f"Wilcoxon not reported: with {n} subjects its smallest exact two-sided p is {2.0 / 2**n:.3g}, "
            f"above alpha {alpha:g} (it needs at least {reachable})"
        )
    elif np.any(d != 0):
        out["wilcoxon_p"] = float(sps.wilcoxon(b, a).pvalue)
    out["p"] = out[TESTS[test]]
    out["note"] = "; ".join(notes)
    return out


SPM_COLUMNS = [
    "n_subjects",
    "cluster",
    "start_pct",
    "end_pct",
    "direction",
    "p",
    "t_critical",
    "p_upper_bound",
    "p_text",
    "note",
]
# spm1d's cluster p comes from random field theory and is written as 0 when it falls
# below its numerical resolution; below this it is reported as a bound, never as 0
SPM_P_RESOLUTION = 0.001


def spm_p_fields(p: float) -> dict:
    """``p`` (NaN below the resolution), ``p_upper_bound`` and ``p_text`` of one cluster."""
    if p < SPM_P_RESOLUTION:
        return {"p": np.nan, "p_upper_bound": SPM_P_RESOLUTION, "p_text": f"<{SPM_P_RESOLUTION:g}"}
    return {"p": p, "p_upper_bound": p, "p_text": f"{p:.3f}"}


def _pct_ranges(values) -> str:
    """Sorted percentages as runs, e.g. '36-39, 43-54'."""
    values = np.sort(np.asarray(values, dtype=float))
    step = np.min(np.diff(values)) if values.size > 1 else 1.0
    runs, start = [], values[0]
    for previous, current in zip(values[:-1], values[1:]):
        if current - previous > 1.5 * step:
            runs.append((start, previous))
            start = current
    runs.append((start, values[-1]))
    return ", ".join(f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}" for lo, hi in runs)


def spm_paired(
    curves_a,
    curves_b,
    *,
    alpha: float = 0.05,
    min_subjects: int = 3,
    condition_a: str = "a",
    condition_b: str = "b",
    pct=None,
    phase: str = "cycle",
) -> list[dict]:
    """SPM paired t-test (two-tailed) of ``curves_b`` against ``curves_a``, each
    (subjects, points): a one-sample t-test of the differences b - a, so it needs
    variance in the differences only. One dict per supra-threshold cluster; one row with
    an empty cluster and a note when there is none or the test cannot run. ``phase``
    (cycle or stance) names what ``pct`` is a percentage of, in notes."""
    a, b = np.asarray(curves_a, dtype=float), np.asarray(curves_b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"curves must be paired 2-D arrays (subjects, points), got {a.shape} and {b.shape}")
    keep = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    a, b = a[keep], b[keep]
    n = int(a.shape[0])
    pct = np.linspace(0.0, 100.0, a.shape[1]) if pct is None else np.asarray(pct, dtype=float)
    empty = {
        "n_subjects": n,
        "cluster": np.nan,
        "start_pct": np.nan,
        "end_pct": np.nan,
        "direction": "",
        "p": np.nan,
        "t_critical": np.nan,
        "p_upper_bound": np.nan,
        "p_text": "",
    }
    if n < min_subjects:
        return [
            empty
            | {"note": too_few_note(n, min_subjects=min_subjects, condition_a=condition_a, condition_b=condition_b)}
        ]
    # a paired test needs variance only in the differences: one condition identical in
    # every subject somewhere (e.g. a group at its activation floor) is no obstacle
    differences = b - a
    flat = differences.std(axis=0, ddof=1) == 0
    if flat.all():
        return [empty | {"note": "the paired differences have no variance: SPM cannot run"}]
    if flat.any():
        return [
            empty
            | {
                "note": "SPM cannot run: the paired differences are the same in every subject (e.g. both "
                f"conditions at the activation floor) at {_pct_ranges(pct[flat])} % of the {phase}; "
                "see the scalar metrics"
            }
        ]
    import spm1d  # imported here: slow to import, and only this function needs it

    inference = spm1d.stats.ttest(differences, 0.0).inference(alpha, two_tailed=True)
    rows = []
    for k, cluster in enumerate(inference.clusters):
        first, last = cluster.endpoints
        rows.append(
            {
                "n_subjects": n,
                "cluster": k,
                "start_pct": float(np.interp(first, np.arange(pct.size), pct)),
                "end_pct": float(np.interp(last, np.arange(pct.size), pct)),
                "direction": f"{condition_b} > {condition_a}"
                if cluster.csign > 0
                else f"{condition_b} < {condition_a}",
                "t_critical": float(inference.zstar),
                "note": "",
            }
            | spm_p_fields(float(cluster.P))
        )
    if not rows:
        return [empty | {"t_critical": float(inference.zstar), "note": f"no supra-threshold cluster at alpha {alpha}"}]
    return rows
