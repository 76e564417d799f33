"""Every job records its wall time, CPU time and peak memory (issue 23: peak memory per job
recorded), in a benchmark file tools/stage_times.py reads: Snakemake's `benchmark:` for a
rule, one file per stage for a chain of stages (scripts/run_stages.py writes them). A
study-level job without one hid that the QC overview of a 1000-trial study took 2 GB."""

import re

from workflow_runner import ok, snakemake

# the target rule does nothing
NO_WORK = {"all"}


def dry_run_jobs(output: str) -> list[dict]:
    """The jobs of a dry run's printout: rule name, log files, benchmark file."""
    jobs = []
    for line in output.splitlines():
        if rule := re.match(r"^\s*(?:local)?rule (\w+):$", line):
            jobs.append({"rule": rule.group(1), "log": [], "benchmark": None})
        elif jobs and (field := re.match(r"^\s*(log|benchmark): (.+)$", line)):
            values = [v.strip() for v in field.group(2).split(", ")]
            jobs[-1][field.group(1)] = values if field.group(1) == "log" else values[0]
    return jobs


def test_every_job_of_the_demo_and_its_variants_records_time_and_memory(tmp_path):
    # a sensitivity variant: its copies of the rules record their own, in the variant's folder
    result = snakemake(tmp_path, None, "-n", "--config", "sensitivity={static_optimization.activation_exponent: [3]}")
    ok(result)
    jobs = dry_run_jobs(result.stdout + result.stderr)
    assert {"trial_motion", "trial_analysis", "analysis_figures", "sensitivity_analysis_tables"} <= {
        j["rule"] for j in jobs
    }
    missing = []
    for job in jobs:
        if job["rule"] in NO_WORK:
            continue
        stage_logs = [path for path in job["log"] if path.endswith(".log")]
        stage_benchmarks = [path for path in job["log"] if "/benchmarks/" in path]
        if job["benchmark"] is None and not (stage_benchmarks and len(stage_benchmarks) == len(stage_logs)):
            missing.append(job["rule"])
    assert not missing, f"jobs without a benchmark file: {sorted(set(missing))}"
    benchmarks = [j["benchmark"] for j in jobs if j["benchmark"]] + [
        path for j in jobs for path in j["log"] if "/benchmarks/" in path
    ]
    assert len(benchmarks) == len(set(benchmarks)), "two jobs write one benchmark file"
