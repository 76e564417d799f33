"""The whole workflow with measured EMG: OpenSim's Moco 3-D walking example (scaled
Rajagopal et al. 2016 model with its coupled patellae, markers, GRF and 10 processed
right-leg EMG envelopes; config/examples/rajagopal-walk-emg), with MocoInverse as a
sensitivity variant of the muscle solver. About 25 s of CPU for the main run's SO on the
walking cycle, and 15-16 min for MocoInverse's (measured: 29 IPOPT iterations, 930 s of
CPU, 670 MB)."""

import json

import pandas as pd
import pytest
from conftest import REPO, shared
from workflow_runner import ok, snakemake

pytestmark = pytest.mark.slow

CHANNELS = [
    "soleus",
    "gastrocnemius",
    "tibialis_anterior",
    "medial_hamstrings",
    "biceps_femoris",
    "vastus_lateralis",
    "vastus_medius",
    "rectus_femoris",
    "gluteus_maximus",
    "gluteus_medius",
]


def test_rajagopal_walk_with_emg_envelopes(tmp_path):
    shared("emg", "rajagopal-walk", "electromyography.sto")
    config = REPO / "config" / "examples" / "rajagopal-walk-emg" / "config.yaml"
    # the muscle solver as a sensitivity variant: MocoInverse against the same EMG
    # (two threads: about 30 % less wall time per IPOPT iteration, docs/performance.md)
    overrides = [
        "sensitivity={static_optimization.solver: [moco_inverse]}",
        "static_optimization={moco_inverse: {threads: 2}}",
    ]
    ok(snakemake(tmp_path, config, "--config", *overrides))
    results = tmp_path / "results" / "rajagopal-walk-emg"
    trial = results / "trials" / "subject_walk" / "walk"

    envelopes = pd.read_csv(trial / "emg_envelopes.csv")
    assert list(envelopes.columns) == ["time_s", *CHANNELS]
    # subject_peak: each channel's cycle-mean envelope (one cycle here) peaks at 1
    curves = pd.read_csv(trial / "cycle_curves.csv")
    right = curves[curves["side"] == "r"]
    for channel in CHANNELS:
        assert right[f"emg_{channel}"].max() == pytest.approx(1.0, abs=1e-6)
    assert {"emg_quadriceps_activation", "emg_hamstrings_activation"} <= set(curves.columns)

    agreement = pd.read_csv(results / "tables" / "emg_agreement.csv")
    assert list(agreement.loc[agreement["kind"] == "channel", "name"]) == CHANNELS
    assert list(agreement.loc[agreement["kind"] == "group", "name"]) == ["quadriceps", "hamstrings"]
    assert agreement["r_mean_cycle"].between(-1, 1).all() and (agreement["r_at_lag"] >= agreement["r_mean_cycle"]).all()
    assert agreement["lag_ms"].abs().max() <= 150 and agreement["on_off_agreement_pct"].between(0, 100).all()
    # the plantarflexor that carries walking's late stance: SO and EMG agree once aligned,
    # with the EMG leading (electromechanical delay)
    soleus = agreement.set_index("name").loc["soleus"]
    assert soleus["r_at_lag"] > 0.8 and soleus["lag_ms"] > 0

    for name in ("cycles.csv", "subjects.csv", "comparison.csv", "curves.csv", "spm.csv"):
        table = pd.read_csv(results / "tables" / name)
        assert set(table["source"]) == {"so", "emg"}, name
    cycles = pd.read_csv(results / "tables" / "cycles.csv")
    emg_groups = set(cycles.loc[cycles["source"] == "emg", "group"])
    assert emg_groups == {"quadriceps", "hamstrings", "quadriceps_hamstrings"}  # no knee or cycle rows from EMG
    front = (results / "report" / "front_page.rst").read_text()
    # walk against walk: SO's and EMG's differences are both zero, side by side
    assert "- Quadriceps activation, SO vs EMG: r" in front and "SO 0 (Holm-adjusted p n/a, 1 subject); EMG 0" in front
    assert (results / "figures" / "emg_vs_so.png").stat().st_size > 10_000

    by_variant = pd.read_csv(results / "tables" / "emg_agreement_sensitivity.csv")
    variant = "static_optimization.solver-moco_inverse"
    assert list(dict.fromkeys(by_variant["variant"])) == ["main", variant]
    main_rows = by_variant[by_variant["variant"] == "main"].drop(columns=["variant", "r_change_vs_main"])
    pd.testing.assert_frame_equal(main_rows.reset_index(drop=True), agreement, check_dtype=False)
    assert (by_variant.loc[by_variant["variant"] == "main", "r_change_vs_main"] == 0).all()
    moco = by_variant[by_variant["variant"] == variant].set_index("name")
    assert list(moco.index) == list(agreement["name"])
    assert moco["r_mean_cycle"].between(-1, 1).all()
    status = results / "sensitivity" / variant / "trials" / "subject_walk" / "walk" / "so_chunks" / "0-of-1"
    solved = json.loads((status / "so_solver.json").read_text())
    assert solved["solver"] == "moco_inverse" and solved["status"] == "Solve_Succeeded"
    assert solved["compliant_tendons"] == ["gaslat_r", "gasmed_r", "soleus_r", "gaslat_l", "gasmed_l", "soleus_l"]
    # the compliant Achilles tendon and activation dynamics bring the soleus closer to its
    # EMG than rigid-tendon SO (measured: r 0.74 -> 0.90 at zero lag, best lag 52 -> 33 ms)
    print(by_variant.pivot_table(index="name", columns="variant", values="r_mean_cycle", sort=False).round(2))
    assert moco.loc["soleus", "r_change_vs_main"] > 0.05 and moco.loc["soleus", "r_mean_cycle"] > 0.8


def test_emg_steps_as_stages_of_the_trial_chains_give_the_emg_of_jobs_of_their_own(tmp_path):
    """A study with EMG and a trial without it, run twice: without variants a trial's EMG
    steps are stages of its two jobs (EMG_IN_CHAINS, workflow/rules/common.smk); with a
    sensitivity variant they are jobs of their own. The EMG, its envelopes and the
    analysed curves are the same files both ways; the trial without EMG has none."""
    from test_planning_cost import emg_study_with_a_trial_without_emg

    shared("emg", "rajagopal-walk", "electromyography.sto")
    config = emg_study_with_a_trial_without_emg(tmp_path / "study")
    chained, separate = tmp_path / "chained", tmp_path / "separate"
    ok(snakemake(chained, config))
    ok(snakemake(separate, config, "--config", "sensitivity={analysis.weighting: [max_isometric_force]}"))
    results = {run: run / "results" / "rajagopal-walk-emg" for run in (chained, separate)}
    logs = results[chained] / "logs" / "chains"
    assert "process_emg: ran" in (logs / "trial_motion" / "subject_walk" / "walk.log").read_text()
    assert "emg_envelopes: ran" in (logs / "trial_analysis" / "subject_walk" / "walk.log").read_text()
    assert "process_emg" not in (logs / "trial_motion" / "subject_walk" / "walk_without_emg.log").read_text()
    assert "emg_envelopes" not in (logs / "trial_analysis" / "subject_walk" / "walk_without_emg.log").read_text()
    separate_log = results[separate] / "logs" / "chains" / "trial_motion" / "subject_walk" / "walk.log"
    assert "process_emg" not in separate_log.read_text()
    for run in (chained, separate):
        without = results[run] / "trials" / "subject_walk" / "walk_without_emg"
        assert not list(without.glob("emg_*")), run
        assert not [c for c in pd.read_csv(without / "cycle_curves.csv").columns if c.startswith("emg_")]
    for name in ("emg_processed.csv", "emg_envelopes.csv", "cycle_curves.csv", "cycle_metrics.csv"):
        files = [results[run] / "trials" / "subject_walk" / "walk" / name for run in (chained, separate)]
        assert files[0].read_bytes() == files[1].read_bytes(), name
    for name in ("cycles.csv", "emg_agreement.csv"):
        files = [results[run] / "tables" / name for run in (chained, separate)]
        assert files[0].read_bytes() == files[1].read_bytes(), name
    emg_trials = set(pd.read_csv(results[chained] / "tables" / "cycles.csv").query("source == 'emg'")["trial"])
    assert emg_trials == {"walk"}
