"""The jobs Snakemake plans, with what each declares and, for a chain of stages
(scripts/run_stages.py), what each stage reads and writes: a dry run prints a job's
declared files but not its params, where a chain's stages find the files other chains
wrote (their manifests are what the job declares).

    python tests/plan_inspector.py WORKDIR CONFIGFILE CONFIG_JSON  -> JSON list of jobs

Run in a subprocess (Snakemake's API keeps state per process): `planned(...)`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrorun.chains import stage_inputs  # noqa: E402


def planned(workdir: Path, configfile: Path, config: dict) -> list[dict]:
    """Every planned job: rule, wildcards, input {name: files}, output, log, benchmark
    and, for a chain, stages {stage: {"input": {name: file or files}, "output": {name:
    file}, "log": file, "benchmark": file}}; for a subject's job, parts {phase: [part]},
    each part with the stages of its chain."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, __file__, str(workdir), str(configfile), json.dumps(config)]
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir, timeout=600)
    if run.returncode != 0:
        raise AssertionError(f"planning failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}")
    return json.loads(run.stdout.splitlines()[-1])


def chain_stages(chain: dict, declared: dict) -> dict:
    """What each stage of a chain reads, as scripts/run_stages.py hands it over
    (retrorun.chains.stage_inputs), and what it writes."""
    return {
        stage: {"input": stage_inputs(chain, declared, stage)} | chain["written"][stage] for stage in chain["stages"]
    }


def main(workdir: str, configfile: str, config: str) -> None:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(configfile)], config=json.loads(config)),
            snakefile=REPO / "Snakefile",
            workdir=Path(workdir),
        )
        workflow_api.dag(DAGSettings())
        workflow = workflow_api._workflow
        workflow._prepare_dag(forceall=False, ignore_incomplete=False, lock_warn_only=True)
        workflow._build_dag()
        jobs = []
        for job in workflow.dag.jobs:
            declared = {}
            for name, value in job.input._allitems():
                if name is not None:
                    declared[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
            chain = job.params.get("chain") if hasattr(job.params, "get") else None
            parts = job.params.get("parts") if hasattr(job.params, "get") else None
            jobs.append(
                {
                    "rule": job.rule.name,
                    "wildcards": dict(job.wildcards_dict),
                    "input": declared,
                    "input_files": [str(f) for f in job.input],
                    "output": [str(f) for f in job.output],
                    "log": [str(f) for f in job.log],
                    "benchmark": str(job.benchmark) if job.benchmark else None,
                    "stages": chain_stages(chain, declared) if isinstance(chain, dict) else None,
                    # a subject's job (scripts/run_subject.py): {phase: [{name, stages, ...}]}
                    "parts": {
                        phase: [part | {"stages": chain_stages(part["chain"], part["files"])} for part in items]
                        for phase, items in parts.items()
                    }
                    if isinstance(parts, dict)
                    else None,
                }
            )
    print(json.dumps(jobs))


if __name__ == "__main__":
    main(*sys.argv[1:4])
