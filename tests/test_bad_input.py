"""Bad input a lab would hand over: each case is refused with a message that names the
file and says what to change, at validation (when Snakemake parses the workflow),
before any OpenSim job. The study is the real gait2392 walking data from
../shared/data with one thing broken per test, written to tmp_path."""

import re

import numpy as np
import pytest
import yaml
from conftest import REPO, shared
from workflow_runner import snakemake

from retrorun.config import load_config, load_study
from retrorun.errors import InputError, RetrorunError
from retrorun.formats import MarkerTable, read_storage, read_trc, write_storage, write_trc
from retrorun.markers import prepare_markers
from retrorun.validation import validate_study_inputs

SUBJECT_HEADER = "subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s\n"
TRIAL_HEADER = "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n"


@pytest.fixture
def data():
    return shared("gait2392-walk")


def write_study(tmp_path, data, *, subjects=None, trials=None, **config_changes):
    """A valid study (one subject, one walking trial) unless a part is replaced."""
    config = yaml.safe_load((REPO / "config/examples/gait2392-walk/config.yaml").read_text())
    for key, value in config["model"].items():
        config["model"][key] = str(data / value.rsplit("/", 1)[1])
    config |= {"study": "bad", "subjects": "subjects.tsv", "trials": "trials.tsv"}
    config.pop("analysis", None)
    for key, value in config_changes.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = config[key] | value
        else:
            config[key] = value
    subjects = subjects or [f"S01\t72.6\t1.80\t{data / 'subject01_static.trc'}\t1.0\t2.0"]
    trials = trials or [
        f"S01\twalk1\twalk\t{data / 'subject01_walk1.trc'}\t{data / 'subject01_walk1_grf.mot'}\t0.6\t1.8"
    ]
    (tmp_path / "subjects.tsv").write_text(SUBJECT_HEADER + "\n".join(subjects) + "\n")
    (tmp_path / "trials.tsv").write_text(TRIAL_HEADER + "\n".join(trials) + "\n")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def refused(path) -> str:
    """The message with which validation refuses the study at ``path``."""
    with pytest.raises(RetrorunError) as caught:
        validate_study_inputs(load_study(load_config(path)))
    return str(caught.value)


def trial_row(data, *, markers=None, grf=None, start="0.6", end="1.8", trial="walk1", subject="S01", condition="walk"):
    return (
        f"{subject}\t{trial}\t{condition}\t{markers or data / 'subject01_walk1.trc'}\t"
        f"{grf or data / 'subject01_walk1_grf.mot'}\t{start}\t{end}"
    )


def test_the_valid_study_passes(tmp_path, data):
    warnings = validate_study_inputs(load_study(load_config(write_study(tmp_path, data))))
    assert all("patella" in w for w in warnings)  # gait2392's own setup scales bodies it lacks


# ------------------------------------------------------------------------ files


def test_missing_marker_file(tmp_path, data):
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=tmp_path / "walk9.trc")]))
    assert "walk9.trc does not exist" in message and "check the path in the sheet" in message
    assert "subject S01, trial walk1" in message


def test_missing_grf_file(tmp_path, data):
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=tmp_path / "walk9_grf.mot")]))
    assert "walk9_grf.mot does not exist" in message and "check the path" in message


def test_missing_model_file(tmp_path, data):
    message = refused(write_study(tmp_path, data, model={"osim": str(tmp_path / "nomodel.osim")}))
    assert "model.osim" in message and "nomodel.osim does not exist" in message and "correct the paths" in message


def test_model_opensim_cannot_load(tmp_path, data):
    broken = tmp_path / "broken.osim"
    broken.write_text(
        '<?xml version="1.0"?>\n<OpenSimDocument Version="40000"><Model name="x"><BodySet><objects>'
        '<Body name="b"><mass>oops</mass></Body></objects></BodySet>\n'
    )
    message = refused(write_study(tmp_path, data, model={"osim": str(broken)}))
    assert "OpenSim cannot load the model" in message and "broken.osim" in message
    assert "open the model in the OpenSim GUI" in message


def test_malformed_trc_header(tmp_path, data):
    lines = (data / "subject01_walk1.trc").read_text().splitlines()
    lines[1] = lines[1].replace("Units", "Unitz")
    bad = tmp_path / "walk1.trc"
    bad.write_text("\n".join(lines) + "\n")
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=bad)]))
    assert "walk1.trc: TRC header line 2 lacks 'Units'" in message and "export a standard TRC header" in message


@pytest.mark.parametrize("unit", ["deg", ""])
def test_marker_units_missing_or_not_length(tmp_path, data, unit):
    lines = (data / "subject01_walk1.trc").read_text().splitlines()
    cells = lines[2].split("\t")
    cells[4] = unit
    lines[2] = "\t".join(cells)
    bad = tmp_path / "walk1.trc"
    bad.write_text("\n".join(lines) + "\n")
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=bad)]))
    assert f"walk1.trc: marker units '{unit}' are not a length unit" in message and "set Units to one of" in message


def test_malformed_mot_header(tmp_path, data):
    text = (data / "subject01_walk1_grf.mot").read_text().replace("endheader", "end")
    bad = tmp_path / "walk1_grf.mot"
    bad.write_text(text)
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=bad)]))
    assert "walk1_grf.mot: no 'endheader' line" in message and "export the forces as an OpenSim .mot" in message


def modified_grf(tmp_path, data, change):
    table, _ = read_storage(data / "subject01_walk1_grf.mot")
    table = change(table)
    path = tmp_path / "walk1_grf.mot"
    write_storage(path, table, in_degrees=False)
    return path


def test_grf_missing_columns(tmp_path, data):
    bad = modified_grf(tmp_path, data, lambda t: t.drop(columns=["1_ground_force_vy"]))
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=bad)]))
    assert "walk1_grf.mot lacks column(s) 1_ground_force_vy" in message and "fix the identifiers" in message


def test_grf_not_covering_the_window(tmp_path, data):
    bad = modified_grf(tmp_path, data, lambda t: t[t["time"] <= 1.2])
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=bad)]))
    assert re.search(r"walk1_grf.mot covers 0-1.2\d* s, not the whole analysis window 0.6-1.8 s", message)
    assert "correct start_s/end_s or the GRF file" in message


def test_grf_time_not_increasing(tmp_path, data):
    def swap(t):
        t = t.copy()
        t.loc[[100, 101], "time"] = t.loc[[101, 100], "time"].to_numpy()
        return t

    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=modified_grf(tmp_path, data, swap))]))
    assert "time column of" in message and "walk1_grf.mot does not increase at data row 102" in message
    assert "export the GRF again" in message


def test_nan_in_grf_vertical_force(tmp_path, data):
    def holes(t):
        t = t.copy()
        t.loc[(t["time"] > 1.0) & (t["time"] < 1.05), "ground_force_vy"] = np.nan
        return t

    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=modified_grf(tmp_path, data, holes))]))
    assert (
        "walk1_grf.mot: column 'ground_force_vy' has" in message and "empty/NaN" in message and "fill them" in message
    )


def test_nan_in_grf_outside_the_analysis_window_is_not_a_problem(tmp_path, data):
    # only the rows the analysis reads (0.6-1.8 s, edges within 1e-6 s) are checked
    def holes(t):
        t = t.copy()
        t.loc[(t["time"] < 0.6 - 2e-6) | (t["time"] > 1.8 + 2e-6), "ground_force_vy"] = np.nan
        return t

    study = write_study(tmp_path, data, trials=[trial_row(data, grf=modified_grf(tmp_path, data, holes))])
    validate_study_inputs(load_study(load_config(study)))
    edge = modified_grf(tmp_path, data, lambda t: t.assign(ground_force_vy=t["ground_force_vy"].where(t["time"] < 1.8)))
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=edge)]))
    found = r"column 'ground_force_vy' has \d+ empty/NaN value\(s\) in the analysis window \(first at 1.8 s\)"
    assert re.search(found, message)


def test_empty_time_cell_in_grf(tmp_path, data):
    # a NaN time compares false both ways: the check that the times increase let it through
    def hole(t):
        t = t.copy()
        t.loc[100, "time"] = np.nan
        return t

    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=modified_grf(tmp_path, data, hole))]))
    assert "time column of" in message and "walk1_grf.mot does not increase at data row 101" in message


def test_downward_grf_vertical_force(tmp_path, data):
    flipped = modified_grf(tmp_path, data, lambda t: t.assign(ground_force_vy=-t["ground_force_vy"]))
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=flipped)]))
    assert "column 'ground_force_vy' goes down to" in message and "force sign or axes are wrong" in message


def test_no_foot_contact(tmp_path, data):
    def unloaded(t):
        return t.assign(**{c: 0.0 for c in t.columns if c != "time"})

    message = refused(write_study(tmp_path, data, trials=[trial_row(data, grf=modified_grf(tmp_path, data, unloaded))]))
    assert "no foot contact" in message and "walk1_grf.mot" in message and "grf.contact_threshold_n = 20 N" in message


def test_trc_rate_disagrees_with_time_column(tmp_path, data):
    lines = (data / "subject01_walk1.trc").read_text().splitlines()
    lines[2] = lines[2].replace("60.00", "120.00", 1)
    bad = tmp_path / "walk1.trc"
    bad.write_text("\n".join(lines) + "\n")
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=bad)]))
    assert "walk1.trc: DataRate says 120 Hz but the Time column steps at 60 Hz" in message
    assert "correct DataRate in the TRC header" in message


def test_window_beyond_the_trial_end(tmp_path, data):
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, end="9.5")]))
    assert "analysis window 0.6-9.5 s is outside the markers in" in message and "subject01_walk1.trc" in message
    assert "correct start_s/end_s in the trials sheet" in message


def test_static_window_beyond_the_static_trial(tmp_path, data):
    message = refused(
        write_study(tmp_path, data, subjects=[f"S01\t72.6\t1.80\t{data / 'subject01_static.trc'}\t1.0\t30"])
    )
    assert "static_end_s 30 s is outside the static trial" in message and "subject01_static.trc" in message


def test_markers_named_the_lab_s_way(tmp_path, data):
    markers = read_trc(data / "subject01_walk1.trc")
    renamed = MarkerTable(
        markers.time_s, {f"LAB_{i}": xyz for i, xyz in enumerate(markers.positions_m.values())}, markers.rate_hz
    )
    write_trc(tmp_path / "walk1.trc", renamed)
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, markers=tmp_path / "walk1.trc")]))
    assert "none of the IK task markers are in" in message and "add marker_aliases to the config" in message
    # the fix the message names works: with aliases back to the model's names the study passes
    aliases = {f"LAB_{i}": name for i, name in enumerate(markers.positions_m)}
    study = write_study(
        tmp_path, data, trials=[trial_row(data, markers=tmp_path / "walk1.trc")], marker_aliases=aliases
    )
    validate_study_inputs(load_study(load_config(study)))


# ----------------------------------------------------------------------- sheets


def test_trial_of_a_subject_absent_from_subjects(tmp_path, data):
    message = refused(write_study(tmp_path, data, trials=[trial_row(data, subject="S02")]))
    assert "trials.tsv row 2: subject 'S02' is not in" in message and "subjects.tsv" in message
    assert "add a row for it there" in message


def test_duplicate_trial_ids(tmp_path, data):
    message = refused(write_study(tmp_path, data, trials=[trial_row(data), trial_row(data)]))
    assert "trials.tsv: trial 'walk1' of subject 'S01' is listed twice" in message


@pytest.mark.parametrize(
    "mass, said",
    [
        ("0", "less than or equal to the minimum of 0"),
        ("-70", "less than or equal to the minimum of 0"),
        ("72600", "is outside 20-250 kg (is it in g or lb? config sheets.mass_kg_range"),
        ("7", "is outside 20-250 kg"),
    ],
)
def test_mass_not_plausible(tmp_path, data, mass, said):
    message = refused(
        write_study(tmp_path, data, subjects=[f"S01\t{mass}\t1.80\t{data / 'subject01_static.trc'}\t1.0\t2.0"])
    )
    assert "subjects.tsv" in message and "mass_kg" in message and said in message


def test_sheet_saved_with_commas(tmp_path, data):
    path = write_study(tmp_path, data)
    sheet = tmp_path / "trials.tsv"
    sheet.write_text(sheet.read_text().replace("\t", ","))
    message = refused(path)
    assert "trials sheet" in message and "trials.tsv is separated by commas, not tabs" in message
    assert "save the sheet as tab-separated text" in message


def test_compared_conditions_absent_from_the_sheet(tmp_path, data):
    path = write_study(tmp_path, data, analysis={"compare": ["forward", "backward"]})
    message = refused(path)
    assert "analysis.compare names condition(s) 'forward', 'backward'" in message and "trials.tsv" in message
    assert "its conditions: walk" in message and "set analysis.compare" in message


def test_default_comparison_is_checked_when_the_sheet_has_two_conditions(tmp_path, data):
    trials = [trial_row(data, condition="fwd"), trial_row(data, trial="walk2", condition="bwd")]
    message = refused(write_study(tmp_path, data, trials=trials))
    assert "analysis.compare names condition(s) 'forward', 'backward'" in message


def test_one_condition_study_with_the_default_pair_runs(tmp_path, data):
    validate_study_inputs(load_study(load_config(write_study(tmp_path, data))))


# -------------------------------------------------------------- templates, model


def test_ik_template_naming_a_marker_the_model_lacks(tmp_path, data):
    text = (
        (data / "subject01_Setup_IK.xml")
        .read_text()
        .replace('IKMarkerTask name="R.Heel"', 'IKMarkerTask name="R.Heal"')
    )
    (tmp_path / "ik.xml").write_text(text)
    message = refused(write_study(tmp_path, data, model={"ik_tasks": str(tmp_path / "ik.xml")}))
    assert "ik.xml: marker 'R.Heal' is not in the model's marker set" in message and "remove the task" in message


def test_ik_template_naming_a_coordinate_the_model_lacks(tmp_path, data):
    text = (data / "subject01_Setup_IK.xml").read_text()
    assert "<IKCoordinateTask" in text
    text = re.sub(r'IKCoordinateTask name="[^"]+"', 'IKCoordinateTask name="knee_angle_x"', text, count=1)
    (tmp_path / "ik.xml").write_text(text)
    message = refused(write_study(tmp_path, data, model={"ik_tasks": str(tmp_path / "ik.xml")}))
    assert "ik.xml: coordinate 'knee_angle_x' is not in the model" in message


def test_external_loads_naming_a_body_the_model_lacks(tmp_path, data):
    text = (data / "subject01_walk1_grf.xml").read_text().replace("calcn_l", "calcaneus_l")
    (tmp_path / "grf.xml").write_text(text)
    message = refused(write_study(tmp_path, data, model={"external_loads": str(tmp_path / "grf.xml")}))
    assert (
        "grf.xml: ExternalForce 'ExternalForce_2' applied_to_body 'calcaneus_l' is not a body of the model" in message
    )


def test_external_loads_in_a_body_frame_are_refused_before_any_job(tmp_path, data):
    """grf.check_ground_frame: the GRF stage's own check, made up front, for the config's
    template and for a trial's own external loads."""
    text = (data / "subject01_walk1_grf.xml").read_text()
    text = text.replace(
        "<force_expressed_in_body> ground </force_expressed_in_body>",
        "<force_expressed_in_body> calcn_r </force_expressed_in_body>",
        1,
    )
    bad = tmp_path / "grf.xml"
    bad.write_text(text)
    message = refused(write_study(tmp_path, data, model={"external_loads": str(bad)}))
    assert f"ExternalForce 'ExternalForce_1' in {bad} is expressed in a body frame" in message
    config = write_study(tmp_path, data)
    header = TRIAL_HEADER.replace("end_s", "end_s\texternal_loads")
    (tmp_path / "trials.tsv").write_text(header + trial_row(data) + f"\t{bad}\n")
    assert f"subject S01, trial walk1: ExternalForce 'ExternalForce_1' in {bad} is expressed" in refused(config)


def test_muscle_group_naming_a_muscle_the_model_lacks(tmp_path, data):
    path = write_study(
        tmp_path, data, muscle_groups={"quadriceps": ["rect_fem", "vastus_lat"], "hamstrings": ["semimem"]}
    )
    message = refused(path)
    assert "config muscle_groups.quadriceps: muscle 'vastus_lat_r' (side r) is not in the model" in message


# ------------------------------------------------------------- gaps and aliases


def gappy_markers(gap_frames: int) -> MarkerTable:
    time_s = np.arange(100) / 100.0
    xyz = np.column_stack([np.sin(time_s), np.cos(time_s), time_s**2])
    holed = xyz.copy()
    holed[40 : 40 + gap_frames] = np.nan
    return MarkerTable(time_s, {"HEEL": holed, "TOE": xyz.copy()}, 100.0, "lab/walk.trc")


def test_a_trial_whose_data_rate_is_wrong_is_refused_by_the_stage_as_at_validation():
    """markers.check_marker_timing: before any job on the study's TRCs, and in IK and
    scaling on the TRC they read (before, the stage took every second frame for a gap)."""
    from retrorun.markers import check_marker_timing

    markers = gappy_markers(0)
    wrong = MarkerTable(markers.time_s, markers.positions_m, 200.0, markers.source)
    assert check_marker_timing(wrong, wrong.source) == [
        "lab/walk.trc: DataRate says 200 Hz but the Time column steps at 100 Hz; correct DataRate in the TRC header "
        "(line 3) or the Time column"
    ]
    with pytest.raises(InputError) as err:
        prepare_markers(wrong, aliases={}, gaps={}, subject="S01", trial="walk1")
    assert err.value.message == check_marker_timing(wrong, wrong.source)[0]


def test_short_gap_is_filled_by_a_cubic_spline():
    filled = prepare_markers(
        gappy_markers(5), aliases={}, gaps={"max_gap_s": 0.1, "long_gap_policy": "fail"}, subject="S01", trial="walk1"
    )
    truth = np.sin(np.arange(100) / 100.0)
    assert not np.isnan(filled.positions_m["HEEL"]).any()
    assert np.allclose(filled.positions_m["HEEL"][40:45, 0], truth[40:45], atol=1e-6)


def test_long_gap_fails_naming_marker_trial_and_frames():
    with pytest.raises(InputError) as caught:
        prepare_markers(
            gappy_markers(30),
            aliases={},
            gaps={"max_gap_s": 0.1, "long_gap_policy": "fail"},
            subject="S01",
            trial="walk1",
        )
    message = str(caught.value)
    assert "S01/walk1" in message and "lab/walk.trc" in message and "HEEL frames 41-70 (0.400-0.690 s)" in message
    assert "raise gaps.max_gap_s" in message and "long_gap_policy: ignore_marker" in message


def test_long_gap_is_left_out_of_ik_when_asked():
    kept = prepare_markers(
        gappy_markers(30),
        aliases={},
        gaps={"max_gap_s": 0.1, "long_gap_policy": "ignore_marker"},
        subject="S01",
        trial="walk1",
    )
    heel = kept.positions_m["HEEL"]
    assert np.isnan(heel[40:70]).all() and not np.isnan(heel[:40]).any()  # NaN: OpenSim IK gives it no weight there
    assert kept.extra["long_gaps"] == [("HEEL", 40, 69)]


def test_frames_with_too_few_markers_for_ik_are_refused_naming_the_span():
    """Every weighted marker lost for 0.3 s (ignore_marker keeps the gap): OpenSim's IK
    fails there and the fast solver would hold the last pose, so IK refuses it first,
    for either solver, naming subject, trial, file and time span."""
    from retrorun.errors import KinematicsError
    from retrorun.markers import require_tracked_frames

    markers = gappy_markers(0)
    names = ["HEEL", "TOE", "KNEE", "HIP"]
    positions = {name: markers.positions_m["TOE"] + i for i, name in enumerate(names)}
    for name in names[1:]:  # one marker left in frames 51-80
        positions[name][50:80] = np.nan
    lost = MarkerTable(markers.time_s, positions, 100.0, "lab/walk.trc")
    kept = prepare_markers(
        lost, aliases={}, gaps={"max_gap_s": 0.1, "long_gap_policy": "ignore_marker"}, subject="S01", trial="walk1"
    )
    with pytest.raises(KinematicsError):  # three weighted, one seen
        require_tracked_frames(kept, ["HEEL", "TOE", "KNEE"], subject="S01", trial="walk1")
    with pytest.raises(KinematicsError) as caught:
        require_tracked_frames(kept, names, subject="S01", trial="walk1")
    message = str(caught.value)
    assert "S01/walk1" in message and "lab/walk.trc" in message and "frames 51-80 (0.500-0.790 s)" in message
    assert "start_s/end_s" in message and caught.value.stage == "inverse_kinematics"
    require_tracked_frames(kept.window(0.0, 0.49), names)  # outside the gap: nothing to refuse


def test_frames_missing_from_the_file_count_as_a_gap():
    markers = gappy_markers(0)
    keep = np.r_[0:40, 43:100]
    dropped = MarkerTable(
        markers.time_s[keep], {k: v[keep] for k, v in markers.positions_m.items()}, 100.0, "lab/walk.trc"
    )
    filled = prepare_markers(dropped, aliases={}, gaps={"max_gap_s": 0.1}, subject="S01", trial="walk1")
    assert len(filled.time_s) == 100
    assert np.allclose(filled.positions_m["TOE"][40:43, 0], np.sin(np.arange(40, 43) / 100.0), atol=1e-6)


def test_aliases_rename_lab_markers_and_refuse_a_clash():
    renamed = prepare_markers(gappy_markers(0), aliases={"HEEL": "R.Heel"}, gaps={}, subject="S01", trial="walk1")
    assert renamed.marker_names == ["R.Heel", "TOE"]
    with pytest.raises(InputError, match="markers 'HEEL' and 'TOE' would both be called 'R.Heel'"):
        prepare_markers(
            gappy_markers(0), aliases={"HEEL": "R.Heel", "TOE": "R.Heel"}, gaps={}, subject="S01", trial="walk1"
        )


# ---------------------------------------------------------------------------- C3D


def c3d_with_units(tmp_path, unit):
    ezc3d = pytest.importorskip("ezc3d")
    c3d = ezc3d.c3d(str(shared("c3d") / "walking2.c3d"))
    c3d["parameters"]["POINT"]["UNITS"]["value"] = [unit]
    path = tmp_path / f"units_{unit or 'none'}.c3d"
    c3d.write(str(path))
    return path


@pytest.mark.parametrize(
    "unit, said", [("deg", "POINT:UNITS is 'deg', not a length unit"), ("", "POINT:UNITS is missing")]
)
def test_c3d_marker_units_missing_or_not_length(tmp_path, data, unit, said):
    path = c3d_with_units(tmp_path, unit)
    message = refused(write_study(tmp_path, data, trials=[f"S01\twalk2\twalk\t{path}\t\t2.2\t3.3"]))
    assert said in message and path.name in message and "POINT:UNITS" in message


def test_c3d_window_beyond_the_trial(tmp_path, data):
    path = shared("c3d") / "walking2.c3d"
    message = refused(write_study(tmp_path, data, trials=[f"S01\twalk2\twalk\t{path}\t\t2.2\t7.0"]))
    assert "analysis window 2.2-7 s is outside the markers in" in message and "walking2.c3d" in message


# ------------------------------------------------------------- through Snakemake


@pytest.mark.slow
def test_snakemake_refuses_to_plan_a_bad_study(tmp_path, data):
    """The same checks run when Snakemake parses the workflow: a dry run fails, no job starts."""
    bad = modified_grf(tmp_path, data, lambda t: t[t["time"] <= 1.2])
    config = write_study(
        tmp_path, data, trials=[trial_row(data, grf=bad), trial_row(data, trial="walk2", subject="S02")]
    )
    work = tmp_path / "run"
    result = snakemake(work, config, "-n")
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert "subject 'S02' is not in" in said  # the sheets are checked first...
    config = write_study(tmp_path, data, trials=[trial_row(data, grf=bad)])
    result = snakemake(work, config, "-n")
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "walk1_grf.mot covers" in said  # ...then the files
    # no job ran, and nothing was written under results/ (the up-front checks' cache is Snakemake state)
    assert "Job stats" not in said and not (work / "results").exists()


def test_c3d_trial_with_a_template_naming_mot_columns(tmp_path, data):
    """The gait2392 template names the columns of its own .mot (ground_force_v, 1_ground_force_v),
    which a C3D import does not write."""
    path = shared("c3d") / "walking2.c3d"
    message = refused(write_study(tmp_path, data, trials=[f"S01\twalk2\twalk\t{path}\t\t2.2\t3.3"]))
    assert "ExternalForce 'ExternalForce_1' reads ground_force_vx" in message and "walking2.c3d" in message
    assert "ground_force_<side>_v" in message


def test_one_condition_study_naming_one_compared_condition_runs(tmp_path, data):
    """hamner-run: forward trials only, compare: [forward, backward] (the backward ones are to come)."""
    path = write_study(tmp_path, data, analysis={"compare": ["walk", "backward"]})
    validate_study_inputs(load_study(load_config(path)))


def test_strength_scaling_by_height_without_a_height_is_refused_before_any_job(tmp_path, data):
    """The SO stage's own check (strength.check_subject_size), made up front too."""
    subjects = [f"S01\t72.6\t\t{data / 'subject01_static.trc'}\t1.0\t2.0"]
    message = refused(
        write_study(tmp_path, data, subjects=subjects, static_optimization={"strength_scaling": "mass_height"})
    )
    assert "subject S01: strength_scaling mass_height needs the subject's height; fill height_m" in message


def test_generated_files_are_those_below_results_of_the_directory_snakemake_runs_in(tmp_path, monkeypatch):
    """The library reads the working directory when it checks, not when it is imported."""
    from retrorun import validation

    monkeypatch.chdir(tmp_path)
    assert validation._generated(tmp_path / "results" / "demo" / "inputs" / "S01_static.trc")
    assert not validation._generated(tmp_path / "data" / "S01_static.trc")


def test_marker_out_of_view_at_the_start_is_left_empty_even_when_gaps_fail():
    markers = gappy_markers(0)
    markers.positions_m["HEEL"][:20] = np.nan
    kept = prepare_markers(
        markers, aliases={}, gaps={"max_gap_s": 0.1, "long_gap_policy": "fail"}, subject="S01", trial="walk1"
    )
    assert np.isnan(kept.positions_m["HEEL"][:20]).all() and kept.extra["edge_gaps"] == [("HEEL", 0, 19)]


def test_frames_missing_from_a_trc_are_not_taken_for_a_wrong_rate(tmp_path, data):
    lines = (data / "subject01_walk1.trc").read_text().splitlines()
    del lines[5 + 40 : 5 + 43]  # three frames lost in export: a gap for prepare_markers, not a header mistake
    (tmp_path / "walk1.trc").write_text("\n".join(lines) + "\n")
    validate_study_inputs(
        load_study(load_config(write_study(tmp_path, data, trials=[trial_row(data, markers=tmp_path / "walk1.trc")])))
    )


@pytest.mark.parametrize(
    "column, name", [("subject", ".."), ("trial", ".hidden"), ("subject", "a/b"), ("trial", "a b")]
)
def test_a_name_that_is_no_plain_folder_name_is_refused_by_a_dry_run(tmp_path, data, column, name):
    """Subject and trial ids become folders (results/<study>/trials/<subject>/<trial>/):
    `..` would put a subject's results outside its folder."""
    subject = name if column == "subject" else "S01"
    trial = name if column == "trial" else "walk1"
    config = write_study(
        tmp_path,
        data,
        subjects=[f"{subject}\t72.6\t1.80\t{data / 'subject01_static.trc'}\t1.0\t2.0"],
        trials=[trial_row(data, subject=subject, trial=trial)],
    )
    result = snakemake(tmp_path / "run", config, "-n")
    said = result.stdout + result.stderr
    assert result.returncode != 0
    sheet = "subjects" if column == "subject" else "trials"
    assert (
        f"{sheet} sheet {tmp_path / f'{sheet}.tsv'}:\n  - row 2, column '{column}': {name!r} cannot be used as a name"
        in said
    )
    assert "Job stats" not in said


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("S01", True),
        ("run-2.b_x", True),
        ("..", False),
        (".hidden", False),
        ("a/b", False),
        ("a b", False),
        ("../escape", False),
    ],
)
def test_study_names_follow_the_same_pattern(tmp_path, data, name, allowed):
    path = write_study(tmp_path, data, study=name)
    if allowed:
        assert load_config(path).values["study"] == name
    else:
        with pytest.raises(RetrorunError, match=f"key 'study': {re.escape(repr(name))} cannot be used as a name"):
            load_config(path)


def test_rounded_time_column_is_put_back_on_the_data_rate_grid():
    """A 60 Hz TRC exported with its Time column rounded to 1 ms (0.017, 0.033 s: the
    Hamner and gait2392 recordings) is read at its exact times. On the rounded times the
    two ways OpenSim differentiates a coordinate twice disagree: ID's second derivative of
    the coordinate spline vs SO's derivative of a spline through its speeds (both natural
    quintic splines, fast_so.NaturalQuinticSpline); on the exact grid they agree."""
    from retrorun.fast_so import NaturalQuinticSpline

    exact = np.arange(120) / 60.0
    angle = np.sin(2 * np.pi * 2.0 * exact)  # a smooth 2 Hz coordinate, exactly sampled at 60 Hz
    xyz = np.column_stack([angle, np.cos(exact), exact])
    rounded = MarkerTable(np.round(exact, 3), {"HEEL": xyz, "TOE": xyz.copy()}, 60.0, "lab/run.trc")
    prepared = prepare_markers(rounded, aliases={}, gaps={}, subject="S01", trial="run1")
    assert np.abs(prepared.time_s - exact).max() < 1e-12
    assert np.array_equal(prepared.positions_m["HEEL"], xyz)

    def spline_disagreement(times):
        spline = NaturalQuinticSpline(times)
        speed, acceleration = spline.derivatives(angle[:, None])
        inner = slice(6, -6)  # away from the natural spline's ends
        return np.abs(spline.derivative(speed) - acceleration)[inner].max() / np.abs(acceleration[inner]).max()

    assert spline_disagreement(rounded.time_s) > 0.05
    assert spline_disagreement(prepared.time_s) < 0.01
