"""Rule emg_envelopes: one trial's EMG envelopes divided by the subject's divisors."""

import pandas as pd

from retrorun import emg, formats, jobs

wc = snakemake.wildcards
with jobs.job(snakemake) as log:
    envelopes = emg.normalise(
        pd.read_csv(snakemake.input.processed),
        pd.read_csv(snakemake.input.divisors),
        subject=wc.subject,
        trial=wc.trial,
    )
    formats.write_csv(snakemake.output.envelopes, envelopes)
    log.info("%d channel(s) normalised", envelopes.shape[1] - 1)
