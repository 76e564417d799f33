"""Rule synthesize_study: every synthetic subject's static and running trials, and its truth.
Its work is under `if __name__ == "__main__":`: a worker started afresh (off Linux)
imports this script as its main module and must not run it again."""

import json

from retrorun import jobs
from retrorun.demo import study

if __name__ == "__main__":
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
