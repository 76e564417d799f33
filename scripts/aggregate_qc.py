"""Rule aggregate_qc: the study's QC table, one row per trial, failed trials included."""

import json

import pandas as pd

from retrorun import formats, jobs, qc

with jobs.job(snakemake) as log:
    rows = [json.loads(open(path).read()) for path in snakemake.input]
    for path in snakemake.params.failed:
        record = jobs.read_error_record(path)
        rows.append(
            {
                "subject": record["subject"],
                "trial": record["trial"],
                "condition": snakemake.params.conditions.get((record["subject"], record["trial"]), ""),
                "status": "failed",
                "failed_stage": record.get("stage", ""),
                "pass": False,
                "flags": f"failed:{record.get('stage', '')}",
            }
        )
    table = pd.DataFrame(rows)
    for column in qc.QC_COLUMNS:
        if column not in table:
            table[column] = None
    table = table[qc.QC_COLUMNS + [c for c in table.columns if c not in qc.QC_COLUMNS]]
    formats.write_csv(snakemake.output[0], table.sort_values(["subject", "trial"]))
    log.info(
        "%d trials, %d pass, %d failed",
        len(table),
        int(table["pass"].fillna(False).astype(bool).sum()),
        int((table["status"] == "failed").sum()),
    )
