"""What `snakemake -n` costs grows with the study (issue: a 1000-trial study must plan in
seconds); tools/benchmark_scale.py measures it. These tests keep what planning does cheap."""

import importlib.util
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
import yaml
from conftest import REPO, shared

from retrorun.config import load_config, load_study


def test_planning_does_not_import_scipy_signal():
    """The up-front checks import the GRF module, which filters; scipy.signal (about a
    second of every dry run) is imported only where a job filters."""
    code = "import sys, retrorun.validation; print('scipy.signal' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert run.stdout.strip() == "False"


def test_planning_imports_no_scipy():
    """What common.smk imports and calls at parse time (the config's outcome names, the
    up-front checks) imports no SciPy: scipy.stats and scipy.interpolate cost about 0.8 s
    of every Snakemake process, cluster jobs too; the functions that use them import them."""
    code = (
        "import sys, retrorun.validation, retrorun.sensitivity, retrorun.groups, retrorun.jobs\n"
        "from retrorun.config import outcome_names\n"
        "outcome_names({'quadriceps': ['rect_fem']}, {})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert run.stdout.strip() == "[]"


def test_planning_the_demo_imports_no_scipy_and_no_opensim():
    """The demo's rules name the truth's files with retrorun.demo at parse time (every
    Snakemake process of the demo, cluster jobs too): its motion tables, which need
    SciPy's splines, are built on first use, not at import (0.5 s); the truth's outcome
    files are named beside its inputs, not in the module that runs OpenSim on them
    (importing OpenSim cost 0.25 s of every Snakemake start, two per SLURM job)."""
    code = (
        "import sys\n"
        "from retrorun.demo.design import trial_names\n"
        "from retrorun.demo.subjects import outcome_paths, truth_paths\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'opensim')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert run.stdout.strip() == "[]"


def benchmark_scale():
    spec = importlib.util.spec_from_file_location("benchmark_scale", REPO / "tools" / "benchmark_scale.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark


def test_the_benchmark_rerun_changes_one_key_of_the_same_study(tmp_path):
    """`benchmark_scale.py --rerun KEY=VALUE`: the study's config with that one key set."""
    benchmark = benchmark_scale()
    config = tmp_path / "config.yaml"
    config.write_text("study: s\nanalysis:\n  compare: [forward, backward]\n  weighting: volume\n")
    changed = benchmark.config_with(config, "analysis.weighting=max_isometric_force")
    assert changed.parent == tmp_path and changed != config
    study = yaml.safe_load(changed.read_text())
    assert study["study"] == "s" and study["analysis"] == {
        "compare": ["forward", "backward"],
        "weighting": "max_isometric_force",
    }
    assert yaml.safe_load(benchmark.config_with(config, "static_optimization.chunks=2").read_text())[
        "static_optimization"
    ] == {"chunks": 2}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        benchmark.config_with(config, "analysis.weighting")


def test_the_benchmark_study_is_a_valid_study(tmp_path):
    benchmark = benchmark_scale()
    config = benchmark.write_study(tmp_path, 45, shared("hamner-run"))
    study = load_study(load_config(config))
    assert len(study.trials) == 45 and len(study.subjects) == 3  # at most 20 trials per subject
    assert {t.condition for t in study.trials if t.subject == "s002"} == {"forward", "backward"}
    recording = shared("hamner-run", "subject02_running.trc").resolve()
    assert study.trial("s002", "backward07").markers.resolve() == recording


def test_a_trial_with_nothing_between_its_motion_and_analysis_is_one_job_declaring_its_manifest(tmp_path):
    """Every job costs 1-2 s of start-up and about 3 ms of planning, and every file it
    declares about a millisecond more at 1000 trials. A study without EMG, mass_com, SO
    chunks or variants runs nothing between a trial's motion and its analysis, so all of a
    trial's stages are one job (rule trial). It declares its manifest and qc.json (read
    by aggregate_qc), no file of its own trial's folder, and the study tables declare
    each trial's one manifest. Each stage still reads its files (the chain's params)."""
    from plan_inspector import planned

    config = benchmark_scale().write_study(tmp_path / "study", 4, shared("hamner-run"))
    (tmp_path / "run").mkdir()
    jobs = planned(tmp_path / "run", config, {})
    assert Counter(job["rule"] for job in jobs)["trial"] == 4
    assert not {"trial_motion", "trial_analysis"} & {job["rule"] for job in jobs}
    trial = "results/scale-4/trials/s000/forward01"
    mine = {"subject": "s000", "trial": "forward01"}
    by_rule = {job["rule"]: job for job in jobs if all(mine[k] == v for k, v in job["wildcards"].items() if k in mine)}
    assert sorted(by_rule["trial"]["output"]) == [f"{trial}/.trial.manifest", f"{trial}/qc.json"]
    assert not [f for f in by_rule["trial"]["input_files"] if f.startswith(trial)]
    # the stages run in order: events, heading, GRF, IK, ID, then RRA and the ID after it
    # (residual reduction rra, the default), then the analysis, QC last
    stages = list(by_rule["trial"]["stages"])
    assert stages.index("inverse_kinematics") < stages.index("residual_reduction_algorithm")
    assert stages.index("residual_reduction_algorithm") < stages.index("static_optimization_chunk")
    assert stages[-1] == "trial_qc"
    # SO reads RRA's kinematics, written by an earlier stage of the same job
    so_inputs = by_rule["trial"]["stages"]["static_optimization_chunk"]["input"]
    assert so_inputs["coordinates"] == f"{trial}/rra_kinematics.mot"
    tables = [f for f in by_rule["analysis_tables"]["input_files"] if "/trials/" in f]
    assert len(tables) == 4 and {f.rsplit("/", 1)[1] for f in tables} == {".trial.manifest"}
    assert by_rule["trial"]["log"] == ["results/scale-4/logs/chains/trial/s000/forward01.log"]


@pytest.mark.parametrize(
    "setting",
    [
        {"residual_reduction": {"method": "mass_com"}},
        {"static_optimization": {"chunks": 2}},
        {"sensitivity": {"filter_hz": [8]}},
    ],
    ids=["mass_com", "so-chunks", "variant"],
)
def test_a_trial_with_a_job_between_its_motion_and_analysis_is_two_chains(tmp_path, setting):
    """mass_com reads all of a subject's trials, SO's chunks are jobs of their own, and a
    variant that changes SO or the analysis reruns trial_analysis only: then a trial's
    motion and analysis are two jobs, the analysis declaring the motion's manifest."""
    from plan_inspector import planned

    config = benchmark_scale().write_study(tmp_path / "study", 2, shared("hamner-run"))
    (tmp_path / "run").mkdir()
    jobs = Counter(job["rule"] for job in planned(tmp_path / "run", config, setting))
    assert jobs["trial_motion"] == 2 and jobs["trial_analysis"] == 2 and "trial" not in jobs


def emg_study_with_a_trial_without_emg(folder):
    """The Rajagopal walking example with EMG (config/examples/rajagopal-walk-emg) and a
    second trial of the same recording without an EMG file."""
    example = REPO / "config" / "examples" / "rajagopal-walk-emg"
    folder.mkdir(parents=True)
    for name in ("config.yaml", "scale_setup.xml", "subjects.tsv"):
        (folder / name).write_text((example / name).read_text().replace("../../../../shared/data", str(shared())))
    trials = pd.read_csv(example / "trials.tsv", sep="\t", dtype=str)
    for column in ("markers", "grf", "emg"):
        trials[column] = trials[column].str.replace("../../../../shared/data", str(shared()), regex=False)
    without = trials.iloc[[0]].assign(trial="walk_without_emg", emg="")
    pd.concat([trials, without]).to_csv(folder / "trials.tsv", sep="\t", index=False)
    return folder / "config.yaml"


def test_a_trial_with_emg_is_two_jobs_its_emg_steps_stages_of_them(tmp_path):
    """With EMG and layout.one_job_per_subject false, a trial's EMG processing is the last
    stage of its trial_motion job and the normalisation of its envelopes the first of its
    trial_analysis job, the subject's divisors (emg_normalisation) between them: two jobs
    per trial, not four. A trial without EMG in the same study has neither stage; the
    divisors declare the motion manifests of the subject's trials with EMG only."""
    from plan_inspector import planned

    shared("emg", "rajagopal-walk", "electromyography.sto")
    config = emg_study_with_a_trial_without_emg(tmp_path / "study")
    (tmp_path / "run").mkdir()
    jobs = planned(tmp_path / "run", config, {"layout": {"one_job_per_subject": False}})
    counts = Counter(job["rule"] for job in jobs)
    assert counts["trial_motion"] == 2 and counts["trial_analysis"] == 2 and counts["emg_normalisation"] == 1
    assert not {"process_emg", "emg_envelopes", "trial"} & set(counts), counts
    chains = {(job["rule"], job["wildcards"]["trial"]): job for job in jobs if job["stages"]}
    folder = "results/rajagopal-walk-emg/trials/subject_walk"
    with_emg = chains["trial_motion", "walk"]["stages"]
    assert list(with_emg)[-1] == "process_emg"
    assert with_emg["process_emg"]["input"]["span"] == f"{folder}/walk/analysis_span.json"
    assert "process_emg" not in chains["trial_motion", "walk_without_emg"]["stages"]
    analysis = chains["trial_analysis", "walk"]["stages"]
    assert list(analysis)[0] == "emg_envelopes"
    assert analysis["analyse_trial"]["input"]["emg"] == f"{folder}/walk/emg_envelopes.csv"
    without = chains["trial_analysis", "walk_without_emg"]["stages"]
    assert "emg_envelopes" not in without and "emg" not in without["analyse_trial"]["input"]
    # neither EMG file is a declared output: a trial without EMG writes neither
    assert not [f for job in chains.values() for f in job["output"] if "emg_" in f]
    (divisors,) = [job for job in jobs if job["rule"] == "emg_normalisation"]
    assert [f for f in divisors["input_files"] if "/trials/" in f] == [f"{folder}/walk/.trial_motion.manifest"]
    assert f"{folder}/walk/.trial_motion.manifest" in chains["trial_analysis", "walk"]["input_files"]


def test_with_emg_a_subject_is_one_job_running_its_trials_chains(tmp_path):
    """With EMG (no variants) a subject's trials wait for each other at its normalisation:
    by default the subject is one job (SUBJECT_IN_ONE_JOB), not two per trial and one for
    the divisors. The job runs the chains those jobs ran, in order (every trial's motion,
    the divisors, every trial's analysis), each with the stages, logs and manifest of its
    own; it declares only what other jobs write (not the manifests, divisors or EMG files
    its chains write and read) and outputs what rules outside read, for every trial."""
    from plan_inspector import planned

    shared("emg", "rajagopal-walk", "electromyography.sto")
    config = emg_study_with_a_trial_without_emg(tmp_path / "study")
    (tmp_path / "run").mkdir()
    jobs = planned(tmp_path / "run", config, {})
    counts = Counter(job["rule"] for job in jobs)
    assert counts["subject_subject_walk"] == 1, counts
    assert not {"trial_motion", "trial_analysis", "emg_normalisation", "process_emg", "emg_envelopes"} & set(counts)
    (job,) = [job for job in jobs if job["rule"] == "subject_subject_walk"]
    parts = job["parts"]
    assert list(parts) == ["scaling", "motion", "normalisation", "analysis"]
    assert "scale_model" not in counts
    folder = "results/rajagopal-walk-emg/trials/subject_walk"
    names = {phase: [part["name"] for part in items] for phase, items in parts.items()}
    assert names == {
        "scaling": ["scale_model subject_walk"],
        "motion": ["trial_motion subject_walk walk", "trial_motion subject_walk walk_without_emg"],
        "normalisation": ["emg_normalisation subject_walk"],
        "analysis": ["trial_analysis subject_walk walk", "trial_analysis subject_walk walk_without_emg"],
    }
    motion, without = parts["motion"]
    assert list(motion["stages"])[-1] == "process_emg" and "process_emg" not in without["stages"]
    assert motion["manifest"] == f"{folder}/walk/.trial_motion.manifest"
    assert motion["log"] == "results/rajagopal-walk-emg/logs/chains/trial_motion/subject_walk/walk.log"
    (divisors,) = parts["normalisation"]
    # the stage reads the trial files themselves (its reuse key is their content)
    assert divisors["stages"]["emg_normalisation"]["input"]["processed"] == [f"{folder}/walk/emg_processed.csv"]
    analysis = parts["analysis"][0]["stages"]
    assert list(analysis)[0] == "emg_envelopes"
    written_divisors = divisors["stages"]["emg_normalisation"]["output"]["divisors"]
    assert analysis["emg_envelopes"]["input"]["divisors"] == written_divisors
    (scaling,) = parts["scaling"]
    assert scaling["log"] == "results/rajagopal-walk-emg/logs/chains/scale_model/subject_walk.log"
    scaled_model = "results/rajagopal-walk-emg/subjects/subject_walk/scaled_model.osim"
    assert scaling["stages"]["scale_model"]["output"]["model"] == scaled_model
    # declared: what other jobs write (the recordings, the model's files), nothing its parts write
    written = {
        path
        for items in parts.values()
        for part in items
        for stage in part["stages"].values()
        for value in stage["output"].values()
        for path in (value if isinstance(value, list) else [value])
    }
    assert not written & set(job["input_files"]), written & set(job["input_files"])
    assert scaled_model not in job["input_files"] and scaled_model in job["output"]
    assert not [f for f in job["input_files"] if f.endswith(".manifest")]
    # its outputs: the scaled model, every trial's manifests and the files rules outside the job read
    for trial in ("walk", "walk_without_emg"):
        for chain in ("trial_motion", "trial_analysis"):
            assert f"{folder}/{trial}/.{chain}.manifest" in job["output"]
        assert f"{folder}/{trial}/qc.json" in job["output"] and f"{folder}/{trial}/cycle_curves.csv" in job["output"]
    # aggregate_qc and the tables declare the files the subject's job writes
    (tables,) = [job for job in jobs if job["rule"] == "analysis_tables"]
    assert f"{folder}/walk/.trial_analysis.manifest" in tables["input_files"]


def test_a_subject_with_no_trial_left_to_run_is_scaled_by_a_job_of_its_own(tmp_path):
    """A subject's job scales it first; a subject every trial of which failed in an
    earlier run (its error records) has no such job, and rule scale_model scales it, as
    it scales every subject in the other layouts: its scaled model is still a target."""
    from plan_inspector import planned

    from retrorun.jobs import write_error_record

    for trial in ("forward_1", "backward_1"):
        write_error_record(tmp_path / "results" / "demo" / "trials" / "S02" / trial, {"stage": "inverse_kinematics"})
    jobs = planned(tmp_path, REPO / "config" / "config.yaml", {"synthetic": {"n_subjects": 2}})
    counts = Counter(job["rule"] for job in jobs)
    assert counts["subject_S01"] == 1 and "subject_S02" not in counts, counts
    (scaling,) = [job for job in jobs if job["rule"] == "scale_model"]
    assert scaling["wildcards"] == {"subject": "S02"}
    (subject_job,) = [job for job in jobs if job["rule"] == "subject_S01"]
    assert "results/demo/subjects/S01/scaled_model.osim" in subject_job["output"]


def test_the_demos_truth_and_error_budget_are_stages_of_its_trials_jobs(tmp_path):
    """Without variants, the demo's truth of a trial (OpenSim ID and SO on the true motion,
    and the EMG synthesized from it) begins the trial's motion chain, and its error budget
    ends its analysis chain: each was a job of its own, about 2 s of start-up for 3 s of
    work (the chains are parts of the subject's job: the demo has EMG). The truth's files
    stay declared outputs (the study's validation reads them), and the EMG the truth
    synthesizes is what the same chain's EMG processing reads."""
    from plan_inspector import planned

    (tmp_path / "run").mkdir()
    jobs = planned(tmp_path / "run", REPO / "config" / "config.yaml", {"synthetic": {"n_subjects": 2}})
    rules = Counter(job["rule"] for job in jobs)
    assert not {"demo_truth", "error_budget_trial", "process_emg", "emg_envelopes"} & set(rules), rules
    assert rules["subject_S01"] == rules["subject_S02"] == 1 and "trial_motion" not in rules, rules
    (job,) = [job for job in jobs if job["rule"] == "subject_S01"]
    motion = job["parts"]["motion"][0]
    assert motion["name"] == "trial_motion S01 forward_1"
    stages = list(motion["stages"])
    assert stages[:2] == ["demo_truth", "synthesize_emg"] and stages[-1] == "process_emg", stages
    synthesized = motion["stages"]["synthesize_emg"]["output"]["emg"]
    assert motion["stages"]["process_emg"]["input"]["emg"] == synthesized
    assert synthesized not in job["input_files"] and synthesized in job["output"]
    truth = "results/demo/truth/S01/forward_1_so_activations.csv"
    assert truth in job["output"]
    analysis = job["parts"]["analysis"][0]
    assert analysis["name"] == "trial_analysis S01 forward_1"
    assert list(analysis["stages"])[-1] == "error_budget_trial"
    assert analysis["stages"]["error_budget_trial"]["input"]["activations"] == truth
    assert "results/demo/validation/error_budget/S01/forward_1.csv" in job["output"]
    # the error budget reads the pipeline's contacts, IK and heading through the motion's
    # manifest, which the same job writes
    manifest = "results/demo/trials/S01/forward_1/.trial_motion.manifest"
    assert manifest in analysis["files"]["chain_manifests"] and manifest in job["output"]


@pytest.mark.parametrize("method", ["none", "rra"])
def test_a_trial_is_two_jobs(tmp_path, method):
    """Every job costs 1-2 s of start-up and about 3 ms of planning: a trial's stages up to
    ID (and RRA with the ID after it, with `rra`) are one job and its residual step, SO (in
    one chunk) and the stages after it another (scripts/run_stages.py), so a trial is 2
    jobs with residual reduction `none` (it was 12, then 3) and with `rra` (it was 4, then
    3). The demo (EMG, no variants) was 6: its truth and error budget and the trial's EMG
    processing and envelopes are stages of the two."""
    from workflow_runner import ok, planned_jobs, snakemake

    result = snakemake(
        tmp_path,
        None,
        "-n",
        "--config",
        "synthetic={n_subjects: 2}",
        f"residual_reduction={{method: {method}}}",
        # the demo's subjects are one job each by default (EMG: test_with_emg_a_subject_is_one_job...)
        "layout={one_job_per_subject: false}",
    )
    ok(result)
    jobs = planned_jobs(result)
    trials = jobs["trial_motion"]
    per_trial = {rule: n for rule, n in jobs.items() if n == trials}
    assert trials == 4 and "reduce_residuals" not in jobs
    # SO in one chunk: a stage of trial_analysis; the demo's EMG steps, truth and error
    # budget: stages of the two (EMG_IN_CHAINS, DEMO_IN_CHAINS)
    pipeline = {"trial_motion", "trial_analysis"}
    assert set(per_trial) == pipeline, per_trial
    # each chain declares one log (its stages' outcomes; each stage writes its own too:
    # tests/test_stage_reuse.py)
    for rule in pipeline:
        assert f"logs/chains/{rule}/S01/forward_1.log" in result.stdout, rule


@pytest.mark.slow
def test_the_study_steps_benchmark_runs_only_the_study_level_steps(tmp_path):
    """`benchmark_scale.py --study-steps N`: the N trials are taken as done (hard links of
    a 2-trial run's, each QC file with its own trial's name), only the study-level steps
    run, and their time and peak memory are read back."""
    benchmark = benchmark_scale()
    (row,) = benchmark.run_study_steps([REPO], tmp_path, shared("hamner-run"), 6, 5.0, tmp_path / "scale.csv")
    assert row["trials"] == 6
    for rule in benchmark.STUDY_STEPS:
        assert row[f"{rule}_s"] >= 0 and 0 < row[f"{rule}_max_rss_mb"] < 1000, rule
    results = tmp_path / "big-0" / "results" / "scale-6"
    qc = pd.read_csv(results / "qc.csv")
    assert len(qc) == 6 and len(set(zip(qc["subject"], qc["trial"]))) == 6
    # no trial ran: its outputs are still the 2-trial run's files (a rerun writes new ones)
    small = tmp_path / "small-0" / "results" / "scale-2" / "trials" / "s000"
    for trial in pd.read_csv(tmp_path / "study-6" / "trials.tsv", sep="\t").itertuples():
        linked = results / "trials" / trial.subject / trial.trial / "ik.mot"
        assert linked.stat().st_ino == (small / f"{trial.condition}01" / "ik.mot").stat().st_ino
    assert (tmp_path / "scale_study_steps.csv").is_file()
    # then a rerun of the finished study had nothing to do, and was timed
    assert row["noop_rerun_wall_s"] > 0 and row["noop_rerun_cpu_s"] > 0
