"""Rule report_front_page: the report's landing text, written from the study tables."""

from pathlib import Path

import pandas as pd

from retrorun import formats, front_page, jobs, sensitivity

with jobs.job(snakemake) as log:
    params = snakemake.params
    text = front_page.front_page(
        study=params.study,
        comparison=pd.read_csv(snakemake.input.comparison),
        counts=pd.read_csv(snakemake.input.counts),
        qc=pd.read_csv(snakemake.input.qc),
        qc_gate=params.qc_gate,
        alpha=params.alpha,
        subjects=pd.read_csv(snakemake.input.subjects),
        min_cycles=params.min_cycles,
        max_speed_difference=params.max_speed_difference,
    )
    if "sensitivity" in snakemake.input.keys():
        text = sensitivity.with_front_page_sentence(text, pd.read_csv(snakemake.input.sensitivity))
    with formats.atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(text)
    log.info("front page: %d lines", text.count("\n"))
