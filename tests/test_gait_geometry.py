"""Foot placement, COM over the hips and strike pattern (retrorun/gait_geometry.py): hand-built
scenes with known answers, the same scene mirrored (a runner facing -X), and the points
computed by OpenSim on real models."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared

from retrorun import analysis, config
from retrorun import gait_geometry as gg
from retrorun.demo import model as demo_model

SIDES = {"r": "_r", "l": "_l"}


def _scene(sign: float = 1.0, *, foot_angle_deg: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A right stance from 0 to 0.2 s of a runner facing ``sign`` * X, moving along it at
    1 m/s: the ankle 10 cm ahead of the COM at contact and 15 cm behind it at toe off; the
    hips' midpoint 2 cm behind the COM throughout; the rear foot (calcaneus origin to MTP
    centre, 0.18 m) pitched ``foot_angle_deg`` toes up; heel 0.02 m behind the
    calcaneus origin, toe 0.08 m beyond the MTP centre; the COP at the heel at contact.
    Everything along X is multiplied by ``sign``: the same scene seen by a runner facing -X."""
    times = np.array([0.0, 0.05, 0.1, 0.15, 0.2])
    com_x = 1.0 * times
    ankle_x = np.interp(times, [0.0, 0.2], [0.10, 0.2 - 0.15])
    pitch = np.radians(foot_angle_deg)
    rows = []
    for t, cx, ax in zip(times, com_x, ankle_x):
        calcn = np.array([ax - 0.05, 0.02, 0.09])
        axis = np.array([np.cos(pitch), np.sin(pitch), 0.0])
        points = {
            "com": np.array([cx, 0.95, 0.0]),
            "hip_mid": np.array([cx - 0.02, 0.88, 0.0]),
            "ankle_r": np.array([ax, 0.08, 0.09]),
            "calcn_r": calcn,
            "mtp_r": calcn + 0.18 * axis,
            "heel_r": calcn - 0.02 * axis,
            "toe_r": calcn + 0.26 * axis,
        }
        row = {"time_s": t, "facing_x": sign, "facing_y": 0.0, "facing_z": 0.0}
        for key, p in points.items():
            name, _, side = key.partition("_") if key not in ("com", "hip_mid") else (key, "", "")
            row |= {gg.column(name, a, side or None): v * (sign if a == "x" else 1.0) for a, v in zip("xyz", p)}
        rows.append(row)
    points = pd.DataFrame(rows)
    cycles = pd.DataFrame(
        [{"side": "r", "cycle": 1, "strike_s": 0.0, "toe_off_s": 0.2, "end_s": 0.6, "status": "used"}]
    )
    heel_x = (ankle_x[0] - 0.05 - 0.02 * np.cos(pitch)) * sign
    grf_t = np.arange(0.0, 0.2001, 0.005)
    grf = pd.DataFrame(
        {
            "time_s": grf_t,
            "r_force_y_n": 800.0,
            # at the heel at contact, then rolling forwards with the body
            "r_cop_x_m": heel_x + sign * 0.5 * grf_t,
            "r_cop_y_m": 0.0,
            "r_cop_z_m": 0.09,
        }
    )
    return points, cycles, grf


def _measure(sign: float, **scene) -> pd.Series:
    points, cycles, grf = _scene(sign, **scene)
    return gg.cycle_geometry(points, cycles, grf, neutral_foot_angle_deg={"r": 0.0}, threshold_n=20.0).iloc[0]


def test_a_foot_10_cm_ahead_of_the_com_gives_plus_0_10_m():
    row = _measure(1.0)
    assert row["placement.com_to_ankle_at_contact_m"] == pytest.approx(0.10)
    # toe off: ankle at 0.05 m, COM at 0.2 m
    assert row["placement.com_to_ankle_at_toe_off_m"] == pytest.approx(-0.15)
    assert row["placement.ankle_travel_stance_m"] == pytest.approx(-0.25)
    assert row["com_hip.offset_stance_mean_m"] == pytest.approx(0.02)
    assert row["com_hip.offset_at_contact_m"] == pytest.approx(0.02)
    # the COP at the heel at contact: 0.07 m behind the ankle, so 0.03 m ahead of the COM
    assert row["placement.com_to_cop_at_contact_m"] == pytest.approx(0.03)
    assert row["strike.index"] == pytest.approx(0.0, abs=1e-9)
    assert row["strike.category_index"] == "rearfoot"


def test_the_mirrored_runner_facing_minus_x_gives_the_same_values():
    forward, mirrored = _measure(1.0, foot_angle_deg=12.0), _measure(-1.0, foot_angle_deg=12.0)
    names = gg.outcome_names()
    np.testing.assert_allclose(mirrored[names].astype(float), forward[names].astype(float), atol=1e-12)
    assert mirrored["strike.foot_angle_deg"] == pytest.approx(12.0)
    assert (mirrored[gg.CATEGORY_ANGLE], forward[gg.CATEGORY_ANGLE]) == ("rearfoot", "rearfoot")


def test_a_heel_or_toe_centre_of_pressure_gives_strike_index_0_or_1():
    heel, toe = np.array([0.3, 0.0, 0.1]), np.array([0.55, 0.02, 0.1])
    assert gg.strike_index(heel, heel, toe) == pytest.approx(0.0)
    assert gg.strike_index(toe, heel, toe) == pytest.approx(1.0)
    assert gg.strike_index((heel + toe) / 2, heel, toe) == pytest.approx(0.5)
    # a foot pitched 60 deg toes down touching the floor with its toe: the foot's own length, not its shadow
    pitch = np.radians(-60.0)
    toe_down = np.array([0.0, 0.0, 0.1])
    heel_up = toe_down - 0.26 * np.array([np.cos(pitch), np.sin(pitch), 0.0])
    assert gg.strike_index(toe_down, heel_up, toe_down) == pytest.approx(1.0)
    # facing -X: heel and toe swap their X order, the index does not change
    flip = np.array([-1.0, 1.0, 1.0])
    assert gg.strike_index(flip * toe, flip * heel, flip * toe) == pytest.approx(1.0)


def test_a_toes_down_contact_is_a_forefoot_strike_by_angle():
    row = _measure(-1.0, foot_angle_deg=-10.0)
    assert row["strike.foot_angle_deg"] == pytest.approx(-10.0)
    assert row[gg.CATEGORY_ANGLE] == "forefoot" and row["strike.forefoot_share_angle"] == 1.0


@pytest.mark.parametrize(
    ("index", "category"),
    [(0.0, "rearfoot"), (0.33, "rearfoot"), (0.5, "midfoot"), (0.66, "midfoot"), (0.7, "forefoot"), (np.nan, "")],
)
def test_strike_index_categories_are_thirds_of_the_foot(index, category):
    assert gg.category_by_index(index) == category


@pytest.mark.parametrize(
    ("angle", "category"),
    [(15.0, "rearfoot"), (8.01, "rearfoot"), (8.0, "midfoot"), (0.0, "midfoot"), (-1.6, "midfoot"), (-1.7, "forefoot")],
)
def test_foot_strike_angle_categories_are_altman_and_davis_thresholds(angle, category):
    assert gg.category_by_angle(angle) == category


def test_no_centre_of_pressure_near_contact_leaves_the_cop_measures_empty_with_a_note():
    points, cycles, grf = _scene()
    grf["r_force_y_n"] = 0.0
    row = gg.cycle_geometry(points, cycles, grf, neutral_foot_angle_deg={"r": 0.0}, threshold_n=20.0).iloc[0]
    assert np.isnan(row["strike.index"]) and np.isnan(row["placement.com_to_cop_at_contact_m"])
    assert row["placement.com_to_ankle_at_contact_m"] == pytest.approx(0.10)
    assert "no loaded centre of pressure" in row["note"]


def test_the_measures_become_cycle_metric_rows_with_their_category_and_are_known_measures():
    points, cycles, grf = _scene(foot_angle_deg=-5.0)
    wide = gg.cycle_geometry(points, cycles, grf, neutral_foot_angle_deg={"r": 0.0}, threshold_n=20.0)
    rows = gg.metric_rows(wide)
    assert len(rows) == len(gg.outcome_names())
    angle = rows[(rows["group"] == "strike") & (rows["metric"] == "foot_angle_deg")].iloc[0]
    assert angle["value"] == pytest.approx(-5.0) and angle["category"] == "forefoot"
    long = analysis.long_cycles([({"subject": "s1", "condition": "backward", "trial": "b1"}, rows)])
    assert "category" in long and set(long.loc[long["group"] == "placement", "category"]) == {""}
    known = config.outcome_names({"quadriceps": ["vas_lat"], "hamstrings": ["semimem"]})
    assert {"placement.com_to_ankle_at_contact_m", "com_hip.offset_stance_mean_m", "strike.index"} <= set(known)


# ------------------------------------------------------------------ through OpenSim


def _coordinates(model_path, frames: list[dict]) -> pd.DataFrame:
    """An IK-like table (time_s, <coordinate>_deg / _m): the default pose with ``frames``'
    values (deg or m) set."""
    import opensim as osim

    from retrorun.opensim_tools import coordinate_motion_types

    model = osim.Model(str(model_path))
    model.initSystem()
    rows = []
    for k, values in enumerate(frames):
        row = {"time_s": 0.01 * k}
        for name, rotational in coordinate_motion_types(model).items():
            default = model.getCoordinateSet().get(name).getDefaultValue()
            value = values.get(name, np.degrees(default) if rotational else default)
            row[f"{name}_deg" if rotational else f"{name}_m"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def test_the_demo_models_com_hips_and_ankles_through_opensim(tmp_path):
    path = demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=tmp_path)
    frames = [{}, {"pelvis_tx": 1.0, "pelvis_ty": 0.9}, {"pelvis_ty": 0.9, "hip_flexion_r": 30.0}]
    points, neutral, legs = gg.body_points(str(path), _coordinates(path, frames), SIDES)
    leg = legs["r"]
    assert (leg.hip_joint, leg.ankle_joint, leg.mtp_joint, leg.calcaneus) == ("hip_r", "ankle_r", "mtp_r", "calcn_r")
    # the model's heel and toe-tip markers are the foot's ends
    assert leg.heel[0] == "calcn_r" and leg.toe[0] == "toes_r"
    # the hip centres' midpoint: the hip joint's place in the pelvis (joints.csv), moved with the pelvis
    assert points.loc[1, "hip_mid_x_m"] == pytest.approx(1.0 - 0.0707, abs=1e-4)
    assert points.loc[1, "hip_mid_y_m"] == pytest.approx(0.9 - 0.0661, abs=1e-4)
    # a translation moves the COM by as much and leaves every relative distance
    assert points.loc[1, "com_x_m"] - points.loc[0, "com_x_m"] == pytest.approx(1.0)
    rel = [points.loc[k, "ankle_r_x_m"] - points.loc[k, "com_x_m"] for k in (0, 1)]
    assert rel[0] == pytest.approx(rel[1])
    # hip flexion swings the right ankle forwards of the hips by about leg length x sin 30
    ahead = points.loc[2, "ankle_r_x_m"] - points.loc[2, "hip_mid_x_m"]
    assert 0.3 < ahead < 0.5
    assert points.loc[2, "facing_x"] == pytest.approx(1.0)
    assert neutral["r"] == pytest.approx(neutral["l"])


def test_a_3d_model_turned_to_face_minus_x_gives_the_same_placement():
    path = shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    pose = {"pelvis_ty": 0.95, "hip_flexion_r": 25.0, "knee_angle_r": -20.0, "hip_flexion_l": -15.0}
    frames = [pose, pose | {"pelvis_rotation": 180.0, "pelvis_tx": 3.0}]
    points, _, legs = gg.body_points(str(path), _coordinates(path, frames), SIDES)
    assert legs["l"].ankle_joint == "ankle_l"
    facing = gg.facing_directions(points[["facing_x", "facing_y", "facing_z"]].to_numpy())
    np.testing.assert_allclose(facing, [[1.0, 0.0], [-1.0, 0.0]], atol=1e-9)
    for name in ("ankle_r", "ankle_l", "hip_mid"):
        stem, _, side = name.partition("_") if name != "hip_mid" else (name, "", "")
        vector = np.column_stack(
            [points[gg.column(stem, a, side or None)] - points[gg.column("com", a)] for a in "xyz"]
        )
        ahead = gg.along(vector, facing)
        assert ahead[1] == pytest.approx(ahead[0], abs=1e-9)
    right = gg.along(
        np.column_stack([points[gg.column("ankle", a, "r")] - points[gg.column("com", a)] for a in "xyz"]), facing
    )
    assert right[0] > 0.2  # the flexed right leg's ankle ahead of the COM


@pytest.mark.parametrize(
    ("parts", "knee"),
    [
        (("rajagopal-lai-uhlrich-2023", "RajagopalLaiUhlrich2023.osim"), "walker_knee_r"),
        (("gait2392-walk", "gait2392_thelen2003muscle.osim"), "knee_r"),
        (("gait10dof18musc", "gait10dof18musc.osim"), "knee_r"),
    ],
)
def test_the_leg_is_found_in_the_joint_tree_of_opensims_models(parts, knee):
    import opensim as osim

    model = osim.Model(str(shared(*parts)))
    state = model.initSystem()
    model.realizePosition(state)
    chain = [joint.getName() for joint in gg.leg_chain(model, "_r")]
    assert chain == ["hip_r", knee, "ankle_r", "subtalar_r", "mtp_r"]
    leg = gg.find_leg(model, state, "_r")
    assert (leg.ankle_joint, leg.mtp_joint, leg.calcaneus, leg.toes) == ("ankle_r", "mtp_r", "calcn_r", "toes_r")
    # the heel lies behind the toe along the foot
    assert leg.heel[1][0] < leg.toe[1][0]


def test_the_config_check_knows_the_measures_and_names_the_closest_for_a_typo():
    from retrorun import hypotheses
    from retrorun.errors import ConfigError

    known = config.outcome_names({"quadriceps": ["vas_lat"], "hamstrings": ["semimem"]})
    claim = {"id": "c", "claim": "x", "expected": "backward > forward"}
    hypotheses.check(
        [claim | {"measure": "strike.foot_angle_deg"}],
        known_measures=known,
        compare=["forward", "backward"],
        source="s",
    )
    with pytest.raises(ConfigError, match="placement.com_to_ankle_at_contact_m"):
        hypotheses.check(
            [claim | {"measure": "placement.com_to_ankle_at_contact"}],
            known_measures=known,
            compare=["forward", "backward"],
            source="s",
        )


def test_the_demos_truth_check_fails_a_difference_of_the_wrong_sign(tmp_path):
    from retrorun.demo import checks

    rows = []
    for k in range(3):
        for condition, travel in (("forward", -0.6), ("backward", 0.4)):
            rows.append(
                {"subject": f"s{k}", "condition": condition, "trial": condition, "side": "r", "cycle": 0}
                | {"group": "placement", "metric": "ankle_travel_stance_m", "value": travel + 0.01 * k}
            )
    measured = pd.DataFrame(
        {
            "source": "so",
            "group": "placement",
            "metric": ["ankle_travel_stance_m"],
            "difference_mean": [-0.2],  # the truth's is +1.0
            "n_subjects": [3],
        }
    )
    measured.to_csv(tmp_path / "comparison.csv", index=False)
    table = checks.geometry_difference_rows(
        pd.DataFrame(rows), tmp_path / "comparison.csv", compare=["forward", "backward"]
    )
    assert len(table) == 1 and not table["pass"].iloc[0] and table["value"].iloc[0] == pytest.approx(120.0)
    assert "truth 1," in table["quantity"].iloc[0] and len(table["note"].iloc[0]) > 20
