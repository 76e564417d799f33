"""The study's claims (config ``hypotheses``), each tested on an outcome of
``tables/comparison.csv`` with the analysis's own paired statistics, and given a verdict
(the claims behind the study).

A claim's expected direction names the compared conditions (``analysis.compare``), never
"forward"/"backward" as such: ``backward > forward`` (a difference), ``backward < 0.5``
(a level, e.g. a share: the condition's subject values against the constant, by the same
paired test with the constant as the other member of each pair, i.e. a one-sample test).

Verdict rule (``RULE``): with the Holm-adjusted p below ``alpha`` the claim is
``supported`` when the estimate has the expected sign and ``contradicted`` when it has
the opposite one; otherwise (not significant, too few subjects, no value) it is
``inconclusive``. Holm runs within the hypotheses' own families (primary, secondary) and
within each source (docs/development/tables.md), so adding a claim never changes an
outcome's p in comparison.csv and an EMG answer never changes an SO one.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import stats
from .errors import ConfigError

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
RULE = (
    "supported: Holm-adjusted p < alpha and the estimate in the expected direction; contradicted: Holm-adjusted "
    "p < alpha and the opposite direction; otherwise inconclusive"
)
PRIMARY, SECONDARY = "primary", "secondary"
COLUMNS = [
    "source",
    "id",
    "claim",
    "measure",
    "expected",
    "family",
    "kind",
    "condition_a",
    "condition_b",
    "n_subjects",
    "mean_a",
    "mean_b",
    "estimate",
    "estimate_scale",
    "ci_low",
    "ci_high",
    "ci_level",
    "test",
    "p",
    "p_holm",
    "observed",
    "verdict",
    "rule",
    "note",
]

_EXPECTED = re.compile(r"^\s*(?P<left>[A-Za-z0-9_.\-]+)\s*(?P<op>[<>])\s*(?P<right>[A-Za-z0-9_.\-]+)\s*$")


@dataclass(frozen=True)
class Expected:
    """A parsed expected direction. ``kind`` ``difference``: the sign (+1/-1) expected of
    ``compare[1] - compare[0]``; ``level``: ``condition``'s value against ``threshold``,
    expected above (+1) or below (-1)."""

    kind: str
    sign: int
    condition: str = ""
    threshold: float = float("nan")


def parse_expected(text: str, compare: list[str]) -> Expected:
    """``"<cond> > <cond>"``, ``"<cond> < <cond>"`` (the two conditions of
    ``analysis.compare``, either order) or ``"<cond> > <number>"`` / ``<``. ValueError
    says what is allowed."""
    first, second = compare
    allowed = f"'{second} > {first}', '{second} < {first}' or '{second} > 0.5' (a level, e.g. a share)"
    match = _EXPECTED.match(str(text))
    if not match:
        raise ValueError(f"expected '{text}' is not of the form {allowed}")
    left, op, right = match["left"], match["op"], match["right"]
    greater = 1 if op == ">" else -1
    if {left, right} == {first, second} and left != right:
        return Expected("difference", greater if left == second else -greater)
    if left in compare:
        try:
            threshold = float(right)
        except ValueError:
            raise ValueError(
                f"expected '{text}': '{right}' is neither the other compared condition nor a number ({allowed})"
            ) from None
        return Expected("level", greater, condition=left, threshold=threshold)
    raise ValueError(f"expected '{text}' names no compared condition ({', '.join(compare)}): write {allowed}")


def closest(name: str, known) -> str:
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.0)
    return match[0] if match else ""


def check(hypotheses: list[dict], *, known_measures, compare: list[str], source: str) -> None:
    """Before any job: unique ids, a measure the comparison has (else the closest known
    name), an expected direction that parses against ``compare``."""
    problems, seen = [], set()
    for k, hypothesis in enumerate(hypotheses):
        where = f"hypotheses[{k}] ({hypothesis.get('id', '?')})"
        if hypothesis["id"] in seen:
            problems.append(f"{where}: id '{hypothesis['id']}' is used twice")
        seen.add(hypothesis["id"])
        if hypothesis["measure"] not in known_measures:
            problems.append(
                f"{where}: measure '{hypothesis['measure']}' is no outcome of tables/comparison.csv; "
                f"did you mean '{closest(hypothesis['measure'], known_measures)}'?"
            )
        try:
            parse_expected(hypothesis["expected"], compare)
        except ValueError as err:
            problems.append(f"{where}: {err}")
    if problems:
        raise ConfigError(
            f"{source}: " + "; ".join(problems),
            fix="name a group.metric from config/README.md (analysis, chains) and an expected direction "
            "over the conditions of analysis.compare",
        )


def verdict(estimate: float, p_holm: float, *, expected_sign: int, alpha: float) -> tuple[str, str]:
    """(observed direction, verdict) by ``RULE``. ``estimate`` is on the scale whose
    sign is the direction (a difference, a log ratio, or a level minus its threshold)."""
    if not np.isfinite(estimate):
        return "", INCONCLUSIVE
    observed = "higher" if estimate > 0 else "lower" if estimate < 0 else "equal"
    if not (np.isfinite(p_holm) and p_holm < alpha) or estimate == 0:
        return observed, INCONCLUSIVE
    return observed, SUPPORTED if np.sign(estimate) == expected_sign else CONTRADICTED


def _difference_row(row: pd.Series) -> dict:
    log_scale = row.get("scale") == "log"
    if log_scale:  # ratios: the ratio of geometric means and its CI; its direction is that of the log
        estimate, low, high = row["ratio_of_geometric_means"], row["ratio_ci_low"], row["ratio_ci_high"]
        signed = row["difference_mean"]
    else:
        estimate, low, high = row["difference_mean"], row["difference_ci_low"], row["difference_ci_high"]
        signed = estimate
    return {
        "n_subjects": row["n_subjects"],
        "mean_a": row["mean_a"],
        "mean_b": row["mean_b"],
        "estimate": estimate,
        "estimate_scale": "ratio_b_over_a" if log_scale else "difference_b_minus_a",
        "ci_low": low,
        "ci_high": high,
        "ci_level": row["ci_level"],
        "test": row["test"],
        "p": row["p"],
        "_signed": signed,
        "note": row.get("note", "") if isinstance(row.get("note", ""), str) else "",
    }


def _level_row(values: pd.Series, expected: Expected, *, alpha: float, min_subjects: int, test: str) -> dict:
    """One condition's subject values against a constant: the analysis's paired test
    with the constant as each pair's other member (a one-sample t or Wilcoxon test)."""
    values = values.dropna()
    threshold = np.full(len(values), expected.threshold)
    result = stats.paired_comparison(
        threshold,
        values.to_numpy(dtype=float),
        min_subjects=min_subjects,
        condition_a=str(expected.threshold),
        condition_b=expected.condition,
        alpha=alpha,
        test=test,
    )
    return {
        "n_subjects": result["n_subjects"],
        "mean_a": expected.threshold,
        "mean_b": result["mean_b"],
        "estimate": result["difference_mean"],
        "estimate_scale": f"{expected.condition}_minus_{expected.threshold:g}",
        "ci_low": result["difference_ci_low"],
        "ci_high": result["difference_ci_high"],
        "ci_level": result["ci_level"],
        "test": test,
        "p": result["p"],
        "_signed": result["difference_mean"],
        "note": _level_note(result, expected, n=len(values), min_subjects=min_subjects),
    }


def _level_note(result: dict, expected: Expected, *, n: int, min_subjects: int) -> str:
    # a level is one condition against a constant: no pair of conditions to name
    if n >= min_subjects:
        return result["note"]
    return (
        f"{n} subject(s) with '{expected.condition}': a test against {expected.threshold:g} needs at least "
        f"{min_subjects} (analysis.min_subjects), so no test is run (no p-value, confidence interval or effect size)"
    )


def hypotheses_table(
    hypotheses: list[dict],
    comparison: pd.DataFrame,
    subjects: pd.DataFrame,
    *,
    compare: list[str],
    alpha: float,
    min_subjects: int,
    min_cycles: int,
    test: str,
) -> pd.DataFrame:
    """One row per hypothesis and source (the sources comparison.csv has for its measure):
    the comparison's numbers for a difference claim, a one-sample test of ``subjects``
    (tables/subjects.csv) for a level claim, Holm within (source, family) of the
    hypotheses, and the verdict."""
    rows = []
    for hypothesis in hypotheses:
        expected = parse_expected(hypothesis["expected"], compare)
        group, metric = hypothesis["measure"].split(".", 1)
        family = PRIMARY if hypothesis.get("primary", False) else SECONDARY
        own = comparison[(comparison["group"] == group) & (comparison["metric"] == metric)]
        sources = list(dict.fromkeys(own["source"])) if "source" in own else ["so"]
        for source in sources or ["so"]:
            base = {
                "source": source,
                "id": hypothesis["id"],
                "claim": hypothesis["claim"],
                "measure": hypothesis["measure"],
                "expected": hypothesis["expected"],
                "family": family,
                "kind": expected.kind,
                "condition_a": compare[0],
                "condition_b": compare[1],
                "_expected_sign": expected.sign,
            }
            if expected.kind == "difference":
                found = own[own["source"] == source] if "source" in own else own
                if found.empty:
                    rows.append(base | {"_signed": np.nan, "note": "the measure has no row in comparison.csv"})
                    continue
                rows.append(base | _difference_row(found.iloc[0]))
            else:
                mine = subjects[
                    (subjects.get("source", source) == source)
                    & (subjects["group"] == group)
                    & (subjects["metric"] == metric)
                    & (subjects["condition"] == expected.condition)
                    & (subjects["n_cycles"] >= min_cycles)
                ]
                rows.append(
                    base
                    | {"condition_a": "", "condition_b": expected.condition}
                    | _level_row(mine["mean"], expected, alpha=alpha, min_subjects=min_subjects, test=test)
                )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.DataFrame(rows)
    table["p_holm"] = np.nan
    for _, members in table.groupby(["source", "family"]).groups.items():
        table.loc[members, "p_holm"] = stats.holm(table.loc[members, "p"].astype(float))
    decided = [
        verdict(float(signed), float(p_holm), expected_sign=int(sign), alpha=alpha)
        for signed, p_holm, sign in zip(table["_signed"], table["p_holm"], table["_expected_sign"])
    ]
    table["observed"] = [observed for observed, _ in decided]
    table["verdict"] = [v for _, v in decided]
    table["rule"] = RULE.replace("alpha", f"alpha {alpha:g}")
    return table.reindex(columns=COLUMNS)
