"""End to end on real data: the OpenSim example recordings in ../shared/data.

1. Forward running, Hamner full-body model: no window, so every complete cycle of the
   10 s trial (27), SO over them; run as the README says, from the root of a clone (the
   others use --directory).
2. Walking, gait2392 with a separate marker set and a 600 Hz GRF: config changes only.
Then: a second run does nothing, and changing filter_hz reruns IK and what depends
on it, not scaling.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared
from workflow_runner import ok, planned_jobs, run_in, snakemake

from retrorun.formats import read_storage

pytestmark = pytest.mark.slow

QC_REQUIRED = [
    "subject",
    "trial",
    "condition",
    "scale_marker_rms_m",
    "scale_marker_max_m",
    "ik_marker_rms_m",
    "ik_marker_max_m",
    "residual_force_peak_n",
    "residual_moment_peak_nm",
    "reserve_peak_share",
    "saturated_frame_share",
    "pass",
    "flags",
]


def check_outputs(workdir, study, subject, trial, *, n_frames):
    results = workdir / "results" / study
    qc = pd.read_csv(results / "qc.csv", keep_default_na=False)
    assert len(qc) == 1
    row = qc.iloc[0]
    for column in QC_REQUIRED:
        if column != "flags":  # empty flags means every check passed
            assert row[column] != "", f"qc.csv column {column} is empty"
    trial_dir = results / "trials" / subject / trial
    activations = pd.read_csv(trial_dir / "so_activations.csv")
    assert len(activations) == n_frames
    assert not activations.isna().any().any()
    assert activations.drop(columns="time_s").to_numpy().min() >= 0
    by_marker = pd.read_csv(trial_dir / "ik_marker_errors_by_marker.csv")
    assert by_marker["rms_m"].is_monotonic_decreasing and (by_marker["max_m"] >= by_marker["rms_m"]).all()
    assert by_marker["rms_m"].max() < 0.1 and (by_marker["weight"] > 0).all()
    for name in (
        "ik.mot",
        "id.sto",
        "so_activations.sto",
        "so_forces.sto",
        "ik_coordinates.csv",
        "id_generalized_forces.csv",
        "so_forces.csv",
        "grf.csv",
    ):
        assert (trial_dir / name).is_file(), name
    assert (results / "subjects" / subject / "scaled_model.osim").is_file()
    assert list((results / "benchmarks" / "static_optimization_chunk").rglob("*.tsv"))
    return row, trial_dir


def test_hamner_running(hamner_example):
    """Run as the README says, from the root of a clone (no --directory)."""
    clone, result = hamner_example
    config = "config/examples/hamner-run/config.yaml"
    ok(result)
    assert "localrules directive specifies rules that are not present" not in result.stdout + result.stderr
    # SO over 0.37-9.72 s: the first used strike (right, 0.390 s; the left one at 0.067 s
    # is 4 frames after the record's start, near_edge) to the last strike that ends a
    # cycle (left, 9.700 s), one 60 Hz frame beyond each
    row, trial_dir = check_outputs(clone, "hamner-run", "subject02", "run", n_frames=561)
    # every complete cycle with both feet on plates, against a count of the raw force's
    # rising edges (independent of retrorun.events): a side's cycles are its strikes - 1
    table, _ = read_storage(shared("hamner-run", "subject02_running_grf.mot"))
    cycles = pd.read_csv(trial_dir / "cycles.csv")
    for side, column in (("r", "ground_force_vy"), ("l", "1_ground_force_vy")):
        above = table[column].to_numpy() > 20.0
        strikes = int(np.count_nonzero(above[1:] & ~above[:-1]))
        near_edge = int(((cycles["side"] == side) & (cycles["status"] == "near_edge")).sum())
        assert int(((cycles["side"] == side) & (cycles["status"] == "used")).sum()) == strikes - 1 - near_edge, side
    assert int(row["n_cycles_used"]) == 26 and int((cycles["status"] == "near_edge").sum()) == 1
    # the model's display meshes are absent: their warnings and OpenSim's model summary
    # are in no log and not on the terminal (issue 11: over 1000 lines before)
    logs = "".join(p.read_text() for p in (clone / "results" / "hamner-run" / "logs").rglob("*.log"))
    for noise in ("Couldn't find file", "MODEL:"):
        assert noise not in logs and noise not in result.stdout + result.stderr, noise
    # OpenSim Best Practices: IK marker RMS about 2 cm. Measured here 2.4 cm with the
    # original Tasks_IK.xml: arm and acromion markers (4-5 cm) dominate; see the note.
    assert float(row["ik_marker_rms_m"]) < 0.025
    assert float(row["ik_marker_max_m"]) < 0.08
    ik = pd.read_csv(trial_dir / "ik_coordinates.csv")
    assert ik["time_s"].iloc[0] == pytest.approx(0.0, abs=0.02)  # the margin is clipped at the record's start
    knee = ik["knee_angle_r_deg"]
    assert knee.min() < -80  # swing-phase knee flexion of running
    assert (trial_dir / "so_chunks" / "0-of-1" / "work" / "so_setup.xml").is_file()

    nothing = run_in(clone, clone, "-n", "--configfile", config)
    ok(nothing)
    assert planned_jobs(nothing) == {}, nothing.stdout[-2000:]
    refilter = run_in(clone, clone, "-n", "--configfile", config, "--config", "filter_hz=10")
    ok(refilter)
    jobs = planned_jobs(refilter)
    # the trial's one job (rule trial: nothing runs between its motion and analysis), whose
    # GRF, IK and everything after them run again
    assert jobs.get("trial") == 1
    assert "scale_model" not in jobs


def test_gait2392_walking(tmp_path):
    shared("gait2392-walk", "gait2392_thelen2003muscle.osim")
    config = REPO / "config" / "examples" / "gait2392-walk" / "config.yaml"
    # OpenSim's own IK tool here (the default is the fast solver), so the workflow runs both
    ok(snakemake(tmp_path, config, "--config", "ik={solver: opensim}"))
    # no window: the trial's two complete cycles, right 0.618-1.852 s and left 1.245-2.459 s;
    # the left one ends 2-3 frames before the record does (near_edge: the splines' end
    # effect), so SO over 0.601-1.869 s (one 60 Hz frame beyond the right cycle)
    row, trial_dir = check_outputs(tmp_path, "gait2392-walk", "subject01", "walk1", n_frames=76)
    cycles = pd.read_csv(trial_dir / "cycles.csv")
    assert sorted(cycles.loc[cycles["status"] == "used", "side"]) == ["r"]
    assert sorted(cycles.loc[cycles["status"] == "near_edge", "side"]) == ["l"]
    assert float(row["ik_marker_rms_m"]) < 0.025
    ik_log = tmp_path / "results" / "gait2392-walk" / "logs" / "inverse_kinematics" / "subject01" / "walk1.log"
    assert "IK (opensim solver)" in ik_log.read_text()
    grf = pd.read_csv(trial_dir / "grf.csv")
    assert (len(grf) - 1) / (grf["time_s"].iloc[-1] - grf["time_s"].iloc[0]) == pytest.approx(
        600, rel=0.01
    )  # kept at the plates' rate
    assert grf["r_force_y_n"].min() >= 0 and grf["l_force_y_n"].min() >= 0
