"""Rule report_front_page: the report's landing text, written from the study tables."""

from pathlib import Path

import pandas as pd

from retrorun import emg_agreement, formats, front_page, jobs

with jobs.job(snakemake) as log:
    params = snakemake.params
    comparison = pd.read_csv(snakemake.input.comparison)
    so_rows = comparison[comparison["source"] == "so"] if "source" in comparison else comparison
    text = front_page.front_page(
        study=params.study,
        comparison=so_rows.drop(columns="source", errors="ignore"),
        counts=pd.read_csv(snakemake.input.counts),
        qc=pd.read_csv(snakemake.input.qc),
        qc_gate=params.qc_gate,
        alpha=params.alpha,
    )
    if "agreement" in snakemake.input.keys():  # EMG's answer beside SO's (docs/development/tables.md)
        agreement = pd.read_csv(snakemake.input.agreement)
        text += "\n".join(emg_agreement.front_page_lines(comparison, agreement, primary=params.primary)) + "\n"
    with formats.atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(text)
    log.info("front page: %d lines", text.count("\n"))
