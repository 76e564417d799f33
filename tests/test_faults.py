"""Faults: one bad trial does not stop the others, and interrupted runs resume.

Real OpenSim failures on real data (gait2392 walking from ../shared/data): a copy of
the walking trial with every marker missing for half a second makes OpenSim's IK
fail for that trial only.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, shared
from workflow_runner import ok, snakemake

from retrorun.formats import read_trc, write_trc

pytestmark = pytest.mark.slow


def walking_study(tmp_path, *, dropout_trial: bool):
    data = shared("gait2392-walk")
    config = yaml.safe_load((REPO / "config/examples/gait2392-walk/config.yaml").read_text())
    for key, value in config["model"].items():
        config["model"][key] = str(data / value.rsplit("/", 1)[1])
    config["study"] = "faults"
    config["gaps"] = {"max_gap_s": 0.05, "long_gap_policy": "ignore_marker"}
    config["subjects"], config["trials"] = "subjects.tsv", "trials.tsv"
    (tmp_path / "subjects.tsv").write_text(
        "subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s\n"
        f"subject01\t72.6\t1.8034\t{data / 'subject01_static.trc'}\t1.0\t2.0\n"
    )
    rows = [f"subject01\twalk1\twalk\t{data / 'subject01_walk1.trc'}\t{data / 'subject01_walk1_grf.mot'}\t\t"]
    if dropout_trial:
        markers = read_trc(data / "subject01_walk1.trc")
        for xyz in markers.positions_m.values():
            xyz[60:90] = np.nan  # every marker lost for 0.5 s: nothing for IK to track
        write_trc(tmp_path / "walk1_dropout.trc", markers)
        rows.append(f"subject01\twalk2\twalk\t{tmp_path / 'walk1_dropout.trc'}\t{data / 'subject01_walk1_grf.mot'}\t\t")
    (tmp_path / "trials.tsv").write_text(
        "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n" + "\n".join(rows) + "\n"
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_one_failing_trial_does_not_stop_the_others(tmp_path):
    config = walking_study(tmp_path, dropout_trial=True)
    work = tmp_path / "run"
    first = snakemake(work, config, "--keep-going")
    assert first.returncode != 0  # the bad trial failed...
    trials = work / "results" / "faults" / "trials" / "subject01"
    assert (trials / "walk1" / "qc.json").is_file()  # ...and the good one finished
    record = json.loads((trials / "walk2" / "error.json").read_text())
    assert record["trial"] == "walk2" and record["subject"] == "subject01"
    assert record["rule_stage"] == "inverse_kinematics"
    assert any("walk1_dropout.trc" in path for path in record["inputs"])
    assert record["message"] and record["fix"]
    # Snakemake names the chain's log, which names the stage that failed and ends with
    # the end of that stage's own log
    # (nothing runs between its motion and its analysis: all its stages are one job, rule trial)
    chain_log = "results/faults/logs/chains/trial/subject01/walk2.log"
    assert chain_log in first.stdout + first.stderr
    said = (work / chain_log).read_text()
    ik_log = work / "results" / "faults" / "logs" / "inverse_kinematics" / "subject01" / "walk2.log"
    assert f"inverse_kinematics: FAILED, its log: {ik_log.relative_to(work)}" in said
    assert ik_log.read_text().strip().splitlines()[-1].strip() in said

    second = snakemake(work, config)  # failed trials are left out and listed, the rest aggregates
    ok(second)
    qc = pd.read_csv(work / "results" / "faults" / "qc.csv").set_index("trial")
    assert qc.loc["walk2", "status"] == "failed" and qc.loc["walk2", "failed_stage"] == "inverse_kinematics"
    assert qc.loc["walk1", "status"] == "done"


def test_interrupted_run_resumes_without_redoing_finished_work(tmp_path):
    config = walking_study(tmp_path, dropout_trial=False)
    work = tmp_path / "run"
    work.mkdir()
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        "1",
        "--configfile",
        str(config),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    trial = work / "results" / "faults" / "trials" / "subject01" / "walk1"
    ik = trial / "ik.mot"
    # SO runs after IK and ID in the trial's job (rule trial: nothing runs between its
    # motion and its analysis) and reads their outputs, so once its log exists IK has
    # finished: killing now interrupts the job after IK, never IK itself.
    so_logs = work / "results" / "faults" / "logs" / "static_optimization_chunk" / "subject01" / "walk1"
    deadline = time.time() + 300
    while not any(so_logs.glob("*.log")) and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # as a power cut or a killed cluster job would
    process.wait()
    assert any(so_logs.glob("*.log")), "static optimization never started before the kill"
    assert ik.is_file()
    assert not (work / "results" / "faults" / "qc.csv").exists(), "the run finished before it could be interrupted"
    stamp = ik.stat().st_mtime_ns
    leftovers = [
        p
        for p in (work / "results").rglob("*")
        if p.is_file() and p.suffix in (".csv", ".sto", ".mot") and p.stat().st_size == 0
    ]
    assert not leftovers, f"empty half-written outputs: {leftovers}"

    # A killed Snakemake leaves its lock behind and the killed job marked incomplete:
    # --unlock, then --rerun-incomplete redoes only that job (README: "Resuming").
    ok(snakemake(work, config, "--unlock"))
    resumed = snakemake(work, config, "--rerun-incomplete")
    ok(resumed)
    # finished work was not redone: the trial's job ran again, and took back IK's outputs
    # (retrorun/stage_reuse.py) instead of solving IK again
    assert ik.stat().st_mtime_ns == stamp
    said = resumed.stdout + resumed.stderr
    assert "rule scale_model" not in said
    chain_log = (work / "results" / "faults" / "logs" / "chains" / "trial" / "subject01" / "walk1.log").read_text()
    assert "inverse_kinematics: reused" in chain_log and "static_optimization_chunk: ran" in chain_log, chain_log
    assert (work / "results" / "faults" / "qc.csv").is_file()
