"""Rule sensitivity_table: the primary outcomes of the main run and of every sensitivity
variant, and whether each variant reaches the main run's conclusion."""

import pandas as pd

from retrorun import formats, jobs, sensitivity

with jobs.job(snakemake) as log:
    params = snakemake.params
    variants = {name: pd.read_csv(path) for name, path in zip(params.variants, snakemake.input.variants)}
    table = sensitivity.sensitivity_table(
        pd.read_csv(snakemake.input.main),
        variants,
        alphas=params.alphas,
        described=params.described,
        outcomes=params.primary_outcomes,
    )
    formats.write_csv(snakemake.output[0], table)
    log.info(sensitivity.front_page_sentence(table) or "no variant")
