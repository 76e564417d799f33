"""Rule synthesize_study: one synthetic subject's static and running trials, and its truth."""

import json

from retrorun import jobs
from retrorun.demo import heading, subjects

wc = snakemake.wildcards
with jobs.job(snakemake) as log:
    summary = subjects.generate_subject(
        snakemake.params.synthetic,
        subject=wc.subject,
        generic_model=snakemake.input.model,
        inputs_dir=snakemake.params.inputs_dir,
        truth_dir=snakemake.params.truth_dir,
    )
    summary["heading_deg"] = heading.turn_trials(
        snakemake.params.synthetic, subject=wc.subject, inputs_dir=snakemake.params.inputs_dir
    )
    log.info("generated %s", json.dumps(summary, indent=2))
