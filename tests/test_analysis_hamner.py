"""End to end on the Hamner running trial (one subject, forward only): gait cycles, study
tables, figures and the Snakemake report. With one subject and one condition the
comparison and SPM tables must hold no p-values and say why."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import shared
from workflow_runner import ok, snakemake

from retrorun.formats import read_storage

pytestmark = pytest.mark.slow

TABLES = ["cycles.csv", "subjects.csv", "comparison.csv", "spm.csv", "cycle_counts.csv"]
FIGURES = ["group_activation", "qh_ratio", "knee_moment", "qc_overview"]


def complete_cycles(force_n, threshold_n):
    """Strike-to-strike cycles in the record, from sample runs above threshold
    (independent of retrorun.events: no interpolation, no cycle classification)."""
    above = force_n > threshold_n
    return max(int(np.count_nonzero(above[1:] & ~above[:-1])) - 1, 0)


@pytest.fixture(scope="module")
def hamner(hamner_one_cycle):
    workdir, config, overrides, results = hamner_one_cycle
    return workdir, (config, overrides), results


def test_tables_and_figures_are_written(hamner):
    _, _, results = hamner
    for name in TABLES:
        assert (results / "tables" / name).is_file(), name
    for name in FIGURES:
        png, svg = results / "figures" / f"{name}.png", results / "figures" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert b"<svg" in svg.read_bytes()[:2000], svg


def test_one_cycle_per_side_is_used_and_the_others_are_counted(hamner):
    _, _, results = hamner
    table, _ = read_storage(shared("hamner-run", "subject02_running_grf.mot"))
    # External_Loads.xml: ground_force_* on calcn_r, 1_ground_force_* on calcn_l
    complete = {
        side: complete_cycles(table[column].to_numpy(), 20.0)
        for side, column in (("r", "ground_force_vy"), ("l", "1_ground_force_vy"))
    }
    assert complete == {"r": 13, "l": 14}
    counts = pd.read_csv(results / "tables" / "cycle_counts.csv").set_index("side")
    assert {side: int(counts.loc[side, "n_used"]) for side in "rl"} == {"r": 1, "l": 1}
    # the complete cycles not chosen are counted, not lost: the left foot's first cycle
    # starts 4 frames after the recording, too near its edge (analysis.edge_margin_frames)
    assert {side: int(counts.loc[side, "n_near_edge"]) for side in "rl"} == {"r": 0, "l": 1}
    skipped = {side: int(counts.loc[side, "n_not_chosen"] + counts.loc[side, "n_near_edge"]) for side in "rl"}
    assert skipped == {s: n - 1 for s, n in complete.items()}
    cycles = pd.read_csv(results / "trials/subject02/run/cycles.csv")
    first = cycles[cycles["status"] == "used"].set_index("side")["start_s"]
    assert first["r"] == pytest.approx(0.390, abs=0.005) and first["l"] == pytest.approx(0.751, abs=0.005)


def test_cycle_metrics_are_plausible_for_forward_running(hamner):
    _, _, results = hamner
    cycles = pd.read_csv(results / "tables" / "cycles.csv")
    assert set(cycles["condition"]) == {"forward"}
    value = cycles.groupby(["group", "metric"])["value"].mean()  # over the two cycles (one per side)
    # plausibility: stance is about 35-40 % of the stride in forward running at 3-4 m/s
    assert 30 < value["cycle", "stance_pct"] < 45
    # Hamner et al. 2010: quadriceps work in early stance of forward running
    assert value["quadriceps", "peak_timing_pct"] < value["cycle", "stance_pct"]
    assert value["quadriceps", "mean_stance"] > value["quadriceps", "mean_swing"]
    # Roos et al. 2012: 157 ± 54 N·m forward (about 2.2 N·m/kg); this runner is faster
    assert 1.5 < value["knee", "peak_extension_moment_nm_per_kg"] < 5.0
    for metric in ("ratio_mean_cycle", "ratio_mean_stance", "cci_cycle_pct", "cci_stance_pct"):
        assert np.isfinite(value["quadriceps_hamstrings", metric])
    assert 0 < value["quadriceps_hamstrings", "cci_cycle_pct"] <= 100


def test_one_subject_one_condition_gives_no_p_values_and_says_why(hamner):
    _, _, results = hamner
    comparison = pd.read_csv(results / "tables" / "comparison.csv")
    # the example subject misses the Best-Practice marker and residual-moment thresholds
    # even after rra (its config says by how much), so the example keeps its one trial in
    # the statistics, flagged (analysis.qc_gate include): one forward subject, no pair
    qc = pd.read_csv(results / "qc.csv")
    assert not qc["pass"].iloc[0]
    for check in ("scale_marker_max", "ik_marker_max", "residual_moment_share"):
        assert check in qc["flags"].iloc[0], check
    # a treadmill trial without the sheet's speed_m_s has no speed (the pelvis stays put)
    speed = (comparison["group"] == "cycle") & (comparison["metric"] == "speed_m_s")
    assert (comparison["n_subjects"] == 0).all() and (comparison.loc[~speed, "n_subjects_a"] == 1).all()
    assert (comparison.loc[speed, "n_subjects_a"] == 0).all()
    front = (results / "report" / "front_page.rst").read_text()
    assert "1 trial ran: none passed every quality check" in front
    assert "(``analysis.qc_gate: include``) keeps the 1 trial that failed a check in the statistics" in front
    for column in ("t_test_p", "wilcoxon_p", "effect_size_dz", "difference_ci95_low"):
        assert comparison[column].isna().all(), column
    assert comparison["note"].str.contains("paired tests need at least 3").all()
    spm = pd.read_csv(results / "tables" / "spm.csv")
    assert spm["p"].isna().all() and spm["note"].str.contains("need at least 3").all()


def test_report_is_self_contained(hamner):
    workdir, (config, overrides), results = hamner
    report = results / "report.html"
    ok(snakemake(workdir, config, *overrides, "--report", str(report)))
    html = report.read_text()
    for name in FIGURES:
        assert re.search(rf"data:image/png[^,]*filename={name}\.png;base64,", html), name
    assert "comparison.csv" in html and "Quadriceps share Q/(Q+H) of stance activation" in html
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=\"https?://", html)  # nothing fetched from the web
