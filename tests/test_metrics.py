"""Cycle metrics with known answers: square waves and a triangle."""

import numpy as np
import pandas as pd
import pytest

from retrorun import metrics
from retrorun.cycles import PERCENT
from retrorun.errors import AnalysisError
from retrorun.groups import group_activations


def square(on_from, on_to, level=1.0, fine=10001):
    """A square wave sampled finely then read at whole percent, like a normalised curve."""
    return np.where((PERCENT >= on_from) & (PERCENT <= on_to), level, 0.0)


def test_square_wave_mean_integral_peak_and_ratio():
    # quadriceps 0.6 from 0 to 40 % (stance), hamstrings 0.3 from 70 to 100 % (late swing)
    quads, hams = square(0, 40, 0.6), square(70, 100, 0.3)
    out = metrics.activation_metrics(PERCENT, quads, stance_pct=40.0, cycle_s=0.7)
    # the sampled edge adds half a percent of ramp: mean 0.6 * 40.5 / 100
    assert out["mean_cycle"] == pytest.approx(0.6 * 0.405, abs=1e-9)
    assert out["mean_stance"] == pytest.approx(0.6, abs=1e-9)
    assert out["mean_swing"] == pytest.approx(0.6 * 0.5 / 60, abs=1e-9)
    assert out["integrated_s"] == pytest.approx(0.6 * 0.405 * 0.7, abs=1e-9)
    assert out["peak"] == 0.6 and out["peak_timing_pct"] == 0.0
    ham = metrics.activation_metrics(PERCENT, hams, stance_pct=40.0, cycle_s=0.7)
    assert ham["peak_timing_pct"] == 70.0 and ham["mean_stance"] == 0.0
    pair = metrics.pair_metrics(PERCENT, quads, hams, stance_pct=40.0)
    assert pair["ratio_mean_cycle"] == pytest.approx((0.6 * 40.5) / (0.3 * 30.5), rel=1e-9)
    assert np.isnan(pair["ratio_mean_stance"])  # no hamstrings activity in stance: no ratio
    assert pair["cci_cycle_pct"] == pytest.approx(0.0, abs=1e-12)  # never both active


def test_cocontraction_index_of_overlapping_curves():
    equal = np.full(101, 0.4)
    assert metrics.cocontraction_index_pct(PERCENT, equal, equal, start_pct=0, end_pct=100) == pytest.approx(100.0)
    # a = 0.2 and b = 0.6 throughout: common 0.2, total 0.8 -> 200 * 0.2 / 0.8 = 50 %
    assert metrics.cocontraction_index_pct(
        PERCENT, np.full(101, 0.2), np.full(101, 0.6), start_pct=0, end_pct=100
    ) == pytest.approx(50.0)


def test_triangle_peak_timing_and_phase_mean():
    triangle = np.interp(PERCENT, [0, 30, 60, 100], [0, 1, 0, 0])
    out = metrics.activation_metrics(PERCENT, triangle, stance_pct=60.0, cycle_s=1.0)
    assert out["peak_timing_pct"] == 30.0
    assert out["mean_stance"] == pytest.approx(0.5)
    assert out["mean_cycle"] == pytest.approx(0.3)
    assert out["mean_swing"] == pytest.approx(0.0)
    assert metrics.phase_mean(PERCENT, triangle, start_pct=15.5, end_pct=30.0) == pytest.approx((0.5166667 + 1) / 2)


def test_knee_extension_peak_is_looked_for_in_stance_only():
    moment = np.interp(PERCENT, [0, 14, 40, 80, 100], [0, 3.0, 0, 5.0, 0])  # a larger swing value is ignored
    out = metrics.knee_extension_peak(PERCENT, moment, stance_pct=40.0)
    assert out["peak_extension_moment_nm_per_kg"] == pytest.approx(3.0)
    assert out["peak_extension_moment_timing_pct_stance"] == pytest.approx(35.0)


def test_group_activation_mean_and_weighted_mean():
    acts = pd.DataFrame({"time_s": [0.0, 0.1], "vas_r": [0.2, 0.4], "rf_r": [0.6, 0.0], "bf_r": [0.1, 0.1]})
    groups = {"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]}
    plain = group_activations(acts, groups=groups, sides={"r": "_r"})
    np.testing.assert_allclose(plain["quadriceps_r"], [0.4, 0.2])
    weighted = group_activations(
        acts, groups=groups, sides={"r": "_r"}, weights={"vas_r": 3000.0, "rf_r": 1000.0, "bf_r": 900.0}
    )
    np.testing.assert_allclose(weighted["quadriceps_r"], [(0.6 + 0.6) / 4, 1.2 / 4])
    with pytest.raises(AnalysisError, match="semimem_r") as err:
        group_activations(
            acts,
            groups={"quadriceps": ["vas"], "hamstrings": ["semimem"]},
            sides={"r": "_r"},
            source="so_activations.csv",
            subject="s1",
            trial="t1",
        )
    assert "s1/t1" in str(err.value) and "muscle_groups" in str(err.value)


def test_the_analysis_and_validation_check_group_muscles_alike():
    """groups.check_group_muscles: on the model's muscles before any job, on the
    activations' columns in the analysis, with one message."""
    from retrorun.groups import check_group_muscles

    groups = {"quadriceps": ["vas"], "hamstrings": ["semimem"]}
    assert check_group_muscles({"vas_r", "bf_r"}, groups=groups, sides={"r": "_r"}, where="the model") == [
        "config muscle_groups.hamstrings: muscle 'semimem_r' (side r) is not in the model (its muscles: bf_r, vas_r...)"
    ]
    acts = pd.DataFrame({"time_s": [0.0], "vas_r": [0.2], "bf_r": [0.1]})
    with pytest.raises(AnalysisError) as err:
        group_activations(acts, groups=groups, sides={"r": "_r"}, source="so_activations.csv")
    assert err.value.message == (
        "config muscle_groups.hamstrings: muscle 'semimem_r' (side r) is not in the "
        "activations so_activations.csv (its muscles: bf_r, vas_r...)"
    )


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="stance_pct"):
        metrics.activation_metrics(PERCENT, np.zeros(101), stance_pct=100.0, cycle_s=0.7)
    with pytest.raises(ValueError, match="cycle_s"):
        metrics.activation_metrics(PERCENT, np.zeros(101), stance_pct=40.0, cycle_s=0.0)


def test_max_isometric_forces_are_read_from_the_model():
    from conftest import shared

    from retrorun.groups import max_isometric_forces

    model = shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    forces = max_isometric_forces(str(model), ["vas_lat_r", "semiten_r", "not_a_muscle_r"])
    # the values in FullBodyModel_Hamner2010_v2_0.osim (gait2392 family); an absent muscle is left out
    assert forces == {"vas_lat_r": pytest.approx(1871.0), "semiten_r": pytest.approx(410.0)}


SETTINGS = {"min_cycle_s": 0.3, "max_cycle_s": 2.0, "knee_coordinate": "knee_angle", "knee_extension_sign": 1}


def synthetic_trial(*, mass_kg=70.0, stride_s=0.7, stance_s=0.28, first_s=0.2, rate_hz=500.0):
    """Right foot only (one plate): stance 40 % of a 0.7 s stride. Quadriceps 0.5 in stance
    and 0 in swing, hamstrings 0.2 throughout; knee extension moment a 2 N·m/kg half sine."""
    time_s = np.round(np.arange(0.0, 3.0, 1 / rate_hz), 9)
    phase = (time_s - first_s) % stride_s
    stance = (time_s >= first_s) & (phase < stance_s)
    force = np.where(stance, 1500.0 * np.sin(np.pi * phase / stance_s), 0.0)
    grf = pd.DataFrame({"time_s": time_s, "r_force_y_n": force})
    window = (time_s >= 0.5) & (time_s <= 2.8)
    activations = pd.DataFrame({"time_s": time_s[window]})
    for muscle in ("vas_r", "rf_r", "vas_l", "rf_l"):
        activations[muscle] = np.where(stance[window], 0.5, 0.0)
    for muscle in ("bf_r", "bf_l"):
        activations[muscle] = 0.2
    moment = np.where(stance, 2.0 * mass_kg * np.sin(np.pi * phase / stance_s), 0.0)
    ik = pd.DataFrame({"time_s": time_s, "knee_angle_r_deg": -30.0, "knee_angle_l_deg": -30.0})
    id_forces = pd.DataFrame({"time_s": time_s, "knee_angle_r_moment_nm": moment, "knee_angle_l_moment_nm": 0.0})
    return grf, activations, ik, id_forces


def cycles_of(grf, *, unit="cycle", region=(0.5, 2.8)):
    """Rule plan_cycles on the synthetic trial: the cycles (or stances) in the region."""
    from retrorun import cycle_plan, events

    contacts = events.detect_side_contacts(grf, sides=["r", "l"], threshold_n=20.0, min_contact_s=0.05)
    return cycle_plan.plan(
        contacts,
        unit=unit,
        count="all",
        record_start_s=0.0,
        record_end_s=float(grf["time_s"].iloc[-1]),
        frame_s=0.01,
        min_cycle_s=0.3,
        max_cycle_s=2.0,
        margin_s=0.5,
        region_start_s=region[0],
        region_end_s=region[1],
    ).units


def test_a_synthetic_trial_gives_the_known_metrics():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    result = analysis.analyse_trial(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS,
        mass_kg=70.0,
        subject="s1",
        trial="t1",
    )
    # right strikes at 0.2 + 0.7 k (threshold crossing a little later): cycles wholly in 0.5-2.8 s
    # start at 0.9 and 1.6 s; 0.2 s is outside the region, 2.3 s has no next strike in the
    # record; the left foot is on no plate
    used = result.cycles[result.cycles["status"] == "used"]
    assert list(used["side"]) == ["r", "r"]
    np.testing.assert_allclose(used["strike_s"], [0.9, 1.6], atol=0.005)
    assert list(result.cycles["status"]) == ["outside_region", "used", "used", "missing_contact"]
    value = result.metrics.groupby(["group", "metric"])["value"].mean()
    stance = value["cycle", "stance_pct"]
    assert stance == pytest.approx(40.0, abs=1.0)
    assert value["quadriceps", "mean_stance"] == pytest.approx(0.5, abs=0.02)
    assert value["quadriceps", "mean_swing"] == pytest.approx(0.0, abs=0.02)
    assert value["quadriceps", "mean_cycle"] == pytest.approx(0.5 * 0.4, abs=0.01)
    assert value["quadriceps", "integrated_s"] == pytest.approx(0.5 * 0.28, abs=0.01)
    assert value["hamstrings", "mean_cycle"] == pytest.approx(0.2)
    assert value["quadriceps_hamstrings", "ratio_mean_stance"] == pytest.approx(2.5, abs=0.1)
    assert value["quadriceps_hamstrings", "ratio_mean_cycle"] == pytest.approx(1.0, abs=0.05)
    # CCI over stance: common 0.2, total 0.7 -> 57.1 %
    assert value["quadriceps_hamstrings", "cci_stance_pct"] == pytest.approx(200 * 0.2 / 0.7, abs=1.5)
    assert value["knee", "peak_extension_moment_nm_per_kg"] == pytest.approx(2.0, abs=0.01)
    assert value["knee", "peak_extension_moment_timing_pct_stance"] == pytest.approx(50.0, abs=3.0)
    assert len(result.curves) == 2 * 101 and "vas_r" in result.curves and "knee_angle_r_moment_nm" in result.curves


def test_stance_units_give_the_stance_metrics_over_0_to_100_percent_of_stance():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    result = analysis.analyse_trial(
        cycles=cycles_of(grf, unit="stance"),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS | {"unit": "stance"},
        mass_kg=70.0,
    )
    used = result.cycles[result.cycles["status"] == "used"]
    # stances 0.9, 1.6, 2.3 s (0.28 s each) lie in 0.5-2.8 s; 0.2 s does not
    np.testing.assert_allclose(used["start_s"], [0.9, 1.6, 2.3], atol=0.005)
    value = result.metrics.groupby(["group", "metric"])["value"].mean()
    assert value["cycle", "duration_s"] == pytest.approx(0.28, abs=0.01) and value["cycle", "stance_pct"] == 100
    assert value["quadriceps", "mean_stance"] == pytest.approx(0.5, abs=0.02)
    assert value["quadriceps", "integrated_stance_s"] == pytest.approx(0.5 * 0.28, abs=0.01)
    assert value["quadriceps_hamstrings", "ratio_mean_stance"] == pytest.approx(2.5, abs=0.1)
    assert value["quadriceps_hamstrings", "cci_stance_pct"] == pytest.approx(200 * 0.2 / 0.7, abs=1.5)
    assert value["knee", "peak_extension_moment_nm_per_kg"] == pytest.approx(2.0, abs=0.01)
    assert value["knee", "peak_extension_moment_timing_pct_stance"] == pytest.approx(50.0, abs=2.0)
    # no swing in a stance unit: the cycle-only measures are not made up
    names = set(result.metrics["metric"])
    assert not names & {"mean_swing", "mean_cycle", "ratio_mean_cycle", "cci_cycle_pct"}
    assert len(result.curves) == 3 * 101


def test_failed_trials_are_listed_in_the_cycle_counts():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    result = analysis.analyse_trial(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS,
        mass_kg=70.0,
    )
    info = {"subject": "s1", "condition": "forward", "trial": "t1"}
    counts = analysis.cycle_counts(
        [(info, result.cycles)],
        [{"subject": "s2", "condition": "backward", "trial": "t9", "stage": "static_optimization"}],
        sides=["r", "l"],
    )
    assert list(counts["status"]) == ["done", "done", "failed:static_optimization"]
    right = counts[counts["side"] == "r"].iloc[0]
    assert right["n_used"] == 2 and right["n_outside_region"] == 1 and right["n_missing_contact"] == 1


def test_a_missing_knee_coordinate_names_the_file_and_the_key():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    with pytest.raises(AnalysisError, match="knee_coordinate") as err:
        analysis.analyse_trial(
            cycles=cycles_of(grf),
            activations=activations,
            ik=ik,
            id_forces=id_forces,
            groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
            sides={"r": "_r", "l": "_l"},
            settings=SETTINGS | {"knee_coordinate": "knee"},
            mass_kg=70.0,
            subject="s1",
            trial="t1",
            sources={"id_forces": "id_generalized_forces.csv"},
        )
    assert "id_generalized_forces.csv" in str(err.value) and "knee_r_moment_nm" in str(err.value)


# ----------------------------------------- activation floor and knee sign (issue 9, items 2-3)


def test_a_group_at_its_activation_floor_gives_no_ratio_and_no_cocontraction():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    # SO never goes below min_control 0.01: hamstrings sitting on it are silent
    activations[["bf_r", "bf_l"]] = 0.01
    floors = {c: 0.01 for c in activations.columns if c != "time_s"}
    result = analysis.analyse_trial(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS,
        mass_kg=70.0,
        floors=floors,
    )
    pair = result.metrics[result.metrics["group"] == "quadriceps_hamstrings"].set_index("metric")
    # without the floor: 0.5 / 0.01 = 50 and a CCI of 2 * 0.01 / 0.51 = 3.9 %
    assert pair.loc["ratio_mean_stance", "value"].isna().all()
    assert pair.loc["ratio_mean_stance", "note"].str.contains("activation floor").all()
    assert (pair.loc["cci_stance_pct", "value"] == 0.0).all()
    quads = result.metrics[(result.metrics["group"] == "quadriceps") & (result.metrics["metric"] == "mean_stance")]
    np.testing.assert_allclose(quads["value"], 0.49, atol=0.02)  # 0.5 less its floor


def test_the_knee_sign_comes_from_the_model_and_a_negative_peak_is_flagged():
    from retrorun import analysis

    grf, activations, ik, id_forces = synthetic_trial()
    # a flexion-positive knee: the same extension moment, opposite sign
    flipped = id_forces.assign(knee_angle_r_moment_nm=-id_forces["knee_angle_r_moment_nm"])
    settings = SETTINGS | {"knee_extension_sign": None}
    kwargs = dict(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        mass_kg=70.0,
    )
    right = analysis.analyse_trial(id_forces=id_forces, settings=settings, knee_signs={"r": 1.0, "l": 1.0}, **kwargs)
    read = analysis.analyse_trial(id_forces=flipped, settings=settings, knee_signs={"r": -1.0, "l": -1.0}, **kwargs)
    pd.testing.assert_frame_equal(right.metrics, read.metrics)
    # the sign assumed (+1) on the flexion-positive knee: no positive peak, flagged, not reported
    wrong = analysis.analyse_trial(id_forces=flipped, settings=SETTINGS, **kwargs)
    knee = wrong.metrics[wrong.metrics["group"] == "knee"]
    assert knee["value"].isna().all() and knee["note"].str.contains("knee_extension_sign").all()


def test_activation_above_floor_is_each_muscles_excess_never_below_zero():
    from retrorun.groups import above_floor

    rng = np.random.default_rng(3)
    values = rng.random((50, 4)) * 0.05
    values[:5, 0], values[5, 1], values[6, 2] = np.nan, -0.0, 0.0
    table = pd.DataFrame(values, columns=["a_r", "b_r", "c_r", "d_r"]).assign(time_s=np.arange(50) / 100)
    floors = {"a_r": 0.01, "b_r": 0.0, "c_r": 0.02, "absent_r": 0.01}  # d_r has no floor: kept
    given = table.copy()
    found = above_floor(table, floors)
    expected = table.copy()
    for column, floor in floors.items():
        if column in expected:
            expected[column] = (expected[column] - floor).clip(lower=0.0)
    assert list(found.columns) == list(table.columns) and found.dtypes.equals(table.dtypes)
    assert np.array_equal(found.to_numpy(), expected.to_numpy(), equal_nan=True)
    assert np.array_equal(np.signbit(found.to_numpy()), np.signbit(expected.to_numpy()))  # -0.0 as clip keeps it
    assert found["c_r"].min() == 0.0 and np.isnan(found["a_r"].iloc[:5]).all()
    assert table.equals(given)  # the input is left as it was
