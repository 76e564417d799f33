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

The stages run in this process (retrorun.chains.run_chain). A stage that fails stops the
chain; its script has written the trial's error record naming the stage (retrorun.jobs),
and the job's log names the stage and ends with the end of its log. A stage whose inputs
(by content), params and code are those of its last run gets that run's outputs back
instead of running (retrorun/stage_reuse.py): a setting one stage reads reruns that stage
and what its outputs change, not the whole chain."""

from retrorun import chains

chains.run_chain(
    snakemake.params.chain,
    dict(snakemake.input.items()),
    wildcards=snakemake.wildcards,
    threads=snakemake.threads,
    resources=snakemake.resources,
    config=snakemake.config,
    scriptdir=snakemake.scriptdir,
    chain_log=snakemake.log[0],
    manifest=snakemake.output.manifest,
)
