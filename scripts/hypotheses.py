"""Rule hypotheses: each claim of config hypotheses tested on the comparison, with a verdict."""

import pandas as pd

from retrorun import formats, hypotheses, jobs

params = snakemake.params
with jobs.job(snakemake) as log:
    settings = params.settings
    table = hypotheses.hypotheses_table(
        params.hypotheses,
        pd.read_csv(snakemake.input.comparison),
        pd.read_csv(snakemake.input.subjects),
        compare=settings["compare"],
        alpha=settings["alpha"],
        min_subjects=settings["min_subjects"],
        min_cycles=settings["min_cycles"],
        test=settings["test"],
    )
    for row in table.itertuples():
        log.info("%s (%s, %s): %s, p_holm %.3g", row.id, row.source, row.measure, row.verdict, row.p_holm)
    formats.write_csv(snakemake.output[0], table)
