"""The cycles decide what is analysed, on the real Hamner running trial (../shared/data):
a region that cuts a cycle by less than a marker frame still takes it; a region without a
cycle stops the workflow saying which trial, which region and the nearest cycle (and
analysis.allow_empty turns that into a warning); an overground-style recording (one plate
contact per foot kept, the rest zeroed) is analysed stance by stance."""

import numpy as np
import pandas as pd
import pytest
from conftest import shared
from workflow_runner import hamner_study, ok, snakemake

from retrorun.formats import read_storage, write_storage

pytestmark = pytest.mark.slow

TRIAL = "trials/subject02/run"
# External_Loads.xml: plate columns ground_* act on calcn_r, 1_ground_* on calcn_l
PLATES = {"r": "", "l": "1_"}


def test_a_region_that_cuts_a_cycle_by_less_than_a_frame_still_uses_it(tmp_path):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    # the left cycle 0.751-1.436 s (strike to strike on the raw force); markers at 60 Hz
    # (16.7 ms): the region 0.760-1.430 s cuts 9 ms at its start and 6 ms at its end
    config = hamner_study(tmp_path, region=(0.76, 1.43))
    # the trial's job, asked for by its manifest (its files are not targets); residual
    # reduction none: RRA is not what this checks, and without it the job takes seconds
    target = f"results/hamner-cycles/{TRIAL}/.trial.manifest"
    ok(snakemake(tmp_path, config, "--keep-going", target, "--config", "residual_reduction={method: none}"))
    cycles = pd.read_csv(tmp_path / "results/hamner-cycles" / TRIAL / "cycles.csv")
    used = cycles[cycles["status"] == "used"]
    assert list(used["side"]) == ["l"]
    assert used["start_s"].iloc[0] == pytest.approx(0.751, abs=0.001)
    assert used["end_s"].iloc[0] == pytest.approx(1.436, abs=0.001)
    assert 0.76 - used["start_s"].iloc[0] < 1 / 60 and used["end_s"].iloc[0] - 1.43 < 1 / 60
    # every other candidate is there with its reason
    assert (cycles.loc[cycles["status"] != "used", "reason"].str.len() > 0).all()


def test_a_region_without_a_cycle_fails_naming_trial_region_and_nearest_cycle(tmp_path):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    # 0.80-1.40 s holds no whole cycle: the nearest is the left one 0.751-1.436 s
    config = hamner_study(tmp_path, region=(0.80, 1.40))
    result = snakemake(tmp_path, config, "--keep-going")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    message = next(line for line in said.splitlines() if "no usable cycle in the region" in line)
    assert "subject subject02, trial run" in message and "0.800-1.400 s" in message
    assert "nearest cycle: side l 0.751-1.436 s" in message
    assert "move start_s to at most 0.75 s" in message and "extend end_s to at least 1.44 s" in message
    assert "no usable cycle in any trial of condition(s) forward" in said
    # Snakemake's own final summary repeats it (onerror), no log needed
    summary = said.rindex("retrorun: 1 trial(s) with no usable cycle")
    assert summary > said.rindex("Error in rule") and "trial run: no usable cycle" in said[summary:]
    qc = pd.read_csv(tmp_path / "results/hamner-cycles/qc.csv")
    assert qc["n_cycles_used"].tolist() == [0] and "no_cycles" in qc["flags"].iloc[0]

    # allowed: the same study finishes, with the warning and empty tables (only the tables rerun)
    config.write_text(config.read_text().replace("compare:", "allow_empty: true\n  compare:"))
    allowed = snakemake(tmp_path, config, "--keep-going")
    ok(allowed)
    assert "trial(s) with no usable cycle" in allowed.stdout + allowed.stderr
    assert pd.read_csv(tmp_path / "results/hamner-cycles/tables/cycles.csv").empty


def overground_grf(source, target, keep_s):
    """``source`` with each plate's force kept only over the contact holding ``keep_s[side]``
    (its run of loaded samples) and zero elsewhere: one plate contact per foot, as an
    overground runway with two plates records."""
    table, _ = read_storage(source)
    for side, prefix in PLATES.items():
        loaded = table[f"{prefix}ground_force_vy"].to_numpy() > 0
        at = int(np.searchsorted(table["time"].to_numpy(), keep_s[side]))
        assert loaded[at], f"no {side} contact at {keep_s[side]} s"
        first, last = at, at
        while first > 0 and loaded[first - 1]:
            first -= 1
        while last + 1 < len(loaded) and loaded[last + 1]:
            last += 1
        outside = np.ones(len(table), dtype=bool)
        outside[first : last + 1] = False
        columns = [c for c in table.columns if c != "time" and (c.startswith(prefix) if prefix else not c[0].isdigit())]
        table.loc[outside, columns] = 0.0
    write_storage(target, table, in_degrees=False, name="overground")
    return table


def test_overground_plates_are_analysed_stance_by_stance(tmp_path):
    source = shared("hamner-run", "subject02_running_grf.mot")
    # the right stance from 1.10 s and the next left stance from 1.44 s (flight between)
    grf = overground_grf(source, tmp_path / "overground_grf.mot", keep_s={"r": 1.2, "l": 1.55})
    # independently of retrorun: each plate now holds exactly one run of loaded samples
    for prefix in PLATES.values():
        loaded = (grf[f"{prefix}ground_force_vy"].to_numpy() > 0).astype(int)
        assert np.count_nonzero(np.diff(loaded) == 1) == 1
    # qc_gate include: this subject misses the Best-Practice marker thresholds (see
    # test_analysis_hamner), and the comparison table is to hold the stance metrics
    config = hamner_study(
        tmp_path,
        grf=tmp_path / "overground_grf.mot",
        analysis={"unit": "stance", "qc_gate": "include"},
        study="hamner-overground",
    )
    ok(snakemake(tmp_path, config, "--keep-going"))
    results = tmp_path / "results/hamner-overground"
    cycles = pd.read_csv(results / TRIAL / "cycles.csv")
    used = cycles[cycles["status"] == "used"].set_index("side")
    assert sorted(used.index) == ["l", "r"]
    assert used.loc["r", "start_s"] == pytest.approx(1.10, abs=0.02) and used.loc["l", "start_s"] == pytest.approx(
        1.44, abs=0.02
    )
    assert (used["stance_pct"] == 100).all() and used["duration_s"].between(0.2, 0.35).all()
    # SO ran over the two stances (plus a frame), not the 10 s record
    activations = pd.read_csv(results / TRIAL / "so_activations.csv")
    assert activations["time_s"].iloc[0] >= 1.05 and activations["time_s"].iloc[-1] <= 1.75
    metrics = pd.read_csv(results / TRIAL / "cycle_metrics.csv")
    for side in "rl":
        own = metrics[metrics["side"] == side].set_index(["group", "metric"])["value"]
        for key in (
            ("quadriceps_hamstrings", "ratio_mean_stance"),
            ("quadriceps_hamstrings", "cci_stance_pct"),
            ("quadriceps", "mean_stance"),
            ("knee", "peak_extension_moment_timing_pct_stance"),
        ):
            assert np.isfinite(own[key]), (side, key)
        # Roos et al. 2012: about 2.2 N·m/kg forward; this runner is faster
        assert 1.0 < own["knee", "peak_extension_moment_nm_per_kg"] < 5.0
    comparison = pd.read_csv(results / "tables" / "comparison.csv")
    assert ("quadriceps_hamstrings", "ratio_mean_stance") in set(zip(comparison["group"], comparison["metric"]))
    spm = pd.read_csv(results / "tables" / "spm.csv")
    assert len(spm)
