"""`retrorun new-study`: a study folder from a lab's export, then `snakemake -n` on it.

Fast tests classify small TRC/MOT files written here; the C3D test reads the walking
C3Ds of ../shared/data; the slow ones scaffold a 3-subject export of the Hamner et al.
(2010) recordings (copied under new names) and plan it with `snakemake -n` from the
root of a clone, as the README says, after filling only the blanks the command listed.
"""

import os
import shutil
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, shared
from workflow_runner import clone_repository, ok, planned_jobs, run_in

from retrorun import scaffold
from retrorun.cli import main
from retrorun.formats import MarkerTable, write_storage, write_trc

CONDITIONS = ["fwd|forward=forward", "bwd|back=backward"]


def small_trc(path, *, rate_hz=100.0, seconds=1.0):
    time = np.arange(int(rate_hz * seconds)) / rate_hz
    markers = {name: np.column_stack([time, np.full_like(time, 0.9), np.zeros_like(time)]) for name in ("A", "B")}
    write_trc(path, MarkerTable(time, markers, rate_hz))


def small_mot(path, *, peak_n=1500.0, rate_hz=1000.0, seconds=1.0):
    time = np.arange(int(rate_hz * seconds)) / rate_hz
    vertical = np.clip(peak_n * np.sin(2 * np.pi * 1.4 * time), 0, None)
    table = pd.DataFrame({"time": time, "ground_force_vx": 0.0, "ground_force_vy": vertical, "ground_force_vz": 0.0})
    write_storage(path, table, in_degrees=False)


def flat_export(folder):
    """Flat, mixed-case names: 3 subjects, a static and 2 conditions x 2 trials each."""
    folder.mkdir()
    statics = {"S01": "s01_Static.TRC", "S02": "S02_STANDING.trc", "S03": "S03_cal.trc"}
    for subject, static in statics.items():
        small_trc(folder / static)
        for condition in ("FWD", "bwd"):
            for k in (1, 2):
                small_trc(folder / f"{subject.lower() if subject == 'S02' else subject}_{condition}_{k}.trc")
                small_mot(folder / f"{subject}_{condition}_{k}{'_GRF' if k == 1 else ''}.MOT")
    return folder


def test_flat_export_mixed_case(tmp_path):
    export = flat_export(tmp_path / "export")
    # files it must list, not guess
    small_trc(export / "S03_jog_1.trc")  # no condition
    small_trc(export / "S03_fwd_back_1.trc")  # two conditions
    small_mot(export / "S03_fwd_back_1_grf.mot")
    small_trc(export / "pilot.trc")  # no subject
    small_trc(export / "S01_fwd_9.trc")  # no GRF
    small_mot(export / "S02_fwd_1_ik.mot")  # a .mot of no marker file
    (export / "notes.txt").write_text("lab notes")
    conditions = dict(scaffold.parse_condition(c) for c in CONDITIONS)
    result = scaffold.new_study(export, tmp_path / "study", conditions=conditions)

    subjects = pd.read_csv(tmp_path / "study" / "subjects.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(subjects["subject"]) == ["S01", "S02", "S03"]
    assert list(subjects["mass_kg"]) == ["TODO"] * 3
    assert list(subjects["static_markers"]) == [
        "../export/s01_Static.TRC",
        "../export/S02_STANDING.trc",
        "../export/S03_cal.trc",
    ]
    trials = pd.read_csv(tmp_path / "study" / "trials.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert len(trials) == 12
    assert trials.groupby(["subject", "condition"]).size().eq(2).all()
    s02 = trials[(trials["subject"] == "S02") & (trials["condition"] == "forward")]
    assert list(s02["markers"]) == ["../export/s02_FWD_1.trc", "../export/s02_FWD_2.trc"]
    assert list(s02["grf"]) == ["../export/S02_FWD_1_GRF.MOT", "../export/S02_FWD_2.MOT"]

    listed = {path.name: why for path, why in result.scan.unclassified}
    assert set(listed) == {
        "S03_jog_1.trc",
        "S03_fwd_back_1.trc",
        "pilot.trc",
        "S01_fwd_9.trc",
        "S02_fwd_1_ik.mot",
        "notes.txt",
    }
    assert "no --condition pattern" in listed["S03_jog_1.trc"]
    assert "more than one condition" in listed["S03_fwd_back_1.trc"]
    assert "no subject" in listed["pilot.trc"]
    assert "no GRF" in listed["S01_fwd_9.trc"]
    assert "subject 's02' in file names taken as 'S02' (ids differ in case only)" in result.scan.notes
    text = scaffold.summary(result)
    for name in listed:
        assert name in text
    assert "mass_kg of S01, S02, S03" in text
    assert "model.osim, model.scale_setup, model.ik_tasks, model.external_loads" in text
    # the validation snakemake -n runs: here it stops at the model files the user has to give
    assert any("model.osim" in line and "does not exist" in line for line in result.problems)


def test_subject_folders_and_a_static_found_by_no_contact(tmp_path):
    export = tmp_path / "export"
    for subject in ("P1", "P2", "P3"):
        (export / subject).mkdir(parents=True)
        small_trc(export / subject / "neutral.trc")
        small_mot(export / subject / "neutral_grf.mot", peak_n=5.0)  # plate noise only
        for condition in ("Forward", "Backward"):
            small_trc(export / subject / f"{condition}01.trc")
            small_mot(export / subject / f"{condition}01.mot")
    result = scaffold.new_study(export, tmp_path / "study")  # default conditions
    assert [info["static"].name for info in result.scan.subjects.values()] == ["neutral.trc"] * 3
    assert any("no plate contact" in note for note in result.scan.notes)
    trials = pd.DataFrame(result.scan.trials)
    assert sorted(trials["trial"].unique()) == ["Backward01", "Forward01"]
    assert sorted(trials["condition"].unique()) == ["backward", "forward"]
    assert not result.scan.unclassified


def test_refuses_to_overwrite_and_bad_condition(tmp_path):
    export = flat_export(tmp_path / "export")
    assert main(["new-study", str(export), "--out", str(tmp_path / "s")]) == 0
    assert main(["new-study", str(export), "--out", str(tmp_path / "s")]) == 2
    assert main(["new-study", str(export), "--out", str(tmp_path / "s"), "--force"]) == 0
    with pytest.raises(ValueError, match="PATTERN=LABEL"):
        scaffold.parse_condition("forward")


def test_console_entry_point_is_declared():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["retrorun"].partition(":")
    assert (module, function) == ("retrorun.cli", "main")


def test_c3d_export(tmp_path):
    """The walking C3Ds: without a matching condition they are listed, not guessed; in a
    subject folder with a 'walk' condition they become trials, and the body mass written
    in PROCESSING:Bodymass (by ezc3d, as Vicon writes it) is read."""
    import ezc3d

    source = shared("c3d")
    flat = tmp_path / "flat"
    shutil.copytree(source, flat)
    result = scaffold.new_study(flat, tmp_path / "study1")
    assert sorted(p.name for p, _ in result.scan.unclassified) == ["walking2.c3d", "walking5.c3d"]
    assert all("no --condition pattern" in why for _, why in result.scan.unclassified)

    folder = tmp_path / "export" / "P01"
    folder.mkdir(parents=True)
    c3d = ezc3d.c3d(str(source / "walking2.c3d"))
    c3d.add_parameter("PROCESSING", "Bodymass", [71.5])
    c3d.add_parameter("PROCESSING", "Height", [1780.0])
    c3d.write(str(folder / "walking2.c3d"))
    shutil.copy(source / "walking5.c3d", folder)
    quiet = ezc3d.c3d(str(source / "walking5.c3d"))  # the plates unloaded: a standing trial's record
    quiet["data"]["analogs"][:] = 0.0
    quiet.write(str(folder / "P01_trial3.c3d"))
    result = scaffold.new_study(tmp_path / "export", tmp_path / "study2", conditions={"walk": "walk"})
    assert [(t["subject"], t["trial"], t["condition"]) for t in result.scan.trials] == [
        ("P01", "walking2", "walk"),
        ("P01", "walking5", "walk"),
    ]
    subjects = pd.read_csv(tmp_path / "study2" / "subjects.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert subjects.loc[0, ["mass_kg", "height_m", "static_markers"]].tolist() == [
        "71.5",
        "1.78",
        "../export/P01/P01_trial3.c3d",
    ]
    assert any("P01_trial3.c3d: taken as a static trial" in note for note in result.scan.notes)
    trials = pd.read_csv(tmp_path / "study2" / "trials.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(trials["grf"]) == ["", ""]  # a C3D holds its plates
    text = scaffold.summary(result)
    assert "PROCESSING:Bodymass" in text
    assert "analysis.compare needs two conditions" in text


# ---------------------------------------------------------------- the acceptance test


def hamner_export(folder, *, per_subject_folder: bool):
    """3 subjects x (static + forward and backward x 2 trials), TRC + MOT: the Hamner
    recordings under lab-style names (the backward ones are the same recordings: a dry
    run plans, it does not judge the running direction)."""
    data = shared("hamner-run")
    for k, subject in enumerate(("S01", "s02", "S03")):
        where = folder / subject if per_subject_folder else folder
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / "subject02_static.trc", where / f"{subject}_Static.trc")
        for condition in ("FWD", "bwd"):
            for trial in (1, 2):
                name = f"{subject}_{condition}_0{trial}"
                shutil.copy(data / "subject02_running.trc", where / f"{name}.trc")
                shutil.copy(data / "subject02_running_grf.mot", where / f"{name}{'_grf' if k % 2 else ''}.mot")
    return data


def fill_blanks(study):
    """Only what the command listed as blank: the body masses."""
    path = study / "subjects.tsv"
    subjects = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    assert list(subjects["mass_kg"]) == ["TODO"] * 3
    subjects["mass_kg"] = ["65.9", "70.2", "58.4"]
    subjects.to_csv(path, sep="\t", index=False)


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return clone_repository(tmp_path_factory.mktemp("user"))


@pytest.mark.slow
@pytest.mark.parametrize("per_subject_folder", [True, False], ids=["subject-folders", "flat"])
def test_scaffolded_study_is_planned_by_snakemake(tmp_path, clone, per_subject_folder):
    data = hamner_export(tmp_path / "export", per_subject_folder=per_subject_folder)
    study = tmp_path / "my-study"
    # the console script when this environment has it (pip install -e . of this version), else its module
    program = [shutil.which("retrorun")] if shutil.which("retrorun") else [sys.executable, "-m", "retrorun.cli"]
    command = [*program, "new-study", str(tmp_path / "export"), "--out", str(study)]
    for condition in CONDITIONS:
        command += ["--condition", condition]
    command += ["--model", str(data / "FullBodyModel_Hamner2010_v2_0.osim"), "--scale-setup"]
    command += [str(data / "Setup_Scale.xml"), "--ik-tasks", str(data / "Tasks_IK.xml")]
    command += ["--external-loads", str(data / "External_Loads.xml")]
    printed = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(clone))
    )
    assert printed.returncode == 0, printed.stderr
    out = printed.stdout
    assert "3 subject(s), 12 trial(s) (6 forward, 6 backward)" in out or "(6 backward, 6 forward)" in out, out
    assert "mass_kg of S01, s02, S03" in out and "Files not used" not in out, out
    assert "finds no problem" in out, out
    config = yaml.safe_load((study / "config.yaml").read_text())
    assert config["analysis"]["compare"] == ["forward", "backward"]

    fill_blanks(study)
    result = run_in(clone, clone, "-n", "--configfile", str(study / "config.yaml"))
    ok(result)
    jobs = planned_jobs(result)
    assert jobs.get("scale_model") == 3 and jobs.get("trial") == 12, jobs
    assert "results/my-study/qc.csv" in result.stdout


def test_hidden_files_skipped_but_not_an_export_below_a_hidden_folder(tmp_path):
    export = flat_export(tmp_path / ".lab")
    small_trc(export / ".S01_fwd_3.trc")  # an editor's or sync tool's hidden copy
    result = scaffold.scan_export(export, conditions=dict(scaffold.parse_condition(c) for c in CONDITIONS))
    assert len(result.trials) == 12 and not result.unclassified
