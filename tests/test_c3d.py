"""C3D import on the real walking C3D files of ../shared/data/c3d (250 Hz markers,
2000 Hz analog, two type-2 force platforms): markers in metres and OpenSim's axes,
both plates in the GRF, loads on the subject pointing up, centre of pressure on the
plate, and the import rule run by Snakemake."""

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, shared
from workflow_runner import ok, planned_jobs, snakemake

from retrorun import c3d, formats
from retrorun.errors import InputError

FEET = {"r": ["RCAL", "RMT1", "RMT2"], "l": ["LCAL", "LMT1", "LMT2"]}
THRESHOLD_N = 20  # contact thresholds of 20-50 N are common practice


def walking(name="walking2.c3d", **kwargs):
    return c3d.read_c3d(shared("c3d") / name, cop_threshold_n=THRESHOLD_N, **kwargs)


@pytest.fixture(scope="module")
def imported():
    trial = walking()
    assignments = c3d.assign_plates(trial, threshold_n=THRESHOLD_N, foot_markers=FEET)
    return trial, assignments, c3d.grf_table(trial, assignments, sides=["r", "l"])


def test_markers_are_in_metres_with_y_up(imported):
    trial, _, _ = imported
    markers = trial.markers
    assert len(markers.marker_names) == 44 and markers.rate_hz == 250
    assert len(markers.time_s) == 1249
    pelvis = np.nanmedian(np.concatenate([markers.positions_m[m] for m in ("RASI", "LASI", "RPSI", "LPSI")]), axis=0)
    heels = np.nanmedian(np.concatenate([markers.positions_m[m] for m in ("RCAL", "LCAL")]), axis=0)
    assert 0.8 < pelvis[1] < 1.2  # pelvis height in metres on OpenSim's vertical axis
    assert 0.0 < heels[1] < 0.2
    x = markers.positions_m["RASI"][:, 0]
    assert np.nanmax(x) - np.nanmin(x) > 2.0  # walks metres along lab X, which stays OpenSim X


def test_trc_is_readable_by_opensim(imported, tmp_path):
    osim = pytest.importorskip("opensim")
    trial, _, _ = imported
    path = tmp_path / "walking2.trc"
    formats.write_trc(path, trial.markers)
    table = osim.TimeSeriesTableVec3(str(path))
    assert table.getNumColumns() == 44 and table.getNumRows() == 1249
    scale = formats.LENGTH_UNITS_TO_M[table.getTableMetaDataAsString("Units")]
    column = list(table.getColumnLabels()).index("RASI")
    row = int(np.flatnonzero(~np.isnan(trial.markers.positions_m["RASI"][:, 0]))[0])
    value = table.getRowAtIndex(row)[column]
    assert np.allclose([value.get(i) * scale for i in range(3)], trial.markers.positions_m["RASI"][row], atol=1e-5)


def test_both_plates_are_in_the_grf_and_each_foot_gets_its_plate(imported):
    trial, assignments, table = imported
    assert [p.number for p in trial.plates] == [1, 2]
    for plate in (1, 2):
        assert {f"plate{plate}_force_v{a}" for a in "xyz"} <= set(table.columns)
        assert table[f"plate{plate}_force_vy"].max() > 500  # a walking step, in newtons
    sides = {(r["plate"], r["side"]) for r in assignments}
    assert sides == {(1, "r"), (2, "l")}  # walking2: left foot on plate 2, then right foot on plate 1
    assert len(table) == 9992 and np.allclose(np.diff(table["time"]), 1 / 2000)  # kept at the analog rate


def test_vertical_force_is_never_negative(imported):
    _, _, table = imported
    for side in "rl":
        assert table[f"ground_force_{side}_vy"].min() >= 0
        assert table[f"ground_force_{side}_vy"].max() > 500


def test_centre_of_pressure_lies_on_its_plate_during_contact(imported):
    trial, assignments, table = imported
    plates = {p.number: p for p in trial.plates}
    for record in assignments:
        plate = plates[record["plate"]]
        span = slice(record["first"], record["last"] + 1)
        cop = table[[f"ground_force_{record['side']}_p{a}" for a in "xyz"]].to_numpy()[span]
        vertical = table[f"ground_force_{record['side']}_vy"].to_numpy()[span]
        low, high = plate.corners_m.min(axis=0), plate.corners_m.max(axis=0)
        assert np.allclose(cop[:, 1], low[1])  # on the plate surface
        outside = np.linalg.norm((np.maximum(low - cop, 0) + np.maximum(cop - high, 0))[:, [0, 2]], axis=1)
        loaded = vertical > 0.1 * vertical.max()
        # 1 cm tolerance: at heel strike near a plate edge the COP of real plates strays a little
        assert np.mean(outside[loaded] <= 0.01) >= 0.95, (record, outside[loaded].max())


def test_plate_loads_match_ezc3d_s_own_computation():
    ezc3d = pytest.importorskip("ezc3d")
    trial = walking()
    reference = ezc3d.c3d(str(shared("c3d") / "walking2.c3d"), extract_forceplat_data=True)["data"]["platform"]
    rotation = c3d.axis_matrix(c3d.DEFAULT_AXES)
    for plate, ref in zip(trial.plates, reference):
        assert np.allclose(plate.force_n, (rotation @ ref["force"]).T, atol=1e-6)
        loaded = plate.force_n[:, 1] >= THRESHOLD_N
        cop = (rotation @ ref["center_of_pressure"]).T / 1000  # ezc3d keeps millimetres
        assert np.allclose(plate.cop_m[loaded], cop[loaded], atol=1e-6)
        free = (rotation @ ref["Tz"]).T / 1000  # N mm -> N m
        assert np.allclose(plate.free_moment_nm[loaded], free[loaded], atol=1e-6)
        assert np.all(plate.free_moment_nm[~loaded] == 0)  # suppressed below the threshold


def test_type_4_plates_apply_their_calibration_matrix(tmp_path):
    """walking2 rewritten as type-4 plates: raw channels un-calibrated by a non-symmetric
    matrix that CAL_MATRIX then has to undo, so the loads must equal the type-2 ones."""
    ezc3d = pytest.importorskip("ezc3d")
    source = ezc3d.c3d(str(shared("c3d") / "walking2.c3d"))
    calibration = np.roll(np.eye(6), 1, axis=0) * np.array([1, 2, 1, 1, 0.5, 1])[:, None]
    analogs = source["data"]["analogs"].copy()
    for plate in range(2):
        channels = np.arange(6) + 6 * plate
        analogs[0, channels, :] = np.linalg.inv(calibration) @ analogs[0, channels, :]
    source["data"]["analogs"] = analogs
    source["parameters"]["FORCE_PLATFORM"]["TYPE"]["value"] = np.array([4, 4])
    source["parameters"]["FORCE_PLATFORM"]["CAL_MATRIX"]["value"] = np.stack([calibration, calibration], axis=-1)
    path = tmp_path / "type4.c3d"
    source.write(str(path))
    type2, type4 = walking(), c3d.read_c3d(path, cop_threshold_n=THRESHOLD_N)
    for a, b in zip(type2.plates, type4.plates):
        assert (a.kind, b.kind) == (2, 4)
        assert np.allclose(a.force_n, b.force_n, atol=1e-6) and np.allclose(a.cop_m, b.cop_m, atol=1e-6)
        assert np.allclose(a.free_moment_nm, b.free_moment_nm, atol=1e-6)


def test_a_trial_recorded_the_other_way_round_gets_the_same_loads():
    """Rotating the lab half a turn about the vertical (as a backward trial's progression
    looks to the pipeline) moves everything but changes no load or foot assignment."""
    forward = walking()
    turned = walking(axes={"x": "-x", "y": "+z", "z": "+y"})
    a = c3d.assign_plates(forward, threshold_n=THRESHOLD_N, foot_markers=FEET)
    b = c3d.assign_plates(turned, threshold_n=THRESHOLD_N, foot_markers=FEET)
    assert [(r["plate"], r["side"]) for r in a] == [(r["plate"], r["side"]) for r in b]
    ga, gb = c3d.grf_table(forward, a, sides=["r", "l"]), c3d.grf_table(turned, b, sides=["r", "l"])
    assert np.allclose(ga["ground_force_r_vy"], gb["ground_force_r_vy"])
    assert np.allclose(ga["ground_force_r_px"], -gb["ground_force_r_px"])
    assert np.allclose(ga["ground_torque_l_y"], gb["ground_torque_l_y"])
    xa, xb = forward.markers.positions_m["RASI"][:, 0], turned.markers.positions_m["RASI"][:, 0]
    assert np.allclose(xa[~np.isnan(xa)], -xb[~np.isnan(xb)])


def test_fixed_plate_sides_override_the_nearest_foot():
    trial = walking()
    records = c3d.assign_plates(trial, threshold_n=THRESHOLD_N, foot_markers=FEET, plate_sides={"1": "l", "2": "r"})
    assert {(r["plate"], r["side"]) for r in records} == {(1, "l"), (2, "r")}


@pytest.mark.parametrize(
    "axes", [{"x": "+x", "y": "+y", "z": "-z"}, {"x": "+x", "y": "+x", "z": "+z"}, {"x": "x", "y": "+z", "z": "-y"}]
)
def test_axes_that_are_not_a_rotation_are_refused(axes):
    with pytest.raises(InputError, match="c3d.axes"):
        c3d.axis_matrix(axes)


def test_foot_markers_absent_is_a_clear_error():
    trial = walking()
    with pytest.raises(InputError, match="c3d.foot_markers"):
        c3d.assign_plates(trial, threshold_n=THRESHOLD_N, foot_markers={"r": ["R.Heel"], "l": ["L.Heel"]})


def test_the_import_s_preconditions_name_file_and_fix():
    """c3d.check_*: what validation lists before any job and rule import_c3d raises with."""
    trial = walking()
    assert c3d.check_force_plates(trial, threshold_n=THRESHOLD_N) == []
    [unloaded] = c3d.check_force_plates(trial, threshold_n=5000)
    assert unloaded.startswith(
        f"no foot contact: no force plate in {trial.source} reaches c3d.cop_threshold_n = 5000 N"
    )
    assert c3d.check_plate_sides({"1": "x", "2": "r"}, ["r", "l"]) == [
        "config c3d.plate_sides names side(s) ['x'], not among the config's sides ['l', 'r']; "
        "use the side names of the config key 'sides'"
    ]
    assert c3d.check_foot_markers(trial, foot_markers=FEET, plate_sides={}) == []
    [unseen] = c3d.check_foot_markers(trial, foot_markers={"r": FEET["r"], "l": ["L.Heel"]}, plate_sides={})
    assert (
        f"{trial.source} has none of the foot markers ['L.Heel'] of side 'l'" in unseen and "c3d.plate_sides" in unseen
    )
    assert c3d.check_foot_markers(trial, foot_markers={"l": ["L.Heel"]}, plate_sides={"1": "l", "2": "r"}) == []


def c3d_study(tmp_path, *, static_c3d=False, **config_changes):
    """gait2392 walking model with walking2.c3d as its one trial, GRF template naming the per-foot columns."""
    data = shared("gait2392-walk")
    template = (data / "subject01_walk1_grf.xml").read_text()
    for old, new in (
        ("> ground_force_v", "> ground_force_r_v"),
        ("> ground_force_p", "> ground_force_r_p"),
        ("> ground_torque_", "> ground_torque_r_"),
        ("1_ground_force_v", "ground_force_l_v"),
        ("1_ground_force_p", "ground_force_l_p"),
        ("1_ground_torque_", "ground_torque_l_"),
    ):
        template = template.replace(old, new)
    (tmp_path / "c3d_grf.xml").write_text(template)
    config = yaml.safe_load((REPO / "config/examples/gait2392-walk/config.yaml").read_text())
    for key, value in config["model"].items():
        config["model"][key] = str(data / value.rsplit("/", 1)[1])
    config["model"]["external_loads"] = str(tmp_path / "c3d_grf.xml")
    config |= {"study": "labc3d", "subjects": "subjects.tsv", "trials": "trials.tsv"} | config_changes
    static = shared("c3d") / "walking2.c3d" if static_c3d else data / "subject01_static.trc"
    (tmp_path / "subjects.tsv").write_text(
        "subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s\n"
        f"S01\t72.6\t1.80\t{static}\t0.5\t0.6\n"
    )
    (tmp_path / "trials.tsv").write_text(
        "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n"
        f"S01\twalk2\twalk\t{shared('c3d') / 'walking2.c3d'}\t\t2.2\t3.3\n"
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_import_rule_writes_trc_grf_and_contacts(tmp_path):
    config = c3d_study(tmp_path)
    work = tmp_path / "run"
    inputs = work / "results" / "labc3d" / "inputs" / "S01"
    planned = snakemake(work, config, "-n")
    ok(planned)
    # the C3D feeds the rest of the pipeline (one job per trial: nothing runs between its motion and analysis)
    assert planned_jobs(planned).get("import_c3d") and planned_jobs(planned).get("trial"), planned.stdout[-3000:]
    # an option after --configfile ends its list of files, so the targets are read as targets
    result = snakemake(
        work,
        config,
        "--keep-going",
        str(inputs.relative_to(work) / "walk2.trc"),
        str(inputs.relative_to(work) / "walk2.mot"),
    )
    ok(result)
    grf, _ = formats.read_storage(inputs / "walk2.mot")
    assert grf["ground_force_r_vy"].max() > 500 and grf["ground_force_l_vy"].max() > 500
    markers = formats.read_trc(inputs / "walk2.trc")
    assert len(markers.marker_names) == 44
    contacts = pd.read_csv(inputs / "walk2_contacts.csv")
    assert sorted(zip(contacts["plate"], contacts["side"])) == [(1, "r"), (2, "l")]
    # a static trial given as C3D is imported too, and scaling reads the import
    static = snakemake(tmp_path / "run_static", c3d_study(tmp_path, static_c3d=True), "-n")
    ok(static)
    assert planned_jobs(static)["import_c3d"] == 2


def test_walking5_imports_too():
    trial = walking("walking5.c3d")
    records = c3d.assign_plates(trial, threshold_n=THRESHOLD_N, foot_markers=FEET)
    assert sorted((r["plate"], r["side"]) for r in records) == [(1, "l"), (2, "r")]
    table = c3d.grf_table(trial, records, sides=["r", "l"])
    assert table["ground_force_r_vy"].min() >= 0 and table["ground_force_l_vy"].max() > 500


@pytest.mark.slow
def test_c3d_mistakes_are_named_at_validation(tmp_path):
    """An unknown side in c3d.plate_sides and a trial whose plates never reach the contact
    threshold: Snakemake refuses to plan, so no job runs."""
    config = c3d_study(tmp_path, c3d={"cop_threshold_n": 5000, "plate_sides": {"1": "x"}})
    result = snakemake(tmp_path / "run", config, "-n")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "c3d.plate_sides names side(s) ['x']" in said
    assert "no foot contact" in said and "walking2.c3d" in said and "c3d.cop_threshold_n" in said


# walking2's lab markers that have a counterpart in gait2392's marker set
GAIT2392_ALIASES = {
    "RASI": "R.ASIS",
    "LASI": "L.ASIS",
    "RLFC": "R.Knee.Lat",
    "LLFC": "L.Knee.Lat",
    "RMFC": "R.Knee.Med",
    "LMFC": "L.Knee.Med",
    "RLMAL": "R.Ankle.Lat",
    "LLMAL": "L.Ankle.Lat",
    "RMMAL": "R.Ankle.Med",
    "LMMAL": "L.Ankle.Med",
    "RCAL": "R.Heel",
    "LCAL": "L.Heel",
    "RMT1": "R.Toe.Med",
    "LMT1": "L.Toe.Med",
    "STRN": "Sternum",
}


@pytest.mark.slow
def test_inverse_kinematics_runs_on_a_c3d_trial(tmp_path):
    """Import, aliases and IK on walking2.c3d. walking2 has no static trial, so the model
    is gait2392 scaled from subject01's static TRC (another person): this checks the
    C3D trial flows through IK in OpenSim's frame, not the accuracy of the fit."""
    tasks = "".join(
        f'<IKMarkerTask name="{name}"><apply>true</apply><weight>1</weight></IKMarkerTask>'
        for name in GAIT2392_ALIASES.values()
    )
    (tmp_path / "ik_tasks.xml").write_text(
        f'<?xml version="1.0"?>\n<OpenSimDocument Version="40000"><IKTaskSet name="c3d">'
        f"<objects>{tasks}</objects></IKTaskSet></OpenSimDocument>\n"
    )
    # residual reduction none: RRA is not what this checks, and without it the trial's
    # job (IK, then SO and the analysis) takes seconds
    config = c3d_study(tmp_path, marker_aliases=GAIT2392_ALIASES, residual_reduction={"method": "none"})
    settings = yaml.safe_load(config.read_text())
    settings["model"]["ik_tasks"] = str(tmp_path / "ik_tasks.xml")
    config.write_text(yaml.safe_dump(settings))
    work = tmp_path / "run"
    trial = work / "results" / "labc3d" / "trials" / "S01" / "walk2"
    result = snakemake(
        work,
        config,
        "--keep-going",
        # IK and the GRF: the trial's job (rule trial), asked for by its manifest
        str((trial / ".trial.manifest").relative_to(work)),
    )
    ok(result)
    errors = pd.read_csv(trial / "ik_marker_errors.csv")
    assert errors["time_s"].min() <= 2.2 and errors["time_s"].max() >= 3.3
    assert errors["marker_rms_m"].median() < 0.05  # another person's model: centimetres, not decimetres
    coordinates = pd.read_csv(trial / "ik_coordinates.csv")
    duration = coordinates["time_s"].iloc[-1] - coordinates["time_s"].iloc[0]
    speed = (coordinates["pelvis_tx_m"].iloc[-1] - coordinates["pelvis_tx_m"].iloc[0]) / duration
    assert 1.0 < speed < 2.5  # walking along +X (1.7 m/s here), in metres
    assert coordinates["pelvis_ty_m"].between(0.7, 1.2).all()  # upright in OpenSim's Y-up frame
    grf = pd.read_csv(trial / "grf.csv")
    assert grf["r_force_y_n"].max() > 500 and grf["l_force_y_n"].max() > 500
