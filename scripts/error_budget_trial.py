"""Rule error_budget_trial: one trial's outcomes with the truth's chain and each pipeline
stage swapped in alone (retrorun/demo/error_budget.py)."""

from pathlib import Path

from retrorun import formats, jobs
from retrorun.demo import error_budget

wc, params = snakemake.wildcards, snakemake.params
with jobs.job(snakemake) as log:
    out = Path(snakemake.output[0])
    table = error_budget.trial_stage_metrics(
        subject=wc.subject,
        trial=wc.trial,
        truth_dir=params.truth_dir,
        pipeline_dir=params.trial_dir,
        scaled_model=snakemake.input.scaled_model,
        window=(params.window["start_s"], params.window["end_s"]),
        params=params.budget
        | {"generic_model": snakemake.input.generic_model, "mass_kg": params.mass_kg, "height_m": params.height_m},
        work_dir=out.parent / f".{wc.trial}_work",
    )
    formats.write_csv(out, table)
    log.info("%d stage rows over %d cycles", table["stage"].nunique(), table.groupby("stage")["cycle"].nunique().max())
