"""Rules subject_<name> (SUBJECT_IN_ONE_JOB, workflow/rules/common.smk): every chain of
one subject in this job, as the chains' own jobs would run them (retrorun.chains.run_chain:
the same stage logs, benchmarks, reuse and manifests): first every trial's motion chain,
then the subject's EMG normalisation over them, then every trial's analysis chain. The
trials of a phase run side by side in worker processes where the job has several cores.

A trial whose chain fails does not stop the others of its phase (their stages are kept
for the next run: retrorun/stage_reuse.py); the job then fails after that phase, its log
naming each failed chain and the end of that chain's log. The failed trial has left its
error record, so the next run leaves it out and reuses every other trial's stages.

The work is under `if __name__ == "__main__":`: a worker started afresh (off Linux)
imports this script as its main module and must not run it again."""

from pathlib import Path

from retrorun import chains


def run_subject(snakemake):
    parts = snakemake.params.parts
    common = {
        "resources": snakemake.resources,
        "config": snakemake.config,
        "scriptdir": snakemake.scriptdir,
    }
    # MocoInverse's threads per trial, where SO uses them (so_threads)
    per_part = max(part["threads"] for phase in parts.values() for part in phase)
    workers = max(1, snakemake.threads // per_part)
    log = Path(snakemake.log[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as summary:
        summary.write(f"subject {snakemake.params.subject}: {workers} worker process(es)\n")
        for phase, phase_parts in parts.items():
            outcomes = chains.run_parts(phase_parts, common, workers=workers)
            for outcome in outcomes:
                state = f"FAILED ({outcome['failed']})" if outcome["failed"] else "done"
                summary.write(f"{outcome['name']}: {state}, its log: {outcome['log']}\n")
            failed = [outcome for outcome in outcomes if outcome["failed"]]
            if failed:
                for outcome in failed:
                    summary.write(f"\n{outcome['name']} ({outcome['log']}):\n{chains.log_tail(outcome['log'])}\n")
                summary.flush()
                raise RuntimeError(
                    f"{len(failed)} of {len(phase_parts)} {phase} chain(s) failed: "
                    + "; ".join(f"{o['name']}: {o['failed']} (log: {o['log']})" for o in failed)
                )
            summary.flush()


if __name__ == "__main__":
    run_subject(snakemake)
