"""Issue 22's first slice: the claims' parser, verdict and Holm family, the config check
of their measures, the chains' front share and takes-over metrics, and the chains'
anatomical premise read from real models."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, shared

from retrorun import analysis, config, hypotheses, metrics, model_properties
from retrorun.demo import model as demo_model
from retrorun.errors import ConfigError

COMPARE = ["forward", "backward"]
PCT = np.linspace(0.0, 100.0, 101)


# ---------------------------------------------------------------- expected direction


@pytest.mark.parametrize(
    "text, kind, sign",
    [
        ("backward > forward", "difference", 1),
        ("backward < forward", "difference", -1),
        ("forward > backward", "difference", -1),
        ("forward<backward", "difference", 1),
        ("backward > 0.5", "level", 1),
        ("forward < 12", "level", -1),
    ],
)
def test_parse_expected(text, kind, sign):
    expected = hypotheses.parse_expected(text, COMPARE)
    assert (expected.kind, expected.sign) == (kind, sign)


def test_parse_expected_uses_the_study_conditions():
    # conditions other than forward/backward: read from analysis.compare, not hard-coded
    assert hypotheses.parse_expected("uphill > level", ["level", "uphill"]).sign == 1
    level = hypotheses.parse_expected("uphill > 0.5", ["level", "uphill"])
    assert (level.condition, level.threshold) == ("uphill", 0.5)
    for bad in ("backward > sideways", "sideways > 0.5", "backward >= forward", "backward"):
        with pytest.raises(ValueError):
            hypotheses.parse_expected(bad, COMPARE)


# ------------------------------------------------------------------------- verdicts


def comparison_row(group, metric, difference, p, *, source="so", n=8):
    return {
        "source": source,
        "group": group,
        "metric": metric,
        "n_subjects": n,
        "mean_a": 0.5,
        "mean_b": 0.5 + difference,
        "difference_mean": difference,
        "difference_ci_low": difference - 0.01,
        "difference_ci_high": difference + 0.01,
        "ci_level": 0.95,
        "test": "t",
        "p": p,
        "scale": "linear",
        "ratio_of_geometric_means": np.nan,
        "ratio_ci_low": np.nan,
        "ratio_ci_high": np.nan,
        "note": "",
    }


def claim(hid, measure, expected, primary=True):
    return {"id": hid, "claim": hid, "measure": measure, "expected": expected, "primary": primary}


def table(claims, rows, subjects=None):
    return hypotheses.hypotheses_table(
        claims,
        pd.DataFrame(rows),
        subjects if subjects is not None else pd.DataFrame(columns=["group", "metric", "condition", "mean"]),
        compare=COMPARE,
        alpha=0.05,
        min_subjects=3,
        min_cycles=1,
        test="t",
    ).set_index("id")


def test_verdicts_supported_contradicted_inconclusive():
    out = table(
        [
            claim("up", "a.m", "backward > forward"),
            claim("down", "b.m", "backward > forward"),
            claim("weak", "c.m", "backward > forward"),
            claim("missing", "d.m", "backward < forward"),
        ],
        [
            comparison_row("a", "m", 0.1, 0.001),
            comparison_row("b", "m", -0.1, 0.001),
            comparison_row("c", "m", 0.1, 0.2),
        ],
    )
    assert out.loc["up", "verdict"] == hypotheses.SUPPORTED
    assert out.loc["down", "verdict"] == hypotheses.CONTRADICTED
    assert out.loc["weak", "verdict"] == hypotheses.INCONCLUSIVE
    assert out.loc["missing", "verdict"] == hypotheses.INCONCLUSIVE
    assert "no row" in out.loc["missing", "note"]
    assert out["rule"].str.contains("alpha 0.05").all()


def test_holm_within_the_primary_family_only():
    # two primary claims at p 0.03 and 0.04: Holm makes both 0.06, not significant; a
    # secondary claim at 0.03 is a family of one and stays significant
    out = table(
        [
            claim("p1", "a.m", "backward > forward"),
            claim("p2", "b.m", "backward > forward"),
            claim("s1", "c.m", "backward > forward", primary=False),
        ],
        [comparison_row("a", "m", 0.1, 0.03), comparison_row("b", "m", 0.1, 0.04), comparison_row("c", "m", 0.1, 0.03)],
    )
    assert out.loc["p1", "p_holm"] == pytest.approx(0.06)
    assert out.loc["p2", "p_holm"] == pytest.approx(0.06)
    assert out.loc["s1", "p_holm"] == pytest.approx(0.03)
    assert list(out["verdict"]) == [hypotheses.INCONCLUSIVE, hypotheses.INCONCLUSIVE, hypotheses.SUPPORTED]


def test_holm_per_source():
    out = hypotheses.hypotheses_table(
        [claim("p1", "a.m", "backward > forward"), claim("p2", "b.m", "backward > forward")],
        pd.DataFrame(
            [
                comparison_row("a", "m", 0.1, 0.03),
                comparison_row("b", "m", 0.1, 0.04),
                comparison_row("a", "m", 0.1, 0.03, source="emg"),
            ]
        ),
        pd.DataFrame(),
        compare=COMPARE,
        alpha=0.05,
        min_subjects=3,
        min_cycles=1,
        test="t",
    )
    emg = out[out["source"] == "emg"].iloc[0]
    assert emg["p_holm"] == pytest.approx(0.03)  # its own family: SO's rows do not count
    assert emg["verdict"] == hypotheses.SUPPORTED


def test_level_claim_tests_one_condition_against_the_constant():
    shares = [0.60, 0.62, 0.65, 0.58, 0.63, 0.61]
    subjects = pd.DataFrame(
        {
            "source": "so",
            "subject": [f"S{k}" for k in range(6)] * 2,
            "condition": ["backward"] * 6 + ["forward"] * 6,
            "group": "chains",
            "metric": "front_share_stance",
            "mean": shares + [0.3] * 6,
            "n_cycles": 4,
        }
    )
    row = comparison_row("chains", "front_share_stance", 0.2, 0.001)
    out = table([claim("majority", "chains.front_share_stance", "backward > 0.5")], [row], subjects)
    assert out.loc["majority", "kind"] == "level"
    assert out.loc["majority", "estimate"] == pytest.approx(np.mean(shares) - 0.5)
    assert out.loc["majority", "n_subjects"] == 6
    assert out.loc["majority", "verdict"] == hypotheses.SUPPORTED
    below = table([claim("minority", "chains.front_share_stance", "backward < 0.5")], [row], subjects)
    assert below.loc["minority", "verdict"] == hypotheses.CONTRADICTED


def test_a_level_claim_with_too_few_subjects_says_so_in_its_own_words():
    """One condition against a constant names that condition, not a pair with the
    constant as its first 'condition' ("both '0.5' and 'backward'")."""
    subjects = pd.DataFrame(
        {
            "source": "so",
            "subject": ["S0", "S1"],
            "condition": "backward",
            "group": "chains",
            "metric": "front_share_stance",
            "mean": [0.6, 0.62],
            "n_cycles": 4,
        }
    )
    row = comparison_row("chains", "front_share_stance", 0.2, np.nan, n=2)
    out = table([claim("majority", "chains.front_share_stance", "backward > 0.5")], [row], subjects)
    note = out.loc["majority", "note"]
    assert out.loc["majority", "verdict"] == hypotheses.INCONCLUSIVE
    assert note.startswith("2 subject(s) with 'backward': a test against 0.5 needs at least 3"), note
    assert "'0.5' and" not in note


# ---------------------------------------------------------------------- config check


def demo_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_shipped_configs_hold_the_claims():
    for path in ("config/config.yaml", "config/examples/hamner-run/config.yaml"):
        values = config.load_config(REPO / path).values
        measures = {h["measure"] for h in values["hypotheses"]}
        assert {"chains.front_share_stance", "triceps_surae.mean_stance", "hamstrings.mean_stance"} <= measures


def test_unknown_measure_names_the_closest():
    values = demo_config()
    values["hypotheses"][0]["measure"] = "chains.front_shares_stance"
    with pytest.raises(ConfigError, match="did you mean 'chains.front_share_stance'"):
        config.prepare_config(values, base_dir=REPO / "config", source="config.yaml")


def test_chain_measures_need_chains_and_directions_need_the_conditions():
    values = demo_config()
    del values["chains"]
    with pytest.raises(ConfigError, match="chains.front_share_stance"):
        config.prepare_config(copy.deepcopy(values), base_dir=REPO / "config", source="config.yaml")
    values = demo_config()
    values["hypotheses"][1]["expected"] = "backward > sideways"
    with pytest.raises(ConfigError, match="sideways"):
        config.prepare_config(values, base_dir=REPO / "config", source="config.yaml")


# --------------------------------------------------------------------- chain metrics


def test_rear_takes_over_interpolates_the_crossing():
    front = np.full(101, 0.5)
    rear = PCT / 100.0  # crosses front at 50 %
    assert metrics.exceeds_pct(PCT, rear, front, start_pct=0.0, end_pct=100.0) == pytest.approx(50.0)
    # over a stance of 0-40 % rear (0.4 at most) never exceeds 0.5
    assert metrics.exceeds_pct(PCT, rear, front, start_pct=0.0, end_pct=40.0) == 0.0
    # both silent: nobody takes over
    assert metrics.exceeds_pct(PCT, np.zeros(101), np.zeros(101), start_pct=0.0, end_pct=40.0) == 0.0
    # crossing between samples: rear = 0.5 + (pct - 10.25) / 100 exceeds from 10.25 % on
    shifted = 0.5 + (PCT - 10.25) / 100.0
    assert metrics.exceeds_pct(PCT, shifted, front, start_pct=0.0, end_pct=20.0) == pytest.approx(
        100 * (20 - 10.25) / 20
    )


def test_front_share_and_takes_over_from_the_analysis_code_path():
    front = np.where(PCT <= 40, 0.3, 0.0)
    rear = np.where(PCT <= 40, 0.1, 0.2)
    values = analysis.activation_metric_values(
        PCT,
        {"front_chain": front, "rear_chain": rear},
        stance_pct=40.0,
        duration_s=0.7,
        stance_units=False,
    )
    assert values[("chains", "front_share_stance")][0] == pytest.approx(0.75, abs=0.01)
    assert values[("chains", "rear_takes_over_stance_pct")][0] == pytest.approx(0.0, abs=0.5)
    assert values[("front_chain", "mean_stance")][0] == pytest.approx(0.3, abs=0.01)
    assert ("chains", "ratio_mean_stance") not in values  # the share only, for the chains
    # the quadriceps share is the same function with other names
    qh = analysis.activation_metric_values(
        PCT, {"quadriceps": front, "hamstrings": rear}, stance_pct=40.0, duration_s=0.7, stance_units=False
    )
    assert qh[("quadriceps_hamstrings", "quadriceps_share_stance")][0] == values[("chains", "front_share_stance")][0]


def test_subject_front_share_from_summed_activations():
    # two cycles: the subject's share is of the summed integrals, as for the quadriceps share
    rows = []
    for cycle, (front, rear) in enumerate([(0.3, 0.1), (0.01, 0.09)]):
        for group, metric, value in (
            ("front_chain", "integrated_stance_s", front),
            ("rear_chain", "integrated_stance_s", rear),
            ("chains", "front_share_stance", front / (front + rear)),
            ("cycle", "duration_s", 1.0),
            ("cycle", "stance_pct", 100.0),
        ):
            rows.append(
                {"subject": "S1", "condition": "backward", "trial": "t", "side": "r", "cycle": cycle}
                | {"group": group, "metric": metric, "value": value, "note": ""}
            )
    out = analysis.subject_means(pd.DataFrame(rows)).set_index(["group", "metric"])
    assert out.loc[("chains", "front_share_stance"), "mean"] == pytest.approx(0.31 / (0.31 + 0.19))


# ------------------------------------------------------------- the anatomical premise

CHAINS_HAMNER = {"front": ["vas_lat", "tib_ant"], "rear": ["glut_max1", "soleus"]}
COORDINATES = {"hip": "hip_flexion", "knee": "knee_angle", "ankle": "ankle_angle"}
EXTENSION = {"hip": -1, "knee": 1, "ankle": -1}


def capacities(path, chains):
    return model_properties.chain_capacities(
        str(path), chains=chains, sides={"r": "_r"}, coordinates=COORDINATES, extension_sign=EXTENSION
    ).set_index(["chain", "joint"])


def test_model_chains_on_hamner():
    out = capacities(shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim"), CHAINS_HAMNER)
    # vastus lateralis extends the knee: positive in knee_angle (Hamner: negative in flexion)
    assert out.loc[("front", "knee"), "extension_moment_sum_nm"] > 0
    # tibialis anterior dorsiflexes: negative extension (plantarflexion) moment at the ankle
    assert out.loc[("front", "ankle"), "extension_moment_sum_nm"] < 0
    # soleus plantarflexes and gluteus maximus extends the hip
    assert out.loc[("rear", "ankle"), "extension_moment_sum_nm"] > 0
    assert out.loc[("rear", "hip"), "extension_moment_sum_nm"] > 0
    assert out.loc[("rear", "knee"), "n_muscles_crossing"] == 0
    import opensim

    model = opensim.Model(str(shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")))
    forces = [model.getMuscles().get(m).getMaxIsometricForce() for m in ("vas_lat_r", "tib_ant_r")]
    assert out.loc[("front", "hip"), "max_isometric_force_sum_n"] == pytest.approx(sum(forces))


def test_model_chains_on_the_demo_model(tmp_path):
    path = demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=tmp_path)
    chains = demo_config()["chains"]
    out = capacities(path, chains)
    assert out.loc[("front", "knee"), "extension_moment_sum_nm"] > 0  # quadriceps
    assert out.loc[("rear", "hip"), "extension_moment_sum_nm"] > 0  # hamstrings, gluteus maximus
    assert out.loc[("rear", "ankle"), "extension_moment_sum_nm"] > 0  # gastrocnemius, soleus
    with pytest.raises(ValueError, match="no coordinate"):
        model_properties.chain_capacities(
            str(path), chains=chains, sides={"r": "_r"}, coordinates={"hip": "hip_flex"}, extension_sign={"hip": -1}
        )


def test_model_chains_on_a_flexion_positive_knee_with_the_defaults():
    """Rajagopal et al. 2016's knee angle grows in flexion, the reverse of Hamner's: with
    the default config the knee's extension sign comes from the analysis's own rule (the
    quadriceps' moment arms), so the front chain (vasti) still extends the knee. With a
    fixed knee sign of +1 (the old default) it came out as a flexion moment."""
    from retrorun.config import prepare_config

    path = shared("emg", "rajagopal-walk", "subject_walk_scaled.osim")
    config = demo_config()
    defaults = prepare_config(
        {k: config[k] for k in ("study", "synthetic", "model", "muscle_groups")}, base_dir=REPO, source="test"
    ).values
    chains = {"front": ["vaslat", "vasmed"], "rear": ["soleus", "glmax1"]}
    signs = model_properties.chain_extension_signs(
        str(path),
        model_chains=defaults["model_chains"],
        analysis=defaults["analysis"],
        quadriceps=["vaslat", "vasmed", "vasint", "recfem"],
        sides={"r": "_r"},
    )
    assert signs["knee"] == {"r": -1.0}
    out = model_properties.chain_capacities(
        str(path), chains=chains, sides={"r": "_r"}, coordinates=COORDINATES, extension_sign=signs
    ).set_index(["chain", "joint"])
    assert out.loc[("front", "knee"), "extension_moment_sum_nm"] > 0
    assert (
        out.loc[("rear", "ankle"), "extension_moment_sum_nm"] > 0
        and out.loc[("rear", "hip"), "extension_moment_sum_nm"] > 0
    )
