"""The real Hamner running trial turned about the vertical (markers, forces, centres of
pressure and torques: nothing else changed) gives the untouched trial's joint angles
(the pelvis's heading aside), moments, activations and outcomes: retrorun.heading turns
each trial into the model's facing frame before IK and ID. Before it, turned 180 deg,
IK sat at pelvis_rotation's +90 deg clamp with 9.5 cm marker RMS, exit 0."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared
from workflow_runner import hamner_study, ok, snakemake

from retrorun import formats
from retrorun.heading import rotation_about_vertical

pytestmark = pytest.mark.slow

# External_Loads.xml: plate columns ground_* act on calcn_r, 1_ground_* on calcn_l
VECTORS = [f"{p}ground_{k}" for p in ("", "1_") for k in ("force_v", "force_p", "torque_")]


def turn_trial(markers_path, grf_path, angle_deg, folder):
    """The trial's markers and GRF turned by ``angle_deg`` about the lab's vertical axis
    through its origin, as if recorded with the runner facing that way."""
    rotation = rotation_about_vertical(angle_deg)
    markers = formats.read_trc(markers_path)
    markers.positions_m = {name: xyz @ rotation.T for name, xyz in markers.positions_m.items()}
    grf, _ = formats.read_storage(grf_path)
    for prefix in VECTORS:
        columns = [f"{prefix}{axis}" for axis in "xyz"]
        grf[columns] = grf[columns].to_numpy() @ rotation.T
    paths = folder / f"run_{angle_deg:g}.trc", folder / f"run_{angle_deg:g}_grf.mot"
    formats.write_trc(paths[0], markers)
    formats.write_storage(paths[1], grf, in_degrees=False, name="grf")
    return paths


def test_the_hamner_trial_turned_180_and_90_deg_gives_the_same_results(tmp_path):
    data = shared("hamner-run")
    # one whole left cycle (0.751-1.436 s) as in the region tests, to keep it short
    config = hamner_study(tmp_path, region=(0.76, 1.43), study="turned")
    sheet = pd.read_csv(tmp_path / "trials.tsv", sep="\t", dtype=str, keep_default_na=False)
    rows = [sheet.iloc[0].to_dict()]
    for angle in (180.0, 90.0):
        markers, grf = turn_trial(data / "subject02_running.trc", data / "subject02_running_grf.mot", angle, tmp_path)
        rows.append(rows[0] | {"trial": f"turned{angle:g}", "markers": str(markers), "grf": str(grf)})
    pd.DataFrame(rows).to_csv(tmp_path / "trials.tsv", sep="\t", index=False)
    trials = ["run", "turned180", "turned90"]
    folder = tmp_path / "results" / "turned" / "trials" / "subject02"
    targets = [f"results/turned/trials/subject02/{t}/qc.json" for t in trials]
    ok(snakemake(tmp_path, config, "--rerun-incomplete", *targets))

    headings = {t: json.loads((folder / t / "heading.json").read_text())["heading_deg"] for t in trials}
    assert abs(headings["run"]) < 10  # the treadmill runner faces the lab's +X
    for trial, angle in (("turned180", 180.0), ("turned90", 90.0)):
        turn = headings[trial] - headings["run"]
        assert np.degrees(np.angle(np.exp(1j * np.radians(turn - angle)))) == pytest.approx(0, abs=1e-3)

    def table(trial, name):
        return pd.read_csv(folder / trial / name)

    for trial in trials[1:]:
        # joint angles: every coordinate but the pelvis's position in the lab
        angles, turned = table("run", "ik_coordinates.csv"), table(trial, "ik_coordinates.csv")
        joints = [c for c in angles.columns if c != "time_s" and not c.startswith(("pelvis_tx", "pelvis_tz"))]
        assert np.abs(turned[joints] - angles[joints]).max().max() < 0.01  # deg (and m for pelvis_ty)
        # moments, activations, the cycle outcomes and QC
        moments, turned_moments = table("run", "id_generalized_forces.csv"), table(trial, "id_generalized_forces.csv")
        assert np.abs(turned_moments.iloc[:, 1:] - moments.iloc[:, 1:]).max().max() < 0.05  # N·m, N
        activations, turned_activations = table("run", "so_activations.csv"), table(trial, "so_activations.csv")
        assert np.abs(turned_activations.iloc[:, 1:] - activations.iloc[:, 1:]).max().max() < 1e-3
        metrics, turned_metrics = table("run", "cycle_metrics.csv"), table(trial, "cycle_metrics.csv")
        numbers = metrics.select_dtypes("number").columns
        assert np.allclose(turned_metrics[numbers], metrics[numbers], rtol=1e-3, atol=1e-3, equal_nan=True)
        qc, turned_qc = (json.loads((folder / t / "qc.json").read_text()) for t in ("run", trial))
        for key in ("ik_marker_rms_m", "residual_force_share_of_peak_grf", "residual_moment_peak_nm"):
            assert turned_qc[key] == pytest.approx(qc[key], rel=1e-3, abs=1e-4)
        assert turned_qc["status"] == qc["status"]
        assert turned_qc["heading_deg"] == pytest.approx(headings[trial])
