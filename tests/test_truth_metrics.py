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


def test_the_truths_grf_cut_to_its_window_gives_opensims_id_and_so_of_the_whole_file(tmp_path):
    # OpenSim splines every row of an ExternalForce's file: the truth hands it the rows
    # within GRF_MARGIN_S of its window only, which must not change a bit of the answer
    from conftest import REPO

    from retrorun import opensim_tools
    from retrorun.demo import subjects as demo_subjects
    from retrorun.formats import read_storage

    paths = demo_subjects.sample_trial(
        tmp_path / "trial", params_dir=REPO / "models" / "retrorun_planar", so_model=True
    )
    window = (0.8, 1.7)
    grf = paths["forward_1/grf"]
    cut = truth.grf_in_window(grf, tmp_path / "cut.mot", window)
    whole, _ = read_storage(grf)
    kept, _ = read_storage(cut)
    step = float(whole["time"].iloc[1] - whole["time"].iloc[0])
    assert len(kept) < len(whole) and kept["time"].iloc[0] <= window[0] - truth.GRF_MARGIN_S + step
    assert kept["time"].iloc[-1] >= window[1] + truth.GRF_MARGIN_S - step
    lines = set(grf.read_text().splitlines())
    assert all(line in lines for line in cut.read_text().splitlines() if not line.startswith("nRows="))

    found = truth.inverse_dynamics(
        model_path=paths["model"],
        coordinates_mot=paths["forward_1/coordinates_mot"],
        grf_mot=grf,
        work_dir=tmp_path / "cut_id",
        time_range=window,
    )
    truth.write_external_loads(tmp_path / "whole_id" / "loads.xml", grf_mot=grf)
    opensim_tools.inverse_dynamics(
        model_path=str(paths["model"]),
        coordinates_mot=str(paths["forward_1/coordinates_mot"]),
        external_loads_xml=str(tmp_path / "whole_id" / "loads.xml"),
        time_range=window,
        out_sto=str(tmp_path / "whole_id" / "id.sto"),
        work_dir=str(tmp_path / "whole_id"),
        name="whole",
        subject="",
        trial="",
    )
    expected, _ = read_storage(tmp_path / "whole_id" / "id.sto")
    moments = found.drop(columns=["time_s", "grf_n", "root_residual_n"]).to_numpy()
    assert moments.shape == expected.iloc[:, 1:].shape and np.array_equal(moments, expected.iloc[:, 1:].to_numpy())

    settings = {
        "max_isometric_force_scale": 1,
        "residual_optimal_force": 100,
        "reserve_optimal_force": 1,
        "unmuscled_optimal_force": 100,
        "strength_scaling": "none",
        "reference_height_m": 1.75,
        "activation_exponent": 2,
    }
    common = dict(settings=settings, generic_model=paths["generic_model"], mass_kg=70.0, height_m=1.75)
    activations = truth.static_optimization(
        model_path=paths["model"],
        coordinates_mot=paths["forward_1/coordinates_sampled_mot"],
        grf_mot=grf,
        work_dir=tmp_path / "cut_so",
        time_range=window,
        **common,
    )
    truth.so_model(model_path=paths["model"], out_model=tmp_path / "whole_so" / "so_model.osim", **common)
    truth.write_external_loads(tmp_path / "whole_so" / "loads.xml", grf_mot=grf)
    activation_sto, _ = opensim_tools.static_optimization(
        so_model_path=str(tmp_path / "whole_so" / "so_model.osim"),
        coordinates_mot=str(paths["forward_1/coordinates_sampled_mot"]),
        external_loads_xml=str(tmp_path / "whole_so" / "loads.xml"),
        time_range=window,
        activation_exponent=2,
        work_dir=str(tmp_path / "whole_so"),
        name="whole",
        subject="",
        trial="",
    )
    expected, _ = read_storage(activation_sto)
    muscles = [c for c in activations.columns if c != "time_s"]
    assert muscles and np.array_equal(activations[muscles].to_numpy(), expected[muscles].to_numpy())
