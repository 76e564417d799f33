"""Rule synthesize_study: every synthetic subject's static and running trials, and its truth."""

import json

from retrorun import jobs
from retrorun.demo import study

with jobs.job(snakemake) as log:
    summaries = study.generate_study(
        snakemake.params.synthetic,
        truth_dirs=snakemake.params.truth_dirs,
        generic_model=snakemake.input.model,
        inputs_dir=snakemake.params.inputs_dir,
        workers=snakemake.threads,
    )
    for subject, summary in summaries.items():
        log.info("generated %s: %s", subject, json.dumps(summary, indent=2))
