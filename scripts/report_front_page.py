"""Rule report_front_page: the report's landing text, written from the study tables."""

from pathlib import Path

import pandas as pd

from retrorun import emg_agreement, formats, front_page, jobs, sensitivity

with jobs.job(snakemake) as log:
    params = snakemake.params
    comparison = pd.read_csv(snakemake.input.comparison)

    def so_only(table):
        # the model's answer (source so) first; EMG's is added beside it below
        return table[table["source"] == "so"].drop(columns="source") if "source" in table else table

    text = front_page.front_page(
        study=params.study,
        comparison=so_only(comparison),
        counts=pd.read_csv(snakemake.input.counts),
        qc=pd.read_csv(snakemake.input.qc),
        qc_gate=params.qc_gate,
        alpha=params.alpha,
        subjects=so_only(pd.read_csv(snakemake.input.subjects)),
        min_cycles=params.min_cycles,
        max_speed_difference=params.max_speed_difference,
    )
    if "sensitivity" in snakemake.input.keys():
        text = sensitivity.with_front_page_sentence(text, pd.read_csv(snakemake.input.sensitivity))
    if "agreement" in snakemake.input.keys():  # EMG's answer beside SO's (docs/development/tables.md)
        agreement = pd.read_csv(snakemake.input.agreement)
        text += "\n".join(emg_agreement.front_page_lines(comparison, agreement, primary=params.primary)) + "\n"
    with formats.atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(text)
    log.info("front page: %d lines", text.count("\n"))
