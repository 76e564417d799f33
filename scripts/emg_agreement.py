"""Rule emg_agreement: SO against EMG per trial, side, channel and group (tables/emg_agreement.csv)."""

import pandas as pd

from retrorun import emg_agreement, formats, jobs

params = snakemake.params
with jobs.job(snakemake) as log:
    parts = [
        emg_agreement.trial_agreement(
            info,
            pd.read_csv(curves),
            pd.read_csv(cycles),
            settings=params.settings,
            groups=params.groups,
            sides=params.sides,
        )
        for info, curves, cycles in zip(params.trials, snakemake.input.curves, snakemake.input.cycles)
    ]
    parts = [part for part in parts if len(part)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=emg_agreement.COLUMNS)
    if table.empty:
        log.warning("no trial has EMG and SO curves of one used cycle: the agreement table is empty")
    formats.write_csv(snakemake.output.agreement, table)
    log.info("%d agreement row(s)", len(table))
