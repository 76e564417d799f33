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
