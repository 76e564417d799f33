"""Does a refactor change which jobs the workflow plans? Compares the jobs `snakemake -n`
plans in two checkouts of retrorun on the same study: rule, input, output, wildcards,
log and benchmark of each (resources left out; the order of rule all's targets too).

    python tools/compare_plans.py OLD_REPO NEW_REPO [-- snakemake arguments]

e.g. `git worktree add /tmp/old main` then
`python tools/compare_plans.py /tmp/old . -- --configfile config/examples/gait2392-walk/config.yaml`.
Each checkout plans with its own code first on PYTHONPATH, in its own temporary working
directory; --configfile paths are taken relative to each checkout (the demo: its model
must have been built in both, models/retrorun_planar/generated/). Exit status 1 when the
plans differ. Whether the numbers are the same: run both and compare the results folders
with tools/compare_study_results.py.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

JOB_FIELDS = ("input", "output", "wildcards", "log", "benchmark")


def dry_run(repo: Path, workdir: Path, args: list[str]) -> subprocess.CompletedProcess:
    args = [str(repo / a) if previous == "--configfile" else a for previous, a in zip([""] + args, args)]
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(repo / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        "-n",
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(repo))
    return subprocess.run(command, capture_output=True, text=True, env=env)


def planned_jobs(repo: Path, workdir: Path, args: list[str]) -> list[str]:
    """One line per planned job, sorted, with the checkout's own path replaced."""
    run = dry_run(repo, workdir, args)
    if run.returncode != 0:
        raise SystemExit(f"snakemake -n failed in {repo}:\n{(run.stdout + run.stderr)[-3000:]}")
    jobs, job = [], None
    for line in run.stdout.splitlines() + run.stderr.splitlines():
        rule = re.match(r"^\s*(?:local)?rule (\S+):", line)  # indented in a group job
        if rule:
            job = {"rule": rule.group(1)}
            jobs.append(job)
            continue
        field = re.match(r"^\s+(\w+): (.*)$", line)
        if job is not None and field and field.group(1) in JOB_FIELDS:
            value = field.group(2)
            if field.group(1) == "input" and job["rule"] == "all":
                value = ", ".join(sorted(value.split(", ")))  # the targets' order is not behaviour
            job[field.group(1)] = value.replace(str(repo), "<repo>").replace(str(workdir), "<work>")
    return sorted(" | ".join([job["rule"]] + [job.get(k, "") for k in JOB_FIELDS]) for job in jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    options = parser.parse_args(argv[:split])
    options.snakemake_args = argv[split + 1 :]
    repos = [options.old.resolve(), options.new.resolve()]
    differs = False
    with tempfile.TemporaryDirectory() as scratch:
        work = [Path(scratch, "old"), Path(scratch, "new")]
        plans = [planned_jobs(repo, w, options.snakemake_args) for repo, w in zip(repos, work)]
        if plans[0] == plans[1]:
            print(f"same plan: {len(plans[0])} jobs")
        else:
            differs = True
            for line in sorted(set(plans[0]) ^ set(plans[1])):
                print(("old only: " if line in plans[0] else "new only: ") + line)
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
