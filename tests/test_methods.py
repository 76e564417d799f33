"""The methods section is written from the study's own config and run: every setting's
value is in the text (change it and the text changes), every citation is in the
reference list and every reference is cited."""

import copy

import pandas as pd
import pytest
from conftest import REPO, shared

from retrorun import filtering, methods
from retrorun.config import load_config

CONFIGS = {
    "demo": REPO / "config" / "config.yaml",
    "hamner": REPO / "config" / "examples" / "hamner-run" / "config.yaml",
}
VERSIONS = {
    "retrorun": "0.1.0",
    "opensim": "4.6",
    "snakemake": "9.27.1",
    "spm1d": "0.4.55",
    "numpy": "2.1.3",
    "scipy": "1.14.1",
    "daqp": "0.11.0",
}
MODEL = {"file": "FullBodyModel_Hamner2010_v2_0.osim", "n_muscles": 92, "n_coordinates": 29}


def qc_table():
    rows = [
        ("S1", "fwd", "forward", "done", True, ""),
        ("S1", "bwd", "backward", "done", False, "residual_moment;reserve"),
        ("S2", "fwd", "forward", "done", False, "residual_moment"),
        ("S2", "bwd", "backward", "failed", False, ""),
    ]
    return pd.DataFrame(rows, columns=["subject", "trial", "condition", "status", "pass", "flags"])


def text_of(config, **changes):
    subjects = pd.DataFrame({"subject": ["S1", "S2"], "mass_kg": [61.5, 80.25]})
    trials = pd.DataFrame({"subject": ["S1", "S1", "S2", "S2"], "condition": ["forward", "backward"] * 2})
    counts = pd.DataFrame({"condition": ["forward", "forward", "backward"], "n_used": [3, 2, 4]})
    comparison = pd.DataFrame({"family": ["primary"] * 4 + ["secondary"] * 17})
    return methods.methods_text(
        config,
        versions=VERSIONS,
        model=MODEL,
        subjects=subjects,
        trials=trials,
        qc=qc_table(),
        counts=counts,
        comparison=comparison,
        **changes,
    )


@pytest.fixture(scope="module", params=list(CONFIGS))
def loaded_config(request):
    return load_config(CONFIGS[request.param]).values


@pytest.fixture
def config(loaded_config):
    return copy.deepcopy(loaded_config)


def changed(config, keys, value):
    new = copy.deepcopy(config)
    node = new
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return new


# (keys, a new value, what the text then says)
SETTINGS = [
    (("filter_hz",), 7.5, "cut-off at 7.5 Hz"),
    (("ik_margin_s",), 0.35, "0.35 s on each side"),
    (("grf", "contact_threshold_n"), 33, "below 33 N of vertical force"),
    (("analysis", "contact_threshold_n"), 41, "crossed 41 N"),
    (("analysis", "min_contact_s"), 0.07, "shorter than 0.07 s"),
    (("analysis", "min_cycle_s"), 0.45, "0.45-"),
    (("analysis", "max_cycle_s"), 1.7, "-1.7 s"),
    (("analysis", "cycles"), 3, "the first 3 per side"),
    (("analysis", "unit"), "stance", "stance phases"),
    (("analysis", "alpha"), 0.01, "alpha = 0.01"),
    (("analysis", "alpha"), 0.1, "its 90 % confidence interval (and 95 %)"),
    (("analysis", "min_subjects"), 6, "at least 6 subjects"),
    (("analysis", "min_cycles"), 2, "at least 2 analysed cycles"),
    (("analysis", "compare"), ["slow", "fast"], "(fast minus slow)"),
    (("analysis", "primary_outcomes"), ["quadriceps.mean_stance"], "primary outcomes were quadriceps.mean_stance."),
    (("analysis", "weighting"), "max_isometric_force", "weighted by maximum isometric force"),
    (("analysis", "qc_gate"), "include", "whether or not they passed"),
    (("static_optimization", "activation_exponent"), 3, "raised to the power 3"),
    (("static_optimization", "reserve_optimal_force"), 2.5, "optimal force 2.5 N·m"),
    (("static_optimization", "residual_optimal_force"), 150, "residual actuators of 150"),
    (("static_optimization", "unmuscled_optimal_force"), 250, "ideal actuators of 250"),
    (("static_optimization", "max_isometric_force_scale"), 2.5, "multiplied by 2.5"),
    (("static_optimization", "strength_scaling"), "none", "the same for every subject"),
    (("static_optimization", "solver"), "opensim", "OpenSim's StaticOptimization analysis"),
    (("static_optimization", "solver"), "moco_inverse", "compliant tendons in soleus, gastroc"),
    (("residual_reduction", "method"), "mass_com", "capped at 0.1 m per axis"),
    (("qc", "ik_marker_rms_max_m"), 0.025, "IK marker error RMS <= 2.5 cm"),
    (("qc", "residual_moment_max_nm"), 60, "moment <= 60 N·m"),
    (("qc", "residual_force_max_share_of_peak_grf"), 0.03, "<= 3 % of peak GRF"),
    (("qc", "reserve_peak_share_max"), 0.2, "<= 20 % of the peak joint moment"),
    (("qc", "saturation_activation"), 0.9, "activation >= 0.9."),
    (("qc", "residual_moment_max_share_of_com_height_x_peak_grf"), 0.02, "<= 2 % of COM height x peak GRF"),
    (("gaps", "max_gap_s"), 0.25, "up to 0.25 s"),
    (("muscle_groups", "quadriceps"), ["vasti_only"], "quadriceps: vasti_only"),
]


@pytest.mark.parametrize("keys, value, expected", SETTINGS, ids=[".".join(s[0]) + f"={s[1]}" for s in SETTINGS])
def test_each_setting_is_stated_with_its_value(config, keys, value, expected):
    if keys == ("analysis", "qc_gate"):  # the demo's own value is include
        config = changed(config, keys, "exclude")
    before = text_of(config)
    after = text_of(changed(config, keys, value))
    assert expected not in before
    assert expected in after, after


def test_the_configs_own_values(config):
    text = text_of(config)
    a = config["analysis"]
    so = config["static_optimization"]
    for stated in (
        f"cut-off at {config['filter_hz']:g} Hz",
        f"crossed {a['contact_threshold_n']:g} N",
        f"alpha = {a['alpha']:g}",
        f"multiplied by {so['max_isometric_force_scale']:g}",
        f"power {so['activation_exponent']:g}",
        f"({a['compare'][1]} minus {a['compare'][0]})",
        "DAQP 0.11.0",
        "OpenSim 4.6",
        "Snakemake 9.27.1",
        "spm1d 0.4.55",
        "NumPy 2.1.3",
        "SciPy 1.14.1",
        "retrorun 0.1.0",
        "61.5-80.25 kg",
        "92 muscles and 29 coordinates",
        "the 4 primary outcomes and the other 17 outcomes",
        "2 subjects ran 4 trials: 2 forward, 2 backward.",
        "Units analysed: 5 forward, 4 backward.",
    ):
        assert stated in text, stated


def test_citations_and_references(config):
    text = text_of(config)
    body, references = text.split("### References")
    cited = set(methods.cited_keys(body))
    for key in (
        "Mölder et al. 2021",
        "Delp et al. 2007",
        "Seth et al. 2018",
        "Harris et al. 2020",
        "Virtanen et al. 2020",
        "Pataky 2012",
        "Bisseling & Hof 2006",
        "Kristianslund et al. 2012",
        "Crowninshield & Brand 1981",
        "Anderson & Pandy 2001",
        "Arnström et al. 2022",
        "Hicks et al. 2015",
        "Holm 1979",
        "Wilcoxon 1945",
        "Lakens 2013",
        "Student 1908",
        "Hamner et al. 2010",
        "Jaric 2002",
    ):
        assert key in cited, key
    listed = [line for line in references.splitlines() if line.startswith("- ")]
    assert sorted(listed) == sorted(f"- {methods.REFERENCES[key]}" for key in cited)
    height = text_of(changed(config, ("static_optimization", "strength_scaling"), "mass_height"))
    assert "Handsfield et al. 2014" in methods.cited_keys(height) and "Jaric 2002" not in height


def test_the_filter_is_described_by_filtering_py(config, monkeypatch):
    monkeypatch.setattr(filtering, "METHODS_DESCRIPTION", "the test filter at {cutoff_hz:g} Hz (-3 dB)")
    assert f"the test filter at {config['filter_hz']:g} Hz (-3 dB)" in text_of(config)


def test_c3d_import_is_stated_when_the_study_has_c3d(config):
    plain = text_of(config)
    assert "C3D" not in plain
    config = changed(config, ("c3d", "cop_threshold_n"), 35)
    subjects = pd.DataFrame({"subject": ["S1"], "mass_kg": [70.0]})
    trials = pd.DataFrame({"subject": ["S1"], "condition": ["forward"], "markers": ["/lab/S1_fwd.C3D"]})
    text = methods.methods_text(config, versions=VERSIONS, model=MODEL, subjects=subjects, trials=trials, qc=qc_table())
    assert "vertical force reached 35 N" in text and "nearest its centre of pressure" in text


def test_an_empty_comparison_is_not_counted_as_no_secondary_outcomes(config):
    subjects = pd.DataFrame({"subject": ["S1"], "mass_kg": [70.0]})
    trials = pd.DataFrame({"subject": ["S1"], "condition": ["forward"]})
    empty = pd.DataFrame({"family": [None]})
    text = methods.methods_text(
        config, versions=VERSIONS, model=MODEL, subjects=subjects, trials=trials, qc=qc_table(), comparison=empty
    )
    assert "primary outcomes and all other outcomes" in text


def test_qc_counts_come_from_qc_csv(config):
    text = text_of(config)
    assert "Of 4 trials, 3 ran through (1 failed at a processing stage) and 1 passed every check." in text
    assert "residual moment 2; reserve moments 1" in text
    if config["analysis"]["qc_gate"] == "exclude":
        assert "excluded from the statistics (2 trials)" in text


def test_model_summary_reads_the_osim():
    model = REPO / "models" / "retrorun_planar" / "generated" / "retrorun_planar.osim"
    if not model.is_file():
        pytest.skip(f"{model} is built by rule build_demo_model (run the demo once)")
    summary = methods.model_summary(model)
    assert summary == {"file": "retrorun_planar.osim", "n_muscles": 26, "n_coordinates": 10}


def test_model_summary_counts_the_models_muscles_not_its_defaults():
    summary = methods.model_summary(shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim"))
    assert (summary["n_muscles"], summary["n_coordinates"]) == (
        92,
        37,
    )  # Hamner et al. 2010: 92 musculotendon actuators
