"""Rule emg_figures: per EMG channel, its envelope over SO's activation (mean +- SD by condition)."""

import pandas as pd

from retrorun import emg_agreement, figures, jobs

params = snakemake.params
out = snakemake.output
with jobs.job(snakemake):
    trials = [(info, pd.read_csv(path)) for info, path in zip(params.trials, snakemake.input.curves)]
    curves = emg_agreement.channel_curves(trials, settings=params.settings, sides=params.sides)
    figures.save(emg_agreement.figure(curves, compare=params.compare), png=out.emg_vs_so_png, svg=out.emg_vs_so_svg)
