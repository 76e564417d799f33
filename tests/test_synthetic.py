"""The synthetic demo study: design (fast, no OpenSim) and one generated subject."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrorun import synthetic as sy
from retrorun.errors import ConfigError
from retrorun.formats import read_storage, read_trc

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
G = sy.GRAVITY_M_S2


# ------------------------------------------------------------------ config, sheets


def test_study_sheets_are_deterministic_and_name_the_generated_files(tmp_path):
    cfg = {"seed": 3, "n_subjects": 3}
    subjects, trials = sy.study_sheets(cfg, inputs_dir=tmp_path)
    again, _ = sy.study_sheets(cfg, inputs_dir=tmp_path)
    pd.testing.assert_frame_equal(subjects, again)
    assert list(subjects["subject"]) == ["S01", "S02", "S03"]
    assert set(trials["trial"]) == {"forward_1", "backward_1"}
    assert set(trials["condition"]) == {"forward", "backward"}
    assert subjects["static_markers"].iloc[0] == str(tmp_path / "S01_static.trc")
    row = trials[(trials.subject == "S02") & (trials.trial == "backward_1")].iloc[0]
    assert row["markers"] == str(tmp_path / "S02_backward_1.trc") and row["grf"] == str(tmp_path / "S02_backward_1.mot")
    assert subjects["mass_kg"].between(45, 95).all() and subjects["height_m"].between(1.6, 1.92).all()
    other, _ = sy.study_sheets({"seed": 4, "n_subjects": 3}, inputs_dir=tmp_path)
    assert not np.allclose(other["mass_kg"], subjects["mass_kg"])


def test_analysis_window_holds_the_requested_strides_with_margin():
    cfg = sy.resolve_config(None)
    for condition, design in cfg["conditions"].items():
        start, end = sy.analysis_window(cfg, condition)
        assert end - start == pytest.approx(2 / design["stride_frequency_hz"] + 0.1, abs=1e-3)
        assert start >= 0.5 and end <= cfg["trial_duration_s"] - 0.5  # room for the IK margin


@pytest.mark.parametrize("cfg, word", [
    ({"sead": 1}, "sead"),
    ({"trial_duration_s": 1.0}, "trial_duration_s"),
    ({"conditions": {"forward": {"direction": 2}}}, "direction"),
    ({"conditions": {"sideways": {"speed_m_s": 3}}}, "pattern"),
    ({"conditions": {"forward": {"contact_time_s": 0.5}}}, "contact_time_s"),
])
def test_bad_synthetic_config_names_the_key(cfg, word):
    with pytest.raises(ConfigError, match=word):
        sy.resolve_config(cfg)


def test_condition_settings_override_the_pattern_defaults():
    cfg = sy.resolve_config({"conditions": {"slow_back": {"pattern": "backward", "speed_m_s": 2.5}}})
    design = cfg["conditions"]["slow_back"]
    assert design["speed_m_s"] == 2.5 and design["direction"] == -1
    assert design["contact_time_s"] == sy.PATTERN_TIMING["backward"]["contact_time_s"]


# ------------------------------------------------------------------------ design


def _design(pattern):
    return sy.resolve_config(None)["conditions"][pattern]


@pytest.mark.parametrize("pattern", ["forward", "backward"])
def test_grf_is_zero_in_flight_nonnegative_and_balances_gravity(pattern):
    design, mass = _design(pattern), 70.0
    stride_s = 1 / design["stride_frequency_hz"]
    time_s = 0.3 + np.arange(20000) * stride_s / 20000  # exactly one stride
    forces = sy.design_forces(time_s, design, mass_kg=mass, first_contact_s=0.3)
    fy = forces["r_fy"] + forces["l_fy"]
    flight = np.isnan(forces["r_u"]) & np.isnan(forces["l_u"])
    assert flight.any() and np.all(fy[flight] == 0.0) and np.all(forces["r_fx"][flight] == 0.0)
    assert np.all(fy >= 0.0)
    assert not np.any(~np.isnan(forces["r_u"]) & ~np.isnan(forces["l_u"]))  # never both feet down
    impulse = fy.mean() * stride_s
    assert impulse == pytest.approx(mass * G * stride_s, rel=0.01)
    assert forces["r_fx"].mean() == pytest.approx(0.0, abs=0.01 * mass * G)


@pytest.mark.parametrize("pattern", ["forward", "backward"])
def test_com_is_ballistic_in_flight_and_travels_at_the_design_speed(pattern):
    design, mass = _design(pattern), 70.0
    time_s = np.arange(0, 3, 0.001)
    com = sy.design_com(time_s, design, mass_kg=mass, first_contact_s=0.6, mean_height_m=1.0)
    forces = sy.design_forces(time_s, design, mass_kg=mass, first_contact_s=0.6)
    flight = np.isnan(forces["r_u"]) & np.isnan(forces["l_u"])
    assert np.all(com["ay"][flight] == -G) and np.all(com["ax"][flight] == 0.0)
    # the integrated COM agrees with its acceleration (second difference)
    ay = np.diff(com["y"], 2) / 0.001**2
    assert np.max(np.abs(ay - com["ay"][1:-1])) < 0.05 * np.max(np.abs(com["ay"]))
    speed = (com["x"][-1] - com["x"][0]) / (time_s[-1] - time_s[0])
    assert speed == pytest.approx(design["direction"] * design["speed_m_s"], rel=0.02)
    assert 0.03 < np.ptp(com["y"]) < 0.12  # vertical COM excursion of running, about 5-10 cm
    braking = forces["r_fx"][~np.isnan(forces["r_u"]) & (forces["r_u"] < 0.3)]
    assert np.all(np.sign(braking[np.abs(braking) > 1]) == -design["direction"])


def test_forward_joint_angles_match_the_design_values():
    duty = _design("forward")["contact_time_s"] * _design("forward")["stride_frequency_hz"]
    phase = np.linspace(0, 1, 1001)[:-1]
    angles = sy.leg_angles_deg(phase, pattern="forward", duty=duty)
    stance = phase < duty
    knee, hip, ankle = angles["knee_flexion"], angles["hip_flexion"], angles["ankle_dorsiflexion"]
    assert 13 <= knee[0] <= 22 and 38 <= knee[stance].max() <= 47 and 88 <= knee.max() <= 112
    assert -16 <= hip.min() <= -8 and 30 <= hip.max() <= 38
    assert -2 <= ankle[0] <= 7 and 15 <= ankle[stance].max() <= 24 and -25 <= ankle.min() <= -15


def test_backward_pattern_is_forward_reversed_with_plantarflexed_contact():
    forward, backward = _design("forward"), _design("backward")
    phase = np.linspace(0, 1, 1001)[:-1]
    f = sy.leg_angles_deg(phase, pattern="forward", duty=forward["contact_time_s"] * forward["stride_frequency_hz"])
    b = sy.leg_angles_deg(phase, pattern="backward", duty=backward["contact_time_s"] * backward["stride_frequency_hz"])
    assert b["ankle_dorsiflexion"][0] < -10 and b["hip_flexion"][0] < 0  # lands as forward running leaves
    assert np.ptp(b["knee_flexion"]) < np.ptp(f["knee_flexion"])  # smaller ranges backward (Arata 1999)


# ------------------------------------------------------------- one generated subject


def _generic_model(folder: Path) -> str:
    """The demo model when its builder is there; otherwise gait10dof18musc with markers."""
    try:
        from retrorun import demo_model
    except ImportError:
        demo_model = None
    if demo_model is not None:
        demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=folder)
        return str(folder / "retrorun_planar.osim")
    if not (DATA / "gait10dof18musc").is_dir():
        pytest.skip("neither retrorun.demo_model nor ../shared/data/gait10dof18musc is available")
    import opensim as osim

    model = osim.Model(str(DATA / "gait10dof18musc" / "gait10dof18musc.osim"))
    markers = {"R.Heel": ("calcn_r", (-0.01, 0.03, 0)), "R.Toe": ("toes_r", (0.06, 0.01, 0)),
               "L.Heel": ("calcn_l", (-0.01, 0.03, 0)), "L.Toe": ("toes_l", (0.06, 0.01, 0)),
               "R.Knee": ("femur_r", (0, -0.4, 0.05)), "R.Ankle": ("tibia_r", (0, -0.41, 0.05)),
               "Sacrum": ("pelvis", (-0.17, 0.03, 0)), "C7": ("torso", (-0.07, 0.45, 0))}
    for name, (body, location) in markers.items():
        model.addMarker(osim.Marker(name, model.getBodySet().get(body), osim.Vec3(*location)))
    model.finalizeConnections()
    model.printToXML(str(folder / "generic.osim"))
    return str(folder / "generic.osim")


SMALL = {"seed": 11, "n_subjects": 1, "trial_duration_s": 2.6, "lead_in_s": 0.6}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    model = _generic_model(root)
    summary = sy.generate_subject(SMALL, subject="S01", generic_model=model, inputs_dir=root / "inputs",
                                  truth_dir=root / "truth" / "S01")
    return root, summary


def _foot_markers(model_path: str, side: str) -> tuple[str, str]:
    """The most posterior marker on the calcaneus and the most anterior one on the foot."""
    import opensim as osim

    model = osim.Model(model_path)
    state = model.initSystem()
    candidates = [(m.getLocationInGround(state).get(0), m.getName()) for m in model.getMarkerSet()
                  if m.getParentFrameName().split("/")[-1] in (f"calcn_{side}", f"toes_{side}")]
    return min(candidates)[1], max(candidates)[1]


def test_generated_files_are_readable_by_opensim(generated):
    import opensim as osim

    root, _ = generated
    _, trials = sy.study_sheets(SMALL, inputs_dir=root / "inputs")
    for row in trials.itertuples():
        table = osim.TimeSeriesTableVec3(row.markers)
        assert table.getNumRows() == int(SMALL["trial_duration_s"] * 100) + 1
        storage = osim.Storage(row.grf)
        assert storage.getSize() == int(SMALL["trial_duration_s"] * 1000) + 1
        labels = {storage.getColumnLabels().get(i) for i in range(storage.getColumnLabels().getSize())}
        assert {"ground_force_r_vy", "ground_force_l_px", "ground_torque_r_z"} <= labels
    static = read_trc(root / "inputs" / "S01_static.trc")
    assert np.nanmin([xyz[:, 1].min() for xyz in static.positions_m.values()]) > -0.01  # nothing under the floor


def test_forward_and_backward_timing_differ_as_published(generated):
    """Measured on the generated GRF: backward has a higher step frequency, shorter
    contact, longer flight (Cavagna et al. 2012) and forefoot contact (Threlkeld 1989)."""
    root, _ = generated
    truth = sy.truth_paths(root / "truth" / "S01", ["forward_1"])
    heel, toe = _foot_markers(str(truth["model"]), "r")
    measured, share = {}, {}
    for condition in ("forward", "backward"):
        grf = sy.grf_sides_table(read_storage(root / "inputs" / f"S01_{condition}_1.mot")[0])
        measured[condition] = sy.timing_summary(grf, threshold_n=20.0)
        markers = read_trc(root / "inputs" / f"S01_{condition}_1.trc")
        share[condition] = sy.contact_cop_share(grf, markers, side="r", heel_marker=heel, toe_marker=toe, threshold_n=20.0)
    fwd, bwd = measured["forward"], measured["backward"]
    assert bwd["step_frequency_hz"] > fwd["step_frequency_hz"]
    assert bwd["contact_time_s"] < fwd["contact_time_s"]
    assert bwd["flight_time_s"] > fwd["flight_time_s"]
    assert 2.6 < fwd["step_frequency_hz"] < 3.0  # stride frequency about 1.4 Hz
    assert fwd["cop_travel_m"] > 0 > bwd["cop_travel_m"]  # heel -> toe forward, toe -> heel backward
    assert share["forward"] < 0.4 and share["backward"] > 0.6


def test_inverse_dynamics_on_the_truth_leaves_no_root_residual(generated, tmp_path):
    root, _ = generated
    for trial in ("forward_1", "backward_1"):
        truth = sy.truth_paths(root / "truth" / "S01", [trial])
        forces = sy.root_residuals(model_path=truth["model"], coordinates_mot=truth[f"{trial}/coordinates_mot"],
                                   grf_mot=root / "inputs" / f"S01_{trial}.mot", work_dir=tmp_path / trial,
                                   time_range=(0.5, 2.1))
        stance = forces["grf_n"] > 20
        assert forces["root_residual_n"][stance].max() < 0.02 * forces["grf_n"].max()
        assert forces["pelvis_tilt_moment_nm"].abs().max() < 20.0  # angular momentum balanced too


def test_ground_truth_check_passes_the_truth_and_fails_a_biased_ik(generated, tmp_path):
    root, _ = generated
    truth = sy.truth_paths(root / "truth" / "S01", ["forward_1"])
    forces = sy.root_residuals(model_path=truth["model"], coordinates_mot=truth["forward_1/coordinates_mot"],
                               grf_mot=truth["forward_1/grf"], work_dir=tmp_path / "id", time_range=(0.5, 2.1))
    forces.to_csv(tmp_path / "id.csv", index=False)
    sy.grf_sides_table(read_storage(truth["forward_1/grf"])[0]).to_csv(tmp_path / "grf.csv", index=False)
    ik = pd.read_csv(truth["forward_1/coordinates"])
    ik.to_csv(tmp_path / "ik.csv", index=False)
    files = {"forward_1": {"ik_coordinates": tmp_path / "ik.csv", "id_forces": tmp_path / "id.csv",
                           "grf": tmp_path / "grf.csv", "start_s": 0.55, "end_s": 2.0}}
    table = sy.ground_truth_rows(subject="S01", truth_dir=root / "truth" / "S01", scaled_model=truth["model"], trials=files)
    assert table["pass"].all(), table[~table["pass"]]
    assert set(table["check"]) == {"segment_length_error", "ik_rms_error", "root_residual_force"}
    ik["knee_angle_r_deg"] += 5.0
    ik.to_csv(tmp_path / "ik.csv", index=False)
    table = sy.ground_truth_rows(subject="S01", truth_dir=root / "truth" / "S01", scaled_model=truth["model"], trials=files)
    failed = table[~table["pass"]]
    assert list(failed["quantity"]) == ["knee_angle_r"] and failed["value"].iloc[0] == pytest.approx(5.0, abs=0.01)
