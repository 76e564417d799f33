"""Rule emg_agreement_sensitivity: the main run's and every sensitivity variant's agreement
with the measured EMG in one table (tables/emg_agreement_sensitivity.csv)."""

import pandas as pd

from retrorun import emg_agreement, formats, jobs
from retrorun.sensitivity import MAIN

with jobs.job(snakemake) as log:
    variants = {name: pd.read_csv(path) for name, path in zip(snakemake.params.variants, snakemake.input.variants)}
    table = emg_agreement.by_variant(pd.read_csv(snakemake.input.main), variants, main_name=MAIN)
    formats.write_csv(snakemake.output[0], table)
    channels = table[table["kind"] == "channel"]
    for variant, rows in channels.groupby("variant", sort=False):
        log.info("%s: median r over channels %.2f (%d rows)", variant, rows["r_mean_cycle"].median(), len(rows))
