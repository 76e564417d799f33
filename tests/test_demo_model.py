"""The built-in planar running model: built from its tables, named like gait2392, anatomical
moment arms, close to the gait10dof18musc reference, deterministic, consistent templates."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared

from retrorun import templates
from retrorun.demo import model as demo_model
from retrorun.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "models" / "retrorun_planar"
MUSCLES = [
    "rect_fem",
    "vas_lat",
    "vas_med",
    "vas_int",
    "semimem",
    "semiten",
    "bifemlh",
    "bifemsh",
    "glut_max",
    "iliopsoas",
    "gastroc",
    "soleus",
    "tib_ant",
]
BODIES = ["pelvis", "torso"] + [f"{b}_{s}" for s in "rl" for b in ("femur", "tibia", "talus", "calcn", "toes")]
COORDINATES = ["pelvis_tilt", "pelvis_tx", "pelvis_ty", "lumbar_extension"] + [
    f"{c}_{s}" for s in "rl" for c in ("hip_flexion", "knee_angle", "ankle_angle")
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return demo_model.build_model(params_dir=PARAMS, out_dir=tmp_path_factory.mktemp("demo_model"))


@pytest.fixture(scope="module")
def model(built):
    import opensim as osim

    model = osim.Model(str(built))
    return model, model.initSystem()


def _names(opensim_set) -> list[str]:
    return [opensim_set.get(i).getName() for i in range(opensim_set.getSize())]


def test_model_has_the_gait2392_bodies_coordinates_and_13_muscles_per_leg(built, model):
    osim_model, _ = model
    assert built.name == "retrorun_planar.osim"
    assert sorted(_names(osim_model.getBodySet())) == sorted(BODIES)
    assert sorted(_names(osim_model.getCoordinateSet())) == sorted(COORDINATES)
    assert {"ground_pelvis", "back"} | {
        f"{j}_{s}" for j in ("hip", "knee", "ankle", "subtalar", "mtp") for s in "rl"
    } == set(_names(osim_model.getJointSet()))
    assert sorted(_names(osim_model.getMuscles())) == sorted(f"{m}_{s}" for m in MUSCLES for s in "rl")
    assert all(
        osim_model.getMuscles().get(i).getConcreteClassName() == "Millard2012EquilibriumMuscle"
        for i in range(osim_model.getMuscles().getSize())
    )
    # the gait2392 anthropometry: a 75.16 kg subject (OpenSim gait2392 documentation)
    assert osim_model.getTotalMass(model[1]) == pytest.approx(75.16, abs=0.01)


def test_markers_cover_every_segment_with_heel_and_toe_per_foot(model):
    osim_model, _ = model
    on = {}
    for marker in osim_model.getMarkerSet():
        on.setdefault(marker.getParentFrameName().split("/")[-1], []).append(marker.getName())
    for body in (
        "pelvis",
        "torso",
        "femur_r",
        "femur_l",
        "tibia_r",
        "tibia_l",
        "calcn_r",
        "calcn_l",
        "toes_r",
        "toes_l",
    ):
        assert on.get(body), f"no marker on {body}"
    # left markers mirror right ones: same x, y and opposite z
    right = osim_model.getMarkerSet().get("R.Knee.Lat").get_location()
    left = osim_model.getMarkerSet().get("L.Knee.Lat").get_location()
    assert (left[0], left[1], left[2]) == (right[0], right[1], -right[2])


def _point(osim_model, state, body: str, xyz=(0.0, 0.0, 0.0)) -> np.ndarray:
    import opensim as osim

    p = osim_model.getBodySet().get(body).findStationLocationInGround(state, osim.Vec3(*xyz))
    return np.array([p.get(0), p.get(1), p.get(2)])


def _pose(osim_model, state, **values_deg) -> None:
    for coordinate in osim_model.getCoordinateSet():
        coordinate.setValue(state, 0.0, False)
    for name, value in values_deg.items():
        osim_model.getCoordinateSet().get(name).setValue(state, math.radians(value), False)
    osim_model.realizePosition(state)


def test_coordinate_conventions_match_gait2392(model):
    """Knee negative in flexion (the ankle moves behind the knee), ankle positive in
    dorsiflexion (the toes rise), hip positive in flexion (the knee moves forward)."""
    osim_model, state = model
    _pose(osim_model, state)
    knee, ankle, toe = (_point(osim_model, state, b) for b in ("tibia_r", "talus_r", "toes_r"))
    _pose(osim_model, state, knee_angle_r=-60)
    assert _point(osim_model, state, "talus_r")[0] < ankle[0] - 0.2
    _pose(osim_model, state, ankle_angle_r=20)
    assert _point(osim_model, state, "toes_r")[1] > toe[1] + 0.03
    _pose(osim_model, state, hip_flexion_r=30)
    assert _point(osim_model, state, "tibia_r")[0] > knee[0] + 0.15


def test_moment_arms_keep_the_anatomical_sign_across_the_running_range(built):
    """Each muscle at each joint it crosses, swept over the check range of coordinates.csv
    with its other crossed joint at the ends and middle of its range, on both legs."""
    for side in ("r", "l"):
        table = demo_model.moment_arm_table(model_path=built, params_dir=PARAMS, side=side)
        assert set(table["muscle"]) == {f"{m}_{side}" for m in MUSCLES}
        bad = table[~table["sign_ok"]]
        assert bad.empty, bad[["muscle", "coordinate", "moment_arm_min_m", "moment_arm_max_m"]]
        assert (table.loc[table["expected_sign"] > 0, "moment_arm_min_m"] > 0.005).all()  # not merely positive


def test_moment_arm_sign_check_catches_a_muscle_on_the_wrong_side(built, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    points = pd.read_csv(params / "path_points.csv")
    # put the soleus origin in front of the ankle: it would then dorsiflex at some angles
    points.loc[(points["muscle"] == "soleus") & (points["order"] == 1), ["x_m", "y_m"]] = [0.08, -0.38]
    points.to_csv(params / "path_points.csv", index=False)
    broken = demo_model.build_model(params_dir=params, out_dir=tmp_path / "out")
    table = demo_model.moment_arm_table(model_path=broken, params_dir=params)
    assert list(table.loc[~table["sign_ok"], "muscle"]) == ["soleus_r"]


def test_peak_moment_arms_are_within_30_percent_of_gait10dof18musc(built):
    reference = shared("gait10dof18musc", "gait10dof18musc.osim")
    table = demo_model.moment_arm_table(model_path=built, params_dir=PARAMS, reference_path=reference)
    assert table["pass"].all(), table[~table["pass"]]
    within = table["ratio"].between(0.7, 1.3)
    # the only row outside +-30 % is the one whose anatomical reason actions.csv documents
    assert set(table.loc[~within, "muscle"] + "@" + table.loc[~within, "coordinate"]) == {"semiten_r@knee_angle_r"}
    assert (table.loc[~within, "reference_exception"] != "").all()
    assert (table.loc[table["muscle"].str.startswith("vas_"), "reference_muscle"] == "vasti_r").all()


def test_building_twice_gives_the_identical_file(built, tmp_path):
    again = demo_model.build_model(params_dir=PARAMS, out_dir=tmp_path)
    assert again.read_bytes() == built.read_bytes()


def test_strength_scale_multiplies_every_max_isometric_force(built, tmp_path):
    import opensim as osim

    tables = demo_model.read_tables(PARAMS)
    published = tables["muscles"].set_index("muscle")["max_isometric_force_n"]
    scale = float(tables["settings"]["strength_scale"])
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    settings = (params / "model.yaml").read_text()
    (params / "model.yaml").write_text(settings.replace("strength_scale:", "strength_scale: 1.5  # was", 1))
    other = osim.Model(str(demo_model.build_model(params_dir=params, out_dir=tmp_path / "out")))
    base = osim.Model(str(built))
    for name in ("vas_lat_r", "soleus_l"):
        assert base.getMuscles().get(name).getMaxIsometricForce() == pytest.approx(scale * published[name[:-2]])
        assert other.getMuscles().get(name).getMaxIsometricForce() == pytest.approx(1.5 * published[name[:-2]])


def test_templates_name_only_markers_bodies_and_columns_the_model_has(model):
    osim_model, _ = model
    markers = set(_names(osim_model.getMarkerSet()))
    bodies = set(_names(osim_model.getBodySet()))
    scale = templates.scale_template(PARAMS / "scale_setup.xml")
    assert scale.measurement_markers <= markers
    assert scale.measurement_bodies == bodies  # every body is scaled
    assert set(scale.placer_weights) == markers
    assert set(templates.marker_weights(templates.ik_task_set(PARAMS / "ik_tasks.xml"))) == markers
    forces = templates.external_forces(PARAMS / "external_loads.xml")
    assert {f.applied_to_body for f in forces} == {"calcn_r", "calcn_l"}
    assert all(f.force_expressed_in_body == "ground" and f.point_expressed_in_body == "ground" for f in forces)
    from retrorun.demo.subjects import GRF_SIDE_COLUMNS

    for force in forces:
        side = force.applied_to_body[-1]
        assert force.columns()["force"] == [GRF_SIDE_COLUMNS["force"].format(side=side, axis=a) for a in "xyz"]
        assert force.columns()["point"] == [GRF_SIDE_COLUMNS["point"].format(side=side, axis=a) for a in "xyz"]
        assert force.columns()["torque"] == [GRF_SIDE_COLUMNS["torque"].format(side=side, axis=a) for a in "xyz"]


def test_opensim_reads_the_templates():
    import opensim as osim

    tool = osim.ScaleTool(str(PARAMS / "scale_setup.xml"))
    assert tool.getModelScaler().getMeasurementSet().getSize() == 5
    assert osim.IKTaskSet(str(PARAMS / "ik_tasks.xml")).getSize() == tool.getMarkerPlacer().getIKTaskSet().getSize()
    assert osim.ExternalLoads(str(PARAMS / "external_loads.xml"), True).getSize() == 2


def test_every_table_row_cites_a_source():
    tables = demo_model.read_tables(PARAMS)
    for name in demo_model.TABLES:
        table = tables[name[: -len(".csv")]]
        assert len(table) > 0 and (table["source"].str.len() > 10).all(), name


def test_a_row_without_source_is_refused_naming_file_and_row(tmp_path):
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    muscles = pd.read_csv(params / "muscles.csv")
    muscles.loc[2, "source"] = ""
    muscles.to_csv(params / "muscles.csv", index=False)
    with pytest.raises(ConfigError, match=r"muscles\.csv: row\(s\) 4 have no source"):
        demo_model.read_tables(params)


@pytest.mark.parametrize("table, column", [("joints.csv", "parent_x_m"), ("path_points.csv", "kind")])
def test_a_missing_column_is_refused_naming_it(tmp_path, table, column):
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    pd.read_csv(params / table).drop(columns=[column]).to_csv(params / table, index=False)
    with pytest.raises(ConfigError, match=column):
        demo_model.build_model(params_dir=params, out_dir=tmp_path / "out")


def test_an_unknown_body_is_refused_naming_table_point_and_muscle(tmp_path):
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    points = pd.read_csv(params / "path_points.csv")
    points.loc[(points["muscle"] == "soleus") & (points["order"] == 1), "body"] = "fibula"
    points.to_csv(params / "path_points.csv", index=False)
    with pytest.raises(ConfigError, match=r"path_points\.csv: point 1 of muscle 'soleus' names body 'fibula'"):
        demo_model.build_model(params_dir=params, out_dir=tmp_path / "out")
