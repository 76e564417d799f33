"""Every job records its wall time, CPU time and peak memory (issue 23: peak memory per job
recorded), in a benchmark file tools/stage_times.py reads: Snakemake's `benchmark:` for a
rule, one file per stage for a chain of stages (scripts/run_stages.py writes them). A
study-level job without one hid that the QC overview of a 1000-trial study took 2 GB."""

from conftest import REPO
from plan_inspector import planned

# the target rule does nothing
NO_WORK = {"all"}


def test_every_job_of_the_demo_and_its_variants_records_time_and_memory(tmp_path):
    # a sensitivity variant: its copies of the rules record their own, in the variant's folder
    variant = {"sensitivity": {"static_optimization.activation_exponent": [3]}}
    jobs = planned(tmp_path, REPO / "config" / "config.yaml", variant)
    assert {"trial_motion", "trial_analysis", "analysis_figures", "sensitivity_analysis_tables"} <= {
        j["rule"] for j in jobs
    }
    missing = []
    benchmarks = []
    for job in jobs:
        if job["rule"] in NO_WORK:
            continue
        if job["stages"]:  # a chain: each stage its own (in the chain's params)
            stages = job["stages"].values()
            missing += [job["rule"] for stage in stages if not stage["benchmark"]]
            benchmarks += [stage["benchmark"] for stage in stages]
        elif job["benchmark"] is None:
            missing.append(job["rule"])
        else:
            benchmarks.append(job["benchmark"])
    assert not missing, f"jobs without a benchmark file: {sorted(set(missing))}"
    assert len(benchmarks) == len(set(benchmarks)), "two jobs write one benchmark file"
    variant_chains = [j for j in jobs if j["rule"] == "sensitivity_trial_analysis"]
    assert variant_chains and all(
        "/sensitivity/" in stage["benchmark"] for j in variant_chains for stage in j["stages"].values()
    )


def test_every_stage_of_a_subjects_job_records_time_and_memory(tmp_path):
    """The demo without variants: a subject is one job (EMG, SUBJECT_IN_ONE_JOB); each stage
    of each of its chains writes the benchmark file its own job would have."""
    jobs = planned(tmp_path, REPO / "config" / "config.yaml", {"synthetic": {"n_subjects": 2}})
    subjects = [job for job in jobs if job["parts"]]
    assert sorted(job["rule"] for job in subjects) == ["subject_S01", "subject_S02"]
    benchmarks = [
        stage["benchmark"]
        for job in subjects
        for parts in job["parts"].values()
        for part in parts
        for stage in part["stages"].values()
    ]
    assert all(benchmarks) and len(benchmarks) == len(set(benchmarks))
    assert "results/demo/benchmarks/emg_normalisation/S01.tsv" in benchmarks
    assert "results/demo/benchmarks/inverse_kinematics/S02/backward_1.tsv" in benchmarks
