"""The built-in demo, end to end: `snakemake --cores 2` with config/config.yaml.

retrorun builds its own planar model, generates a synthetic forward/backward running
study with known truth, runs scaling, IK, ID and SO on it, and compares the results
with that truth (issue 3, acceptance 1 and 2). Needs nothing outside the repository.
"""
import time

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from retrorun import synthetic
from workflow_runner import ok, planned_jobs, snakemake

pytestmark = pytest.mark.slow

CONFIG = REPO / "config" / "config.yaml"
N_SUBJECTS = 4  # config/config.yaml synthetic.n_subjects


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    result = snakemake(workdir, CONFIG)
    wall_s = time.monotonic() - started
    ok(result)
    return workdir / "results" / "demo", wall_s, workdir


def test_demo_finishes_within_ten_minutes_on_two_cores(demo):
    _, wall_s, _ = demo
    assert wall_s < 600, f"the demo took {wall_s:.0f} s"


def test_pipeline_recovers_the_ground_truth(demo):
    results, _, _ = demo
    table = pd.read_csv(results / "validation" / "ground_truth.csv")
    assert set(table["check"]) == {"segment_length_error", "ik_rms_error", "root_residual_force"}
    assert table["subject"].nunique() == N_SUBJECTS
    ik = table[table["check"] == "ik_rms_error"]
    # every joint coordinate of every trial: IK RMS error <= 2 degrees
    assert len(ik) >= N_SUBJECTS * 2 * 7
    assert (ik["value"] <= 2.0).all(), ik[ik["value"] > 2.0]
    lengths = table[table["check"] == "segment_length_error"]
    assert (lengths["value"] <= 3.0).all(), lengths[lengths["value"] > 3.0]
    residual = table[table["check"] == "root_residual_force"]
    assert len(residual) == N_SUBJECTS * 2
    assert (residual["value"] <= 5.0).all(), residual[residual["value"] > 5.0]
    assert table["pass"].all()


def test_every_trial_has_quality_checks_and_activations(demo):
    results, _, _ = demo
    qc = pd.read_csv(results / "qc.csv")
    assert len(qc) == N_SUBJECTS * 2
    assert set(qc["condition"]) == {"forward", "backward"}
    assert (qc["status"] == "done").all()
    assert (qc["ik_marker_rms_m"] < 0.02).all()
    for row in qc.itertuples():
        activations = pd.read_csv(results / "trials" / row.subject / row.trial / "so_activations.csv")
        assert not activations.isna().any().any()
        assert {"vas_lat_r", "semimem_l", "rect_fem_r"} <= set(activations.columns)


def test_processed_forward_and_backward_trials_differ_as_published(demo):
    """On the pipeline's own filtered GRF: backward running has a higher step frequency,
    shorter contact and longer flight (Cavagna et al. 2012) and its centre of pressure
    travels toe to heel (forefoot contact, Threlkeld et al. 1989)."""
    results, _, _ = demo
    qc = pd.read_csv(results / "qc.csv")
    timing = {}
    for row in qc.itertuples():
        grf = pd.read_csv(results / "trials" / row.subject / row.trial / "grf.csv")
        timing[(row.subject, row.condition)] = synthetic.timing_summary(grf, threshold_n=20.0)
    for subject in qc["subject"].unique():
        fwd, bwd = timing[(subject, "forward")], timing[(subject, "backward")]
        assert bwd["step_frequency_hz"] > fwd["step_frequency_hz"]
        assert bwd["contact_time_s"] < fwd["contact_time_s"]
        assert bwd["flight_time_s"] > fwd["flight_time_s"]
        assert fwd["cop_travel_m"] > 0 > bwd["cop_travel_m"]


def test_second_run_does_nothing(demo):
    _, _, workdir = demo
    again = snakemake(workdir, CONFIG, "-n")
    ok(again)
    assert planned_jobs(again) == {}, again.stdout[-3000:]


def test_analysis_tables_and_figures_cover_every_subject(demo):
    results, _, _ = demo
    tables = results / "tables"
    for name in ("cycles.csv", "subjects.csv", "comparison.csv", "spm.csv", "cycle_counts.csv"):
        assert (tables / name).is_file(), name
    comparison = pd.read_csv(tables / "comparison.csv")
    assert set(comparison["condition_a"]) == {"forward"} and set(comparison["condition_b"]) == {"backward"}
    assert (comparison["n_subjects"] == N_SUBJECTS).all()
    ratio = comparison[(comparison["group"] == "quadriceps_hamstrings")]
    assert len(ratio) and ratio["t_test_p"].between(0, 1).all() and ratio["wilcoxon_p"].between(0, 1).all()
    cycles = pd.read_csv(tables / "cycles.csv")
    used = cycles.groupby(["subject", "condition"])["cycle"].nunique()
    assert len(used) == N_SUBJECTS * 2 and (used >= 1).all()
    for name in ("group_activation", "qh_ratio", "knee_moment", "qc_overview"):
        for ext in ("png", "svg"):
            assert (results / "figures" / f"{name}.{ext}").stat().st_size > 1000, f"{name}.{ext}"


def test_report_builds(demo):
    results, _, workdir = demo
    report = results / "report.html"
    ok(snakemake(workdir, CONFIG, "--report", str(report)))
    html = report.read_text()
    assert "comparison.csv" in html and "group_activation" in html
