"""Rule methods_text: the study's methods section (Markdown), from its config, sheets, model and QC."""

from pathlib import Path

import pandas as pd

from retrorun import formats, jobs, methods

with jobs.job(snakemake) as log:
    inputs = snakemake.input
    text = methods.methods_text(
        snakemake.params.config,
        versions=methods.software_versions(),
        model=methods.model_summary(inputs.model),
        subjects=pd.read_csv(inputs.subjects, sep="\t", comment="#", dtype={"mass_kg": float}),
        trials=pd.read_csv(inputs.trials, sep="\t", comment="#", dtype=str),
        qc=pd.read_csv(inputs.qc),
        counts=pd.read_csv(inputs.counts),
        comparison=pd.read_csv(inputs.comparison),
    )
    with formats.atomic_path(snakemake.output.methods) as tmp:
        Path(tmp).write_text(text)
    log.info("methods: %d words, %d references", len(text.split()), text.split("### References")[1].count("\n- "))
