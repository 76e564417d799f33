"""Workflow plumbing said once: jobs.job takes everything from the job's `snakemake`
object, the error record has one name, writer and reader, the rule files compose no
results paths and no memory lambdas themselves. (`snakemake --lint`: tools/lint_workflow.py.)"""

import re
from types import SimpleNamespace

import pytest
import yaml
from conftest import REPO
from snakemake.iocontainers import Params, Wildcards
from snakemake.resources import Resource  # evaluates a profile's expression as Snakemake does per job

from retrorun import jobs
from retrorun.errors import KinematicsError

RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))


def job_object(tmp_path, rule, wildcards, trial_dir=None):
    """What Snakemake hands a script: the rule's name, wildcards, params, input and log."""
    params = {"trial_dir": str(trial_dir)} if trial_dir else {}
    return SimpleNamespace(
        rule=rule,
        wildcards=Wildcards(fromdict=wildcards),
        params=Params(fromdict=params),
        input=[str(tmp_path / "in.trc")],
        log=[str(tmp_path / "logs" / f"{rule}.log")],
    )


def test_job_records_a_failure_from_the_snakemake_object(tmp_path):
    folder = tmp_path / "trials" / "s1" / "t1"
    with pytest.raises(RuntimeError):
        with jobs.job(job_object(tmp_path, "inverse_kinematics", {"subject": "s1", "trial": "t1"}, folder)):
            raise RuntimeError("IK diverged")
    record = jobs.read_error_record(jobs.error_record_path(folder))
    assert (record["rule_stage"], record["stage"], record["subject"], record["trial"]) == (
        "inverse_kinematics",
        "inverse_kinematics",
        "s1",
        "t1",
    )
    assert record["inputs"] == [str(tmp_path / "in.trc")] and "IK diverged" in record["message"]
    assert "rule inverse_kinematics, subject s1, trial t1" in (tmp_path / "logs" / "inverse_kinematics.log").read_text()

    # another rule's success leaves the record; the same rule's success removes it
    with jobs.job(job_object(tmp_path, "prepare_grf", {"subject": "s1", "trial": "t1"}, folder)):
        pass
    assert jobs.error_record_path(folder).is_file()
    with jobs.job(job_object(tmp_path, "inverse_kinematics", {"subject": "s1", "trial": "t1"}, folder)):
        pass
    assert not jobs.error_record_path(folder).exists()


def test_a_stage_error_keeps_its_stage_and_a_rule_without_trial_folder_records_nothing(tmp_path):
    folder = tmp_path / "trials" / "s1" / "t1"
    with pytest.raises(KinematicsError):
        with jobs.job(job_object(tmp_path, "inverse_kinematics", {"subject": "s1", "trial": "t1"}, folder)):
            raise KinematicsError("markers missing", subject="s1", trial="t1", fix="fill the gaps")
    record = jobs.read_error_record(jobs.error_record_path(folder))
    assert record["stage"] == KinematicsError.stage and record["fix"] == "fill the gaps"

    with pytest.raises(RuntimeError):
        with jobs.job(job_object(tmp_path, "trial_qc", {"subject": "s2", "trial": "t2"})):
            raise RuntimeError("no trial folder given")
    assert not list(tmp_path.glob("**/s2/**/*.json"))


def test_rule_files_compose_no_results_paths_and_no_memory_lambdas():
    for path in RULE_FILES:
        if path.name == "common.smk":
            continue
        text = path.read_text()
        assert "STUDY_DIR}/" not in text, f"{path.name}: use the path helpers of common.smk"
        assert "mem_mb" not in text, f"{path.name}: memory is the profile's default-resources"
        assert not re.search(r"^def ", text, flags=re.M), f"{path.name}: input functions belong in common.smk"
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert "_EXTRA_FINAL_OUTPUTS" not in common and "get_final_output()" in (REPO / "Snakefile").read_text()


def test_error_record_name_is_said_once_and_every_script_runs_in_job():
    sources = [
        REPO / "Snakefile",
        *RULE_FILES,
        *(REPO / "scripts").glob("*.py"),
        *(REPO / "retrorun").rglob("*.py"),
        *(REPO / "workflow" / "profiles").rglob("*.yaml"),
    ]
    said = [str(p.relative_to(REPO)) for p in sources for line in p.read_text().splitlines() if "error.json" in line]
    assert said == ["retrorun/jobs.py"], said
    # run_stages.py and run_subject.py run other scripts, each of which records its own failure
    runners = {REPO / "scripts" / "run_stages.py", REPO / "scripts" / "run_subject.py"}
    for script in sorted(set((REPO / "scripts").glob("*.py")) - runners):
        calls = re.findall(r"jobs\.job\([^)]*\)", script.read_text())
        assert calls == ["jobs.job(snakemake)"], f"{script.name}: {calls}"


def test_slurm_profile_defaults_double_on_the_retry():
    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    defaults = profile["default-resources"]
    for attempt, expected in ((1, {"mem_mb": 1000, "runtime": 5}), (2, {"mem_mb": 2000, "runtime": 10})):
        got = {
            name: Resource.cli_evaluator(
                name, str(defaults[name]), wildcards=None, input=None, attempt=attempt, async_run=None
            )
            for name in expected
        }
        assert got == expected
