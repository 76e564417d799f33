"""The synthetic demo study: design (fast, no OpenSim), one generated subject, its truth
outcomes, and the ground-truth checks (they pass the truth and fail a distorted copy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_helpers import contact_cop_share, grf_sides_table, timing_summary

from retrorun.demo import checks
from retrorun.demo import design as de
from retrorun.demo import model as demo_model
from retrorun.demo import motion as mo
from retrorun.demo import subjects as su
from retrorun.demo import truth as tr
from retrorun.errors import ConfigError
from retrorun.formats import read_storage, read_trc

REPO = Path(__file__).resolve().parents[1]
G = de.GRAVITY_M_S2


# ------------------------------------------------------------------ config, sheets


def test_study_sheets_are_deterministic_and_name_the_generated_files(tmp_path):
    cfg = {"seed": 3, "n_subjects": 3}
    subjects, trials = de.study_sheets(cfg, inputs_dir=tmp_path)
    again, _ = de.study_sheets(cfg, inputs_dir=tmp_path)
    pd.testing.assert_frame_equal(subjects, again)
    assert list(subjects["subject"]) == ["S01", "S02", "S03"]
    assert set(trials["trial"]) == {"forward_1", "backward_1"}
    assert set(trials["condition"]) == {"forward", "backward"}
    assert subjects["static_markers"].iloc[0] == str(tmp_path / "S01_static.trc")
    row = trials[(trials.subject == "S02") & (trials.trial == "backward_1")].iloc[0]
    assert row["markers"] == str(tmp_path / "S02_backward_1.trc") and row["grf"] == str(tmp_path / "S02_backward_1.mot")
    assert subjects["mass_kg"].between(45, 95).all() and subjects["height_m"].between(1.6, 1.92).all()
    other, _ = de.study_sheets({"seed": 4, "n_subjects": 3}, inputs_dir=tmp_path)
    assert not np.allclose(other["mass_kg"], subjects["mass_kg"])


def test_written_sheets_are_read_by_the_ordinary_loader(tmp_path):
    from retrorun.config import read_sheet

    subjects_path, trials_path = de.write_study_sheets({"n_subjects": 2}, inputs_dir=tmp_path)
    assert len(read_sheet(subjects_path, kind="subjects")) == 2 and len(read_sheet(trials_path, kind="trials")) == 4
    stamp = subjects_path.stat().st_mtime_ns
    de.write_study_sheets({"n_subjects": 2}, inputs_dir=tmp_path)
    assert subjects_path.stat().st_mtime_ns == stamp  # unchanged content is not rewritten


def test_config_module_does_not_import_the_demo():
    import subprocess
    import sys

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, retrorun.config; print(' '.join(m for m in sys.modules if m.startswith('retrorun.demo')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.split()
    assert loaded == []
    assert "retrorun.demo" not in (REPO / "retrorun" / "config.py").read_text()


def test_analysis_window_holds_the_requested_strides_with_margin():
    cfg = de.resolve_config(None)
    for person in de.sample_subjects(cfg):
        for design in person.conditions.values():
            start, end = de.analysis_window(cfg, design)
            assert end - start == pytest.approx(2 / design["stride_frequency_hz"] + 0.1, abs=1e-3)
            assert start >= 0.5 and end <= cfg["trial_duration_s"] - 0.5  # room for the IK margin


@pytest.mark.parametrize(
    "cfg, word",
    [
        ({"sead": 1}, "sead"),
        ({"trial_duration_s": 1.0}, "trial_duration_s"),
        ({"marker_placement_sd_m": -1}, "marker_placement_sd_m"),
        ({"conditions": {"forward": {"direction": 2}}}, "direction"),
        ({"conditions": {"sideways": {"speed_m_s": 3}}}, "pattern"),
        ({"conditions": {"forward": {"contact_time_s": 0.5}}}, "contact_time_s"),
    ],
)
def test_bad_synthetic_config_names_the_key(cfg, word):
    with pytest.raises(ConfigError, match=word):
        de.resolve_config(cfg)


def test_condition_settings_override_the_pattern_defaults():
    cfg = de.resolve_config({"conditions": {"slow_back": {"pattern": "backward", "speed_m_s": 2.5}}})
    design = cfg["conditions"]["slow_back"]
    assert design["speed_m_s"] == 2.5 and design["direction"] == -1
    assert design["contact_time_s"] == de.PATTERN_TIMING["backward"]["contact_time_s"]


def test_subjects_vary_realistically_and_keep_the_backward_timing():
    """Speed within +-0.2 m/s of 3.0; stride, contact and joint ranges spread by a few %;
    every subject still runs backward with a shorter contact and a higher stride frequency."""
    people = de.sample_subjects({"n_subjects": 8})
    speeds = np.array([p.conditions["forward"]["speed_m_s"] for p in people])
    assert np.all(np.abs(speeds - 3.0) <= 0.2) and speeds.std() > 0.05
    for p in people:
        fwd, bwd = p.conditions["forward"], p.conditions["backward"]
        assert fwd["speed_m_s"] == bwd["speed_m_s"]  # matched speed within a subject
        assert bwd["contact_time_s"] < fwd["contact_time_s"] and bwd["stride_frequency_hz"] > fwd["stride_frequency_hz"]
    for key in ("contact_time_s", "stride_frequency_hz", "range_scale"):
        spread = np.std([p.conditions["forward"][key] for p in people]) / de.PATTERN_TIMING["forward"][key]
        assert 0.01 < spread < 0.15, key
    length, breadth = zip(*[(p.scale_factors["pelvis"][1], p.scale_factors["pelvis"][2]) for p in people])
    assert not np.allclose(length, breadth)  # non-uniform proportions
    same = de.sample_subjects({"n_subjects": 2, "between_subject_scale": 0})
    assert same[0].conditions == same[1].conditions


# ------------------------------------------------------------------------ design


def _design(pattern):
    return de.resolve_config(None)["conditions"][pattern]


@pytest.mark.parametrize("pattern", ["forward", "backward"])
def test_grf_is_zero_in_flight_nonnegative_and_balances_gravity(pattern):
    design, mass = _design(pattern), 70.0
    stride_s = 1 / design["stride_frequency_hz"]
    time_s = 0.3 + np.arange(20000) * stride_s / 20000  # exactly one stride
    forces = mo.design_forces(time_s, design, mass_kg=mass, first_contact_s=0.3)
    fy = forces["r_fy"] + forces["l_fy"]
    flight = np.isnan(forces["r_u"]) & np.isnan(forces["l_u"])
    assert flight.any() and np.all(fy[flight] == 0.0) and np.all(forces["r_fx"][flight] == 0.0)
    assert np.all(fy >= 0.0)
    assert not np.any(~np.isnan(forces["r_u"]) & ~np.isnan(forces["l_u"]))  # never both feet down
    assert fy.mean() * stride_s == pytest.approx(mass * G * stride_s, rel=0.01)
    assert forces["r_fx"].mean() == pytest.approx(0.0, abs=0.01 * mass * G)


def test_peak_vertical_force_is_similar_forward_and_backward():
    """Roos et al. 2012: 2.3 vs 2.4 BW at matched speed (the old design had 2.41 vs 2.67)."""
    peaks = {}
    for pattern in ("forward", "backward"):
        design = _design(pattern)
        time_s = np.arange(0, 1 / design["stride_frequency_hz"], 1e-4)
        peaks[pattern] = mo.design_forces(time_s, design, mass_kg=70.0, first_contact_s=0.0)["r_fy"].max() / (70.0 * G)
    assert 2.3 <= peaks["forward"] <= 2.5 and peaks["backward"] / peaks["forward"] == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("pattern", ["forward", "backward"])
def test_com_is_ballistic_in_flight_and_travels_at_the_design_speed(pattern):
    design, mass = _design(pattern), 70.0
    time_s = np.arange(0, 3, 0.001)
    com = mo.design_com(time_s, design, mass_kg=mass, first_contact_s=0.6, mean_height_m=1.0)
    forces = mo.design_forces(time_s, design, mass_kg=mass, first_contact_s=0.6)
    flight = np.isnan(forces["r_u"]) & np.isnan(forces["l_u"])
    assert np.all(com["ay"][flight] == -G) and np.all(com["ax"][flight] == 0.0)
    ay = np.diff(com["y"], 2) / 0.001**2
    assert np.max(np.abs(ay - com["ay"][1:-1])) < 0.05 * np.max(np.abs(com["ay"]))
    speed = (com["x"][-1] - com["x"][0]) / (time_s[-1] - time_s[0])
    assert speed == pytest.approx(design["direction"] * design["speed_m_s"], rel=0.02)
    assert 0.03 < np.ptp(com["y"]) < 0.12  # vertical COM excursion of running, about 5-10 cm


def test_forward_joint_angles_match_the_design_values():
    duty = _design("forward")["contact_time_s"] * _design("forward")["stride_frequency_hz"]
    phase = np.linspace(0, 1, 1001)[:-1]
    angles = mo.leg_angles_deg(phase, pattern="forward")
    stance = phase < duty
    knee, hip, ankle = angles["knee_flexion"], angles["hip_flexion"], angles["ankle_dorsiflexion"]
    assert 13 <= knee[0] <= 22 and 38 <= knee[stance].max() <= 47 and 88 <= knee.max() <= 112
    assert -16 <= hip.min() <= -8 and 30 <= hip.max() <= 38
    assert -2 <= ankle[0] <= 7 and 15 <= ankle[stance].max() <= 24 and -25 <= ankle.min() <= -15


def test_backward_pattern_is_forward_reversed_with_plantarflexed_contact():
    backward = _design("backward")
    phase = np.linspace(0, 1, 1001)[:-1]
    f = mo.leg_angles_deg(phase, pattern="forward")
    b = mo.leg_angles_deg(phase, pattern="backward", range_scale=backward["range_scale"])
    assert b["ankle_dorsiflexion"][0] < -10 and b["hip_flexion"][0] < 0  # lands as forward running leaves
    assert np.ptp(b["knee_flexion"]) < np.ptp(f["knee_flexion"])  # smaller ranges backward


def test_backward_motion_is_no_faster_than_forward_played_at_its_stride_frequency():
    """The measure: each leg coordinate's share of angular-acceleration power above 12 Hz
    (what a 12 Hz low-pass takes from the accelerations ID needs) and its mean frequency.
    Backward = forward reversed in time at the backward stride frequency, not warped: at
    the mean design no coordinate has more power above 12 Hz backward than forward (the
    old warp gave the ankle 7 % backward, 0 % forward), and per subject the mean frequency
    rises no more than the stride frequency does (Cavagna et al. 2012)."""
    cfg = de.resolve_config(None)
    mean_shares = {
        c: mo.acceleration_power_share_above(cfg["conditions"][c], frequency_hz=12.0) for c in cfg["conditions"]
    }
    for coordinate, forward_share in mean_shares["forward"].items():
        assert mean_shares["backward"][coordinate] <= forward_share + 0.001, (coordinate, mean_shares)
    for person in de.sample_subjects(None):
        forward, backward = person.conditions["forward"], person.conditions["backward"]
        ratio = backward["stride_frequency_hz"] / forward["stride_frequency_hz"]
        f_mean, b_mean = (mean_acceleration_frequency_hz(d) for d in (forward, backward))
        for coordinate in f_mean:
            assert b_mean[coordinate] <= 1.001 * ratio * f_mean[coordinate], (person.subject, coordinate)


def mean_acceleration_frequency_hz(design: dict, rate_hz: float = 2000.0) -> dict[str, float]:
    """Power-weighted mean frequency of each leg coordinate's angular acceleration over 8 strides."""
    duration_s = 8 / design["stride_frequency_hz"]
    n = int(round(duration_s * rate_hz))
    time_s = np.arange(n) * duration_s / n  # whole strides: periodic, no leakage
    coords = mo.coordinate_trajectories(time_s, design, first_contact_s=0.0)
    frequency = np.fft.rfftfreq(n, d=time_s[1])
    means = {}
    for name in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r"):
        power = np.abs(np.fft.rfft(coords[name]) * frequency**2) ** 2
        means[name] = float((frequency * power).sum() / power.sum())
    return means


# -------------------------------------------------------------- checks, no OpenSim


def _contacts():
    design = _design("forward")
    return su.designed_contacts(design, first_contact_s=0.6, duration_s=3.0)


def test_event_check_passes_exact_events_and_fails_a_6_ms_shift():
    designed = _contacts()
    exact = checks.event_errors_ms(designed, designed, start_s=0.5, end_s=2.1)
    assert len(exact) and exact["error_ms"].abs().max() < 1e-9
    late = designed.assign(strike_s=designed["strike_s"] + 0.006)
    shifted = checks.event_errors_ms(late, designed, start_s=0.5, end_s=2.1)
    strikes = shifted[shifted["event"] == "strike"]["error_ms"]
    assert strikes.to_numpy() == pytest.approx(6.0) and strikes.abs().max() > checks.THRESHOLDS["event_ms"]
    missing = checks.event_errors_ms(designed[designed["side"] == "r"], designed, start_s=0.5, end_s=2.1)
    assert missing[missing["side"] == "l"]["error_ms"].isna().all()
    assert checks._worst(missing[missing["side"] == "l"]["error_ms"]) == float("inf")  # a missed event fails


def test_moment_check_measures_rms_and_peak_error_as_share_of_the_true_peak():
    time_s = np.arange(0.5, 2.1, 0.01)
    true = pd.DataFrame({"time_s": time_s})
    for side in ("r", "l"):
        for coordinate in tr.JOINTS.values():
            true[f"{coordinate}_{side}_moment_nm"] = 100 * np.sin(2 * np.pi * 1.4 * time_s) + 20
    cycles = tr.true_cycles(_contacts(), window_start_s=0.5, window_end_s=2.1)
    same = checks.moment_errors(true, true, cycles, sides={"r": "_r", "l": "_l"}, knee_extension_sign=1.0)
    assert len(same) == 3 * len(cycles) and same[["rms_pct", "peak_pct"]].abs().max().max() < 1e-9
    larger = true.copy()
    larger.iloc[:, 1:] *= 1.06
    errors = checks.moment_errors(larger, true, cycles, sides={"r": "_r", "l": "_l"}, knee_extension_sign=1.0)
    assert errors["peak_pct"].to_numpy() == pytest.approx(6.0, abs=1e-6)
    assert (errors["peak_pct"] > checks.THRESHOLDS["moment_peak_pct"]).all()


def test_difference_check_fails_an_opposite_sign_and_a_15_percent_error():
    true = pd.DataFrame(
        {
            "group": ["knee", "quadriceps"],
            "metric": ["peak_extension_moment_nm_per_kg", "mean_stance"],
            "difference_mean": [-0.4, 0.02],
            "n_subjects": [8, 8],
        }
    )
    measured = true.assign(difference_mean=[-0.46, -0.02])
    rows = checks.difference_rows(measured, true, compare=["forward", "backward"])
    assert rows["value"].to_numpy() == pytest.approx([15.0, 200.0]) and not rows["pass"].any()
    assert checks.difference_rows(true, true, compare=["forward", "backward"])["pass"].all()


# ------------------------------------------------------------- one generated subject

SMALL = {"seed": 11, "n_subjects": 1, "trial_duration_s": 2.8, "lead_in_s": 0.6}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=root)
    summary = su.generate_subject(
        SMALL,
        subject="S01",
        generic_model=root / "retrorun_planar.osim",
        inputs_dir=root / "inputs",
        truth_dir=root / "truth" / "S01",
    )
    return root, summary


def _foot_markers(model_path: str, side: str) -> tuple[str, str]:
    """The most posterior marker on the calcaneus and the most anterior one on the foot."""
    import opensim as osim

    model = osim.Model(model_path)
    state = model.initSystem()
    candidates = [
        (m.getLocationInGround(state).get(0), m.getName())
        for m in model.getMarkerSet()
        if m.getParentFrameName().split("/")[-1] in (f"calcn_{side}", f"toes_{side}")
    ]
    return min(candidates)[1], max(candidates)[1]


def test_generated_files_are_readable_by_opensim(generated):
    import opensim as osim

    root, _ = generated
    _, trials = de.study_sheets(SMALL, inputs_dir=root / "inputs")
    for row in trials.itertuples():
        table = osim.TimeSeriesTableVec3(row.markers)
        assert table.getNumRows() == int(SMALL["trial_duration_s"] * 100) + 1
        storage = osim.Storage(row.grf)
        assert storage.getSize() == int(SMALL["trial_duration_s"] * 1000) + 1
        labels = {storage.getColumnLabels().get(i) for i in range(storage.getColumnLabels().getSize())}
        assert {"ground_force_r_vy", "ground_force_l_px", "ground_torque_r_z"} <= labels
    static = read_trc(root / "inputs" / "S01_static.trc")
    assert np.nanmin([xyz[:, 1].min() for xyz in static.positions_m.values()]) > -0.01  # nothing under the floor


def test_skin_markers_are_offset_and_move_with_the_knee(generated):
    """Placement offsets of a few mm (<= 2 SD = 10 mm), soft-tissue gains on thigh and
    shank markers only, and the static markers off the model's marker positions."""
    root, _ = generated
    skin = pd.read_csv(root / "truth" / "S01" / "skin_markers.csv")
    offsets = np.hypot(skin["offset_x_m"], skin["offset_y_m"])
    assert offsets.max() <= 2 * np.sqrt(2) * 0.005 + 1e-9 and offsets.mean() > 0.002
    moving = skin[skin["sta_m_per_rad"] != 0]
    assert set(moving["body"].str.rsplit("_", n=1).str[0]) == {"femur", "tibia"}
    assert moving["sta_m_per_rad"].abs().max() <= 0.005


def test_forward_and_backward_timing_differ_as_published(generated):
    """Measured on the generated GRF: backward has a higher step frequency, shorter
    contact, longer flight (Cavagna et al. 2012) and forefoot contact (Threlkeld 1989)."""
    root, _ = generated
    truth = su.truth_paths(root / "truth" / "S01", ["forward_1"])
    heel, toe = _foot_markers(str(truth["model"]), "r")
    measured, share = {}, {}
    for condition in ("forward", "backward"):
        grf = grf_sides_table(read_storage(root / "inputs" / f"S01_{condition}_1.mot")[0])
        measured[condition] = timing_summary(grf, threshold_n=20.0)
        markers = read_trc(root / "inputs" / f"S01_{condition}_1.trc")
        share[condition] = contact_cop_share(grf, markers, side="r", heel_marker=heel, toe_marker=toe, threshold_n=20.0)
    fwd, bwd = measured["forward"], measured["backward"]
    assert bwd["step_frequency_hz"] > fwd["step_frequency_hz"]
    assert bwd["contact_time_s"] < fwd["contact_time_s"]
    assert bwd["flight_time_s"] > fwd["flight_time_s"]
    assert 2.5 < fwd["step_frequency_hz"] < 3.1  # stride frequency about 1.4 Hz
    assert fwd["cop_travel_m"] > 0 > bwd["cop_travel_m"]  # heel -> toe forward, toe -> heel backward
    assert share["forward"] < 0.4 and share["backward"] > 0.6


def test_designed_contacts_are_the_ones_in_the_force(generated):
    root, _ = generated
    for trial in ("forward_1", "backward_1"):
        truth = su.truth_paths(root / "truth" / "S01", [trial])
        grf = grf_sides_table(read_storage(truth[f"{trial}/grf"])[0])
        designed = pd.read_csv(truth[f"{trial}/contacts"])
        loaded = grf["r_force_y_n"].to_numpy() > 0
        for row in designed[(designed["side"] == "r") & (designed["toe_off_s"] < 2.5)].itertuples():
            inside = (grf["time_s"] > row.strike_s + 0.002) & (grf["time_s"] < row.toe_off_s - 0.002)
            outside = (grf["time_s"] > row.toe_off_s + 0.002) & (grf["time_s"] < row.toe_off_s + 0.02)
            assert loaded[inside.to_numpy()].all() and not loaded[outside.to_numpy()].any()


def test_inverse_dynamics_on_the_truth_leaves_no_root_residual(generated, tmp_path):
    root, _ = generated
    peaks = {}
    for trial in ("forward_1", "backward_1"):
        truth = su.truth_paths(root / "truth" / "S01", [trial])
        forces = tr.inverse_dynamics(
            model_path=truth["model"],
            coordinates_mot=truth[f"{trial}/coordinates_mot"],
            grf_mot=truth[f"{trial}/grf"],
            work_dir=tmp_path / trial,
            time_range=(0.5, 2.1),
        )
        stance = forces["grf_n"] > 20
        assert forces["root_residual_n"][stance].max() < 0.02 * forces["grf_n"].max()
        assert forces["pelvis_tilt_moment_nm"].abs().max() < 20.0  # angular momentum balanced too
        peaks[trial] = forces["knee_angle_r_moment_nm"].max()
    # Roos et al. 2012: about 20 % lower backward at matched speed
    assert -0.35 < peaks["backward_1"] / peaks["forward_1"] - 1 < -0.05


@pytest.mark.parametrize("law", ["mass", "mass_height"])
def test_truth_so_uses_the_pipelines_strength_law(generated, tmp_path, law):
    """The yardstick's SO model is the pipeline's: the same strength law on the subject's
    body size (the truth once ran at the generic strength while the pipeline scaled it)."""
    import opensim as osim

    from retrorun import opensim_tools

    root, summary = generated
    settings = {
        "max_isometric_force_scale": 1.5,
        "residual_optimal_force": 100.0,
        "reserve_optimal_force": 1.0,
        "unmuscled_optimal_force": 100.0,
        "strength_scaling": law,
        "reference_height_m": 1.8,
    }
    model, generic = root / "truth" / "S01" / "true_model.osim", root / "retrorun_planar.osim"
    body = {"mass_kg": summary["mass_kg"], "height_m": summary["height_m"]}
    tr.so_model(model_path=model, out_model=tmp_path / "truth.osim", settings=settings, generic_model=generic, **body)
    opensim_tools.prepare_so_model(
        model_path=str(model),
        out_model=str(tmp_path / "pipeline.osim"),
        **{k: v for k, v in settings.items() if k != "reference_height_m"},
        generic_model_path=str(generic),
        reference_height_m=settings["reference_height_m"],
        **body,
    )
    truth, pipeline, true = (osim.Model(str(p)) for p in (tmp_path / "truth.osim", tmp_path / "pipeline.osim", model))
    for muscle in true.getMuscles():
        name = muscle.getName()
        assert truth.getMuscles().get(name).getMaxIsometricForce() == pytest.approx(
            pipeline.getMuscles().get(name).getMaxIsometricForce(), rel=1e-9
        )
        # scaled: a subject lighter or heavier than the generic model is not at generic strength
        assert truth.getMuscles().get(name).getMaxIsometricForce() != pytest.approx(
            1.5 * muscle.getMaxIsometricForce(), rel=1e-3
        )


@pytest.mark.slow
def test_ground_truth_check_passes_the_truth_and_fails_it_distorted(generated, tmp_path):
    """The truth, dressed as pipeline outputs, passes every new check; the same with the
    strikes 6 ms late, or the knee moment 6 % high, fails exactly those checks."""
    root, summary = generated
    trial, truth_dir = "forward_1", root / "truth" / "S01"
    truth = su.truth_paths(truth_dir, [trial])
    window = de.analysis_window(de.resolve_config(SMALL), de.sample_subjects(SMALL)[0].conditions["forward"])
    settings = {
        "max_isometric_force_scale": 1.0,
        "residual_optimal_force": 100.0,
        "reserve_optimal_force": 1.0,
        "unmuscled_optimal_force": 100.0,
        "activation_exponent": 2,
        "strength_scaling": "mass",
        "reference_height_m": 1.8,
    }
    groups = {
        "quadriceps": ["rect_fem", "vas_lat", "vas_med", "vas_int"],
        "hamstrings": ["semimem", "semiten", "bifemlh", "bifemsh"],
    }
    sides = {"r": "_r", "l": "_l"}
    out = su.outcome_paths(truth_dir, trial)
    id_forces = tr.inverse_dynamics(
        model_path=truth["model"],
        coordinates_mot=truth[f"{trial}/coordinates_mot"],
        grf_mot=truth[f"{trial}/grf"],
        work_dir=tmp_path / "id",
        time_range=window,
    )
    activations = tr.static_optimization(
        model_path=truth["model"],
        coordinates_mot=truth[f"{trial}/coordinates_sampled_mot"],
        grf_mot=truth[f"{trial}/grf"],
        settings=settings,
        generic_model=root / "retrorun_planar.osim",
        mass_kg=summary["mass_kg"],
        height_m=summary["height_m"],
        work_dir=tmp_path / "so",
        time_range=window,
    )
    cycles = tr.true_cycles(pd.read_csv(truth[f"{trial}/contacts"]), window_start_s=window[0], window_end_s=window[1])
    metrics = tr.cycle_metrics(
        cycles,
        activations=activations,
        id_forces=id_forces,
        groups=groups,
        sides=sides,
        weights=None,
        mass_kg=70.0,
        knee_coordinate="knee_angle",
        knee_signs={"r": 1.0, "l": 1.0},
        floors={},
    )
    assert len(cycles) == 3 and activations.drop(columns="time_s").notna().all().all()
    for key, table in (("id", id_forces), ("activations", activations), ("cycles", cycles), ("metrics", metrics)):
        table.to_csv(out[key], index=False)
    fake = tmp_path / "pipeline"
    fake.mkdir()
    pd.read_csv(truth[f"{trial}/coordinates"]).to_csv(fake / "ik_coordinates.csv", index=False)
    grf_sides_table(read_storage(truth[f"{trial}/grf"])[0]).to_csv(fake / "grf.csv", index=False)
    activations.to_csv(fake / "so_activations.csv", index=False)
    metrics.drop(columns="strike_s").to_csv(fake / "cycle_metrics.csv", index=False)

    # the pipeline's cycles.csv lists every contact, the cycles it used numbered from 0
    every = pd.read_csv(truth[f"{trial}/contacts"]).merge(cycles[["side", "strike_s", "cycle"]], how="left")
    every = every.fillna({"cycle": -1}).astype({"cycle": int})

    def check(ids, contacts):
        ids.to_csv(fake / "id_generalized_forces.csv", index=False)
        contacts.to_csv(fake / "cycles.csv", index=False)
        contacts.to_csv(fake / "contacts.csv", index=False)  # stage detect_contacts' table (extra columns unread)
        table = checks.ground_truth_rows(
            subject="S01",
            truth_dir=truth_dir,
            scaled_model=truth["model"],
            trials={trial: {"dir": fake, "start_s": window[0], "end_s": window[1]}},
            groups=groups,
            sides=sides,
        )
        return table[~table["check"].isin(["segment_length_error", "ik_rms_error", "root_residual_force"])]

    table = check(id_forces, every)
    assert set(table["check"]) == {
        "event_timing_error",
        "joint_moment_rms_error",
        "joint_moment_peak_error",
        "activation_rms_error",
        "qh_stance_ratio_error",
        "root_residual_moment",
    }
    assert table["pass"].all(), table[~table["pass"]]
    late = check(id_forces, every.assign(strike_s=every["strike_s"] + 0.006))
    assert set(late[~late["pass"]]["check"]) == {"event_timing_error"}
    strong = id_forces.copy()
    for side in ("r", "l"):
        strong[f"knee_angle_{side}_moment_nm"] *= 1.06
    failed = check(strong, every)
    failed = failed[~failed["pass"]]
    assert "joint_moment_peak_error" in set(failed["check"])
    assert set(failed["check"]) <= {"joint_moment_rms_error", "joint_moment_peak_error"}
    assert set(failed["quantity"].str.split("_").str[0]) == {"knee"}
