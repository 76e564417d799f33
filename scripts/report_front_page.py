"""Rule report_front_page: the report's landing text, written from the study tables."""

from pathlib import Path

import pandas as pd

from retrorun import emg as emg_lib
from retrorun import formats, front_page, jobs, sensitivity

with jobs.job(snakemake) as log:
    params = snakemake.params
    comparison = pd.read_csv(snakemake.input.comparison)

    def rows_of(table, source):
        # the model's answer (source so) first, EMG's beside it (docs/development/tables.md)
        return table[table["source"] == source].drop(columns="source") if "source" in table else table

    emg = rows_of(comparison, emg_lib.SOURCE) if "source" in comparison else None
    text = front_page.front_page(
        study=params.study,
        comparison=rows_of(comparison, "so"),
        counts=pd.read_csv(snakemake.input.counts),
        qc=pd.read_csv(snakemake.input.qc),
        qc_gate=params.qc_gate,
        alpha=params.alpha,
        subjects=rows_of(pd.read_csv(snakemake.input.subjects), "so"),
        min_cycles=params.min_cycles,
        max_speed_difference=params.max_speed_difference,
        qc_thresholds=params.qc_thresholds,
        emg_comparison=emg,
        agreement=pd.read_csv(snakemake.input.agreement) if "agreement" in snakemake.input.keys() else None,
        hypotheses=pd.read_csv(snakemake.input.hypotheses) if "hypotheses" in snakemake.input.keys() else None,
    )
    if "sensitivity" in snakemake.input.keys():
        text = sensitivity.with_front_page_sentence(text, pd.read_csv(snakemake.input.sensitivity))
    with formats.atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(text)
    log.info("front page: %d lines", text.count("\n"))
