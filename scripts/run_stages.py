"""Rules that chain stages (workflow/rules/common.smk, Stage): each stage's script run in
this process, one after another, with the inputs, outputs, params, log and benchmark of
its own (chain params `written`), as if it were its own job. The job declares each file
it reads once: a stage's input that an earlier stage writes or reads is that stage's
output or input (chain params `links`, `shared`); one another trial chain writes is
declared by that chain's manifest (`via_manifest`); retrorun.chains.stage_inputs puts a
stage's inputs together. It declares only the outputs that rules outside the chains read
(CHAIN_EXPORTS) and its manifest: what each stage read and wrote, dated as the newest
file written, so a job reading it reruns when an output changed, not when every stage
was reused.

A stage that fails stops the chain; its script has written the trial's error record
naming the stage (retrorun.jobs), and the job's log names the stage and ends with the end
of its log. A stage whose inputs (by content), params and code are those of its last run
gets that run's outputs back instead of running (retrorun/stage_reuse.py): a setting one
stage reads reruns that stage and what its outputs change, not the whole chain."""

import json
import os
import resource
import runpy
import time
from pathlib import Path
from types import SimpleNamespace

from snakemake.iocontainers import Namedlist

from retrorun import chains, jobs, stage_reuse

chain = snakemake.params.chain
FAILED_LOG_LINES = 30


def write_benchmark(path, started, used):
    """The stage's wall and CPU seconds and the process's peak memory so far, in the
    columns of Snakemake's benchmark files (tools/stage_times.py reads them)."""
    now = resource.getrusage(resource.RUSAGE_SELF)
    wall_s = time.time() - started
    cpu_s = (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)
    row = {"s": f"{wall_s:.2f}", "h:m:s": time.strftime("%H:%M:%S", time.gmtime(wall_s))}
    row |= {"max_rss": f"{now.ru_maxrss / 1024:.2f}", "cpu_time": f"{cpu_s:.2f}"}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\t".join(row) + "\n" + "\t".join(row.values()) + "\n")


def named(items: dict) -> Namedlist:
    """Files by name, flat as Snakemake gives a job's inputs (a named list spans several)."""
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


written = chain["written"]
declared = dict(snakemake.input.items())
# a reused stage's outputs are made no older than the job's inputs
inputs_mtime = newest_mtime(snakemake.input)
read_and_written = {}
chain_log = Path(snakemake.log[0])
chain_log.parent.mkdir(parents=True, exist_ok=True)
with open(chain_log, "w") as summary:
    for stage in chain["stages"]:
        outputs = written[stage]["output"]
        job = SimpleNamespace(
            rule=stage,
            input=named(chains.stage_inputs(chain, declared, stage)),
            output=named(outputs),
            params=Namedlist(fromdict=chain["params"][stage]),
            log=Namedlist([written[stage]["log"]]),
            wildcards=snakemake.wildcards,
            threads=snakemake.threads,
            resources=snakemake.resources,
            config=snakemake.config,
            scriptdir=snakemake.scriptdir,
        )
        for path in [*job.output, job.log[0]]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        started, used = time.time(), resource.getrusage(resource.RUSAGE_SELF)
        script = Path(snakemake.scriptdir) / f"{chain['scripts'][stage]}.py"
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

manifest = Path(snakemake.output.manifest)
manifest.write_text(json.dumps(read_and_written, indent=1) + "\n")
newest = max(newest_mtime(path for stage in read_and_written.values() for path in named(stage["output"])), inputs_mtime)
os.utime(manifest, (newest, newest))
