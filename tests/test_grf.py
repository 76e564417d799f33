"""GRF filtering keeps flight force-free and the centre of pressure where the foot is."""

import numpy as np
import pandas as pd
import pytest

from retrorun import filtering, grf
from retrorun.errors import InputError
from retrorun.filtering import filter_plate, lowpass

LOADS = """<OpenSimDocument><ExternalLoads><objects>
<ExternalForce name="r"><applied_to_body>calcn_r</applied_to_body><force_identifier>r_v</force_identifier>
<point_identifier>r_p</point_identifier><torque_identifier>r_m</torque_identifier></ExternalForce>
<ExternalForce name="l"><applied_to_body>calcn_l</applied_to_body><force_identifier>l_v</force_identifier>
<point_identifier>l_p</point_identifier><torque_identifier>l_m</torque_identifier></ExternalForce>
</objects></ExternalLoads></OpenSimDocument>"""


def stance_table(rate=1000.0):
    time = np.arange(0, 2, 1 / rate)
    table = {"time": time}
    for side, (on, off, x0) in {"r": (0.5, 0.8, 1.0), "l": (1.2, 1.5, 2.0)}.items():
        contact = (time > on) & (time < off)
        table[f"{side}_vx"] = np.where(contact, -100 * np.sin(2 * np.pi * (time - on) / (off - on)), 0)
        table[f"{side}_vy"] = np.where(contact, 1500 * np.sin(np.pi * (time - on) / (off - on)), 0)
        table[f"{side}_vz"] = 0.0
        table[f"{side}_px"] = np.where(contact, x0 + 0.2 * (time - on) / (off - on), 0)
        table[f"{side}_py"] = 0.0
        table[f"{side}_pz"] = 0.1 if side == "r" else -0.1
        for axis in "xyz":
            table[f"{side}_m{axis}"] = 0.0
    return pd.DataFrame(table)


def test_filtered_plate_is_zero_in_flight_and_never_pulls():
    table = stance_table()
    force = table[["r_vx", "r_vy", "r_vz"]].to_numpy()
    point = table[["r_px", "r_py", "r_pz"]].to_numpy()
    f, p, m = filter_plate(force, point, np.zeros_like(force), rate_hz=1000, cutoff_hz=12, contact_threshold_n=20)
    assert np.all(f[:, 1] >= 0)
    # the force is filtered like the kinematics, edges included (Bisseling & Hof 2006):
    # wherever the plate pushes, it is the low-passed contact force
    expected = lowpass(np.where(force[:, [1]] >= 20, force, 0.0), rate_hz=1000, cutoff_hz=12)
    pushing = expected[:, 1] > 0
    assert np.abs(f[pushing] - expected[pushing]).max() < 1e-9
    assert np.all(f[~pushing] == 0)
    time = table["time"].to_numpy()
    far_from_contact = (time < 0.4) | (time > 0.9)
    assert np.abs(f[far_from_contact]).max() < 1.0  # flight stays force-free
    stance = force[:, 1] > 200
    assert np.abs(p[stance, 0] - point[stance, 0]).max() < 0.01  # the COP is not smeared towards 0


def test_per_side_table_and_window(tmp_path):
    path = tmp_path / "loads.xml"
    path.write_text(LOADS)
    prepared, per_side = grf.prepare_grf(
        stance_table(),
        external_loads=str(path),
        window={"start_s": 0.4, "end_s": 1.6},
        margin_s=0.2,
        cutoff_hz=15,
        contact_threshold_n=20,
        sides={"r": "_r", "l": "_l"},
        subject="S",
        trial="T",
        source="grf.mot",
    )
    assert prepared["time"].iloc[0] == pytest.approx(0.2) and prepared["time"].iloc[-1] == pytest.approx(1.8)
    right_stance = per_side[(per_side.time_s > 0.55) & (per_side.time_s < 0.75)]
    assert right_stance["l_force_y_n"].abs().max() < 1e-3  # the left foot is in the air
    assert right_stance["r_cop_x_m"].between(1.0, 1.2).all()
    assert right_stance["r_cop_z_m"].to_numpy() == pytest.approx(0.1, abs=1e-6)


def test_grf_shorter_than_window(tmp_path):
    path = tmp_path / "loads.xml"
    path.write_text(LOADS)
    with pytest.raises(InputError, match="covers 0-1.999 s, not the whole analysis window 0.5-3 s"):
        grf.prepare_grf(
            stance_table(),
            external_loads=str(path),
            window={"start_s": 0.5, "end_s": 3.0},
            margin_s=0.2,
            cutoff_hz=15,
            contact_threshold_n=20,
            sides={"r": "_r", "l": "_l"},
            subject="S",
            trial="T",
            source="grf.mot",
        )


def test_lowpass_removes_high_frequency_keeps_low():
    t = np.arange(0, 2, 0.001)
    slow, fast = np.sin(2 * np.pi * 2 * t), 0.5 * np.sin(2 * np.pi * 80 * t)
    out = lowpass(slow + fast, rate_hz=1000, cutoff_hz=12)
    assert np.abs(out - slow)[200:-200].max() < 0.01


def test_the_grf_stage_and_the_up_front_check_say_the_same(tmp_path):
    """One implementation of each GRF precondition: prepare_grf and raw_contacts raise
    with the very problems validation lists before any job (grf.check_*)."""
    path = tmp_path / "loads.xml"
    path.write_text(LOADS.replace("calcn_l", "calcn_left"))
    table = stance_table().drop(columns=["r_mz"])
    specs = grf.templates.external_forces(str(path))
    sides = {"r": "_r", "l": "_l"}
    expected = grf.check_force_columns(
        table.columns, specs, grf_path="grf.mot", loads_path=str(path)
    ) + grf.check_force_sides(specs, sides, loads_path=str(path))
    assert len(expected) == 2 and "lacks column(s) r_mz that ExternalForce 'r'" in expected[0]
    assert "ExternalForce 'l' acts on 'calcn_left'" in expected[1]
    with pytest.raises(InputError) as err:
        grf.prepare_grf(
            table,
            external_loads=str(path),
            window={},
            margin_s=0.2,
            cutoff_hz=15,
            contact_threshold_n=20,
            sides=sides,
            subject="S",
            trial="T",
            source="grf.mot",
        )
    assert err.value.message == "; ".join(expected) and (err.value.subject, err.value.trial) == ("S", "T")
    with pytest.raises(InputError) as err:
        grf.raw_contacts(
            table,
            external_loads=str(path),
            window={},
            margin_s=0.0,
            threshold_n=20,
            min_contact_s=0.05,
            sides=sides,
            subject="S",
            trial="T",
            source="grf.mot",
        )
    assert err.value.message == "; ".join(expected)


def test_a_grf_whose_time_goes_back_is_refused_by_the_stage_as_up_front(tmp_path):
    path = tmp_path / "loads.xml"
    path.write_text(LOADS)
    table = stance_table()
    table.loc[100, "time"] = table.loc[99, "time"]
    expected = grf.check_time_increases(table["time"].to_numpy(), grf_path="grf.mot")
    assert expected == [
        "the time column of grf.mot does not increase at data row 101 (0.099 -> 0.099 s); "
        "export the GRF again without repeated or reordered rows"
    ]
    with pytest.raises(InputError) as err:
        grf.prepare_grf(
            table,
            external_loads=str(path),
            window={},
            margin_s=0.2,
            cutoff_hz=15,
            contact_threshold_n=20,
            sides={"r": "_r", "l": "_l"},
            subject="S",
            trial="T",
            source="grf.mot",
        )
    assert err.value.message == expected[0]


def test_a_grf_time_column_rounded_by_the_exporter_is_put_back_on_its_grid(tmp_path):
    """The Hamner GRF: 60 Hz written as 0.017, 0.033 s. The markers are read on their
    exact grid (markers.restore_missing_frames), so the GRF must be too, or each force
    would be paired with a pose up to 0.33 ms away; times off any grid stay as they are."""
    path = tmp_path / "loads.xml"
    path.write_text(LOADS)
    table = stance_table(rate=60.0)
    exact = table["time"].to_numpy().copy()
    table["time"] = np.round(exact, 3)
    prepared, per_side = grf.prepare_grf(
        table,
        external_loads=str(path),
        window={},
        margin_s=0.0,
        cutoff_hz=15,
        contact_threshold_n=20,
        sides={"r": "_r", "l": "_l"},
        subject="S",
        trial="T",
        source="grf.mot",
    )
    assert np.abs(prepared["time"].to_numpy() - exact).max() < 1e-12
    assert np.abs(per_side["time_s"].to_numpy() - exact).max() < 1e-12
    uneven = np.cumsum(np.r_[0.0, np.tile([0.01, 0.03], 10)])  # not one rate: left alone
    assert np.array_equal(filtering.on_uniform_grid(uneven), uneven)
