"""Subject-mean curves (retrorun.analysis.mean_curves): the mean over each subject's
cycles per condition, variable and % cycle, worked out without a long table of every
trial's curves (at 1000 trials that table took analysis_tables past 1 GB)."""

import tracemalloc

import numpy as np
import pandas as pd

from retrorun import analysis

VARIABLES = ["quadriceps_activation", "hamstrings_activation", "knee_extension_moment_nm_per_kg", "knee_angle_deg"]


def trial_curves(n_trials, *, cycles=6, seed=0):
    """Curves of n_trials trials over 5 subjects: cycles per side, 101 points each, some
    values missing (a curve a cycle could not give) and some trials empty."""
    rng = np.random.default_rng(seed)
    pct = np.tile(np.arange(101), 2 * cycles)
    trials = []
    for index in range(n_trials):
        condition = ("forward", "backward")[index % 2]
        info = {"subject": f"s{index % 5:02d}", "trial": f"t{index:04d}", "condition": condition}
        if index % 17 == 16:
            trials.append((info, pd.DataFrame(columns=["side", "cycle", "pct", *VARIABLES])))
            continue
        table = pd.DataFrame(
            {
                "side": np.repeat(["r", "l"], 101 * cycles),
                "cycle": np.repeat(np.arange(2 * cycles), 101),
                "pct": pct,
                **{v: rng.normal(size=pct.size) for v in VARIABLES},
            }
        )
        table.loc[rng.random(len(table)) < 0.02, VARIABLES[1]] = np.nan
        trials.append((info, table))
    return trials


def long_table_means(trials):
    """The definition, by way of a long table of every value."""
    parts = [table.assign(subject=info["subject"], condition=info["condition"]) for info, table in trials if len(table)]
    longer = pd.concat(parts, ignore_index=True).melt(
        id_vars=["subject", "condition", "pct"], value_vars=VARIABLES, var_name="variable", value_name="value"
    )
    out = longer.groupby(["subject", "condition", "variable", "pct"])["value"].agg(value="mean", n_cycles="count")
    return out.reset_index()[["subject", "condition", "variable", "pct", "value", "n_cycles"]]


def test_the_means_are_those_of_the_long_table_exactly():
    trials = trial_curves(40)
    got = analysis.mean_curves(trials, variables=VARIABLES)
    pd.testing.assert_frame_equal(got, long_table_means(trials), check_exact=True)
    assert (got.loc[got["variable"] == VARIABLES[1], "n_cycles"] < got["n_cycles"].max()).any()  # NaN not counted


def test_no_trial_or_no_variable_gives_the_empty_table():
    assert analysis.mean_curves([], variables=VARIABLES).empty
    assert analysis.mean_curves(trial_curves(3), variables=[]).empty


def test_the_means_need_little_more_memory_than_the_curves_themselves():
    """Before, the long table (a row per value, with its subject, condition, trial, side and
    cycle) and its grouping took about 7 times the curves' own memory."""
    trials = trial_curves(200)
    curves_bytes = sum(table.memory_usage(deep=True).sum() for _, table in trials)
    tracemalloc.start()
    analysis.mean_curves(trials, variables=VARIABLES)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak_bytes < 3 * curves_bytes, f"{peak_bytes / 1e6:.0f} MB for {curves_bytes / 1e6:.0f} MB of curves"
