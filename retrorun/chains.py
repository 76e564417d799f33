"""How a chain of stages (workflow/rules/common.smk, Stage; run by scripts/run_stages.py)
hands each stage its inputs. The chain's job declares each file once, under the name of
the first stage that reads it; the chain's params say where each other input comes from:
an earlier stage's output (`links`), another stage's declared input (`shared`), or a file
another chain wrote, listed in that chain's manifest (`via_manifest`). Keys are
`<stage>__<input name>`.

run_chain runs one chain's stages in this process (scripts/run_stages.py: a trial's
chain job; scripts/run_subject.py: every chain of a subject)."""

from __future__ import annotations

import json
import os
import resource
import runpy
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

from . import jobs, stage_reuse

FAILED_LOG_LINES = 30


def stage_inputs(chain: Mapping, declared: Mapping, stage: str) -> dict:
    """{input name: file or files} that ``stage`` reads, given the job's declared inputs
    by name (``declared``) and the chain params (``chain``)."""
    prefix = f"{stage}__"
    outputs = {
        f"{name}__{key}": path for name in chain["stages"] for key, path in chain["written"][name]["output"].items()
    }

    def own(items: Mapping) -> dict:
        return {key[len(prefix) :]: value for key, value in items.items() if key.startswith(prefix)}

    def looked_up(names: Mapping, files: Mapping) -> dict:
        return {
            key: [files[other] for other in others] if isinstance(others, list) else files[others]
            for key, others in own(names).items()
        }

    return (
        own(declared)
        | looked_up(chain["links"], outputs)
        | looked_up(chain["shared"], declared)
        | own(chain["via_manifest"])
    )


def write_benchmark(path, started: float, used) -> None:
    """The stage's wall and CPU seconds and the process's peak memory so far, in the
    columns of Snakemake's benchmark files (tools/stage_times.py reads them)."""
    now = resource.getrusage(resource.RUSAGE_SELF)
    wall_s = time.time() - started
    cpu_s = (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)
    row = {"s": f"{wall_s:.2f}", "h:m:s": time.strftime("%H:%M:%S", time.gmtime(wall_s))}
    row |= {"max_rss": f"{now.ru_maxrss / 1024:.2f}", "cpu_time": f"{cpu_s:.2f}"}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\t".join(row) + "\n" + "\t".join(row.values()) + "\n")


def named(items: Mapping):
    """Files by name, flat as Snakemake gives a job's inputs (a named list spans several)."""
    from snakemake.iocontainers import Namedlist

    files = Namedlist()
    for key, value in items.items():
        start = len(files)
        files.extend(value if isinstance(value, (list, tuple)) else [value])
        files._set_name(key, start, len(files) if isinstance(value, (list, tuple)) else None)
    return files


def newest_mtime(paths) -> float:
    return max((Path(p).stat().st_mtime for p in paths if Path(p).exists()), default=0.0)


def log_tail(path) -> str:
    lines = Path(path).read_text(errors="replace").splitlines() if Path(path).is_file() else []
    return "\n".join(f"    {line}" for line in lines[-FAILED_LOG_LINES:])


def run_chain(
    chain: Mapping,
    declared: Mapping,
    *,
    wildcards,
    threads: int,
    resources,
    config: Mapping,
    scriptdir: str,
    chain_log: str | os.PathLike,
    manifest: str | os.PathLike | None,
) -> None:
    """Run each stage of ``chain`` (chain params, workflow/rules/common.smk) in this
    process, with the inputs, outputs, params, log and benchmark of its own, as if it were
    its own job; ``declared``: the chain's declared input files by name. A stage whose
    key is that of its last run gets that run's outputs back (retrorun/stage_reuse.py).
    A stage that fails stops the chain: the chain's log names it and ends with the end of
    its log. ``manifest``: where to write what each stage read and wrote, dated as the
    newest file written, so a job reading it reruns when an output changed, not when
    every stage was reused."""
    from snakemake.iocontainers import Namedlist

    written = chain["written"]
    # a reused stage's outputs are made no older than the chain's inputs
    inputs_mtime = newest_mtime(named(declared))
    read_and_written = {}
    Path(chain_log).parent.mkdir(parents=True, exist_ok=True)
    with open(chain_log, "w") as summary:
        for stage in chain["stages"]:
            outputs = written[stage]["output"]
            job = SimpleNamespace(
                rule=stage,
                input=named(stage_inputs(chain, declared, stage)),
                output=named(outputs),
                params=Namedlist(fromdict=chain["params"][stage]),
                log=Namedlist([written[stage]["log"]]),
                wildcards=wildcards,
                threads=threads,
                resources=resources,
                config=config,
                scriptdir=scriptdir,
            )
            for path in [*job.output, job.log[0]]:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            started, used = time.time(), resource.getrusage(resource.RUSAGE_SELF)
            script = Path(scriptdir) / f"{chain['scripts'][stage]}.py"
            key = stage_reuse.stage_key(
                stage=stage,
                script=script,
                params=chain["params"][stage],
                inputs=dict(job.input.items()),
                outputs=outputs,
                wildcards=dict(job.wildcards.items()),
                threads=job.threads,
            )
            read_and_written[stage] = {"input": dict(job.input.items()), "output": outputs}
            if stage_reuse.restore(key, outputs, job.log[0], not_before=inputs_mtime):
                outcome = "reused"
                if job.params.get("trial_dir"):
                    jobs.clear_error_record(job.params.trial_dir, stage)
            else:
                outcome = "ran"
                # a new file for every output: the kept ones are hard links of the last run's
                for path in job.output:
                    Path(path).unlink(missing_ok=True)
                try:
                    runpy.run_path(str(script), init_globals={"snakemake": job}, run_name="__main__")
                except BaseException:
                    summary.write(f"{stage}: FAILED, its log: {job.log[0]}\n{log_tail(job.log[0])}\n")
                    raise
                stage_reuse.keep(key, outputs, job.log[0])
            write_benchmark(written[stage]["benchmark"], started, used)
            summary.write(f"{stage}: {outcome} in {time.time() - started:.1f} s, its log: {job.log[0]}\n")
            summary.flush()
    if manifest is None:
        return
    manifest = Path(manifest)
    manifest.write_text(json.dumps(read_and_written, indent=1) + "\n")
    produced = (path for stage in read_and_written.values() for path in named(stage["output"]))
    newest = max(newest_mtime(produced), inputs_mtime)
    os.utime(manifest, (newest, newest))


def run_part(part: Mapping, common: Mapping) -> dict:
    """One chain of a subject's job (common.smk, subject_job_parts) run as its own job
    would run it: {"name", "failed": None or the error, "log"}. A failure is returned, not
    raised, so that the job's other trials run on."""
    from snakemake.iocontainers import Wildcards

    try:
        run_chain(
            part["chain"],
            part["files"],
            wildcards=Wildcards(fromdict=part["wildcards"]),
            threads=part["threads"],
            resources=common["resources"],
            config=common["config"],
            scriptdir=common["scriptdir"],
            chain_log=part["log"],
            manifest=part["manifest"],
        )
        failed = None
    except Exception as error:  # the stage's script has logged it and written the trial's error record
        failed = f"{type(error).__name__}: {error}"
    return {"name": part["name"], "failed": failed, "log": part["log"]}


def run_parts(parts: list, common: Mapping, *, workers: int) -> list[dict]:
    """Each part's outcome (run_part), the parts run side by side in up to ``workers``
    processes: forked from this one where that is safe (jobs.fork_is_safe; they inherit
    its imports), else started afresh."""
    workers = max(1, min(workers, len(parts)))
    if workers == 1:
        return [run_part(part, common) for part in parts]
    from concurrent.futures import ProcessPoolExecutor

    context = jobs.worker_context()
    if context.get_start_method() == "fork":
        # once here rather than in every worker: what nearly every stage imports
        import opensim  # noqa: F401
        import pandas  # noqa: F401
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(run_part, part, common) for part in parts]
        return [future.result() for future in futures]
