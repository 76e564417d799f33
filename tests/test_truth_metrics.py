"""The demo's true outcomes are computed by the analysis's own definitions: every group
(the chains included) and every pair of retrorun.analysis.PAIRS, so the truth judges the
claims' measures as it judges the primary outcomes."""

import numpy as np
import pandas as pd
import pytest

from retrorun import analysis
from retrorun import cycles as cyc
from retrorun import groups as grp
from retrorun.demo import truth
from retrorun.demo.design import judged_outcomes

SIDES = {"r": "_r"}
GROUPS = {
    "quadriceps": ["vas"],
    "hamstrings": ["ham"],
    "front_chain": ["vas", "tib"],
    "rear_chain": ["ham", "sol"],
}


def scene():
    time_s = np.linspace(0.0, 1.0, 201)
    phase = 2 * np.pi * time_s / 0.5
    activations = pd.DataFrame(
        {
            "time_s": time_s,
            "vas_r": 0.3 + 0.2 * np.sin(phase),
            "ham_r": 0.2 + 0.1 * np.cos(phase),
            "tib_r": 0.1 + 0.05 * np.sin(2 * phase),
            "sol_r": 0.4 + 0.3 * np.cos(phase + 1.0),
        }
    )
    id_forces = pd.DataFrame({"time_s": time_s, "knee_angle_r_moment_nm": 100 * np.sin(phase) ** 2})
    cycles = pd.DataFrame(
        {
            "side": ["r"],
            "cycle": [0],
            "strike_s": [0.2],
            "toe_off_s": [0.4],
            "next_strike_s": [0.7],
            "duration_s": [0.5],
            "stance_pct": [40.0],
        }
    )
    return activations, id_forces, cycles


def test_truth_has_the_chains_and_the_analysis_values():
    activations, id_forces, cycles = scene()
    table = truth.cycle_metrics(
        cycles,
        activations=activations,
        id_forces=id_forces,
        groups=GROUPS,
        sides=SIDES,
        weights=None,
        mass_kg=70.0,
        knee_coordinate="knee_angle",
        knee_signs={"r": 1.0},
        floors={},
    )
    values = {(g, m): v for g, m, v in zip(table["group"], table["metric"], table["value"])}
    curves = cyc.normalise_table(grp.group_activations(activations, groups=GROUPS, sides=SIDES), start_s=0.2, end_s=0.7)
    expected = analysis.activation_metric_values(
        curves["pct"].to_numpy(),
        {g: curves[grp.group_column(g, "r")].to_numpy() for g in GROUPS},
        stance_pct=40.0,
        duration_s=0.5,
        stance_units=False,
    )
    for key in [(analysis.CHAIN_PAIR, "front_share_stance"), (analysis.CHAIN_PAIR, "rear_takes_over_stance_pct")]:
        assert key in values and np.isfinite(values[key])
    for key, (value, _note) in expected.items():
        assert values[key] == pytest.approx(value, nan_ok=True), key


def test_the_truth_judges_the_primary_outcomes_then_the_claims():
    config = {
        "analysis": {"primary_outcomes": ["quadriceps_hamstrings.quadriceps_share_stance", "knee.peak"]},
        "hypotheses": [
            {"measure": "chains.front_share_stance"},
            {"measure": "knee.peak"},
            {"measure": "triceps_surae.mean_stance"},
        ],
    }
    assert judged_outcomes(config) == [
        "quadriceps_hamstrings.quadriceps_share_stance",
        "knee.peak",
        "chains.front_share_stance",
        "triceps_surae.mean_stance",
    ]
    assert judged_outcomes({"analysis": {"primary_outcomes": ["a.b"]}}) == ["a.b"]
