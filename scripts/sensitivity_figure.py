"""Rule sensitivity_figure: the forest plot of tables/sensitivity.csv."""

import pandas as pd

from retrorun import figures, jobs, sensitivity

with jobs.job(snakemake):
    out = snakemake.output
    table = pd.read_csv(snakemake.input.table)
    figures.save(sensitivity.forest_plot(table), png=out.sensitivity_png, svg=out.sensitivity_svg)
