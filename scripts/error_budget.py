"""Rule error_budget: the demo's error budget (validation/error_budget.csv) and its figure."""

import pandas as pd

from retrorun import formats, jobs
from retrorun.demo import checks, error_budget
from retrorun.demo.subjects import outcome_paths

params = snakemake.params
with jobs.job(snakemake) as log:
    stages, truth, pipeline = [], [], []
    for row in params.trials:
        keys = {"subject": row["subject"], "condition": row["condition"], "trial": row["trial"]}
        stages.append(pd.read_csv(row["stages"]).assign(**keys))
        truth.append(pd.read_csv(outcome_paths(row["truth_dir"], row["trial"])["metrics"]).assign(**keys))
        pipeline.append(checks.pipeline_cycle_metrics(row["dir"]).assign(**keys))
    table = error_budget.budget_table(
        pd.concat(stages, ignore_index=True),
        pd.concat(truth, ignore_index=True),
        pd.concat(pipeline, ignore_index=True),
        pipeline_differences=checks.pipeline_differences(snakemake.input.comparison),
        truth_differences=pd.read_csv(snakemake.input.truth_comparison),
        compare=list(params.compare),
        primary_outcomes=list(params.primary_outcomes),
        residual_reduction_method=params.residual_reduction_method,
    )
    formats.write_csv(snakemake.output.table, table)
    error_budget.budget_figure(table, snakemake.output.figure)
    for row in table.itertuples(index=False):
        log.info(
            "%-45s %-18s fwd %+6.1f %% bwd %+6.1f %% difference %+6.1f %%",
            row.outcome,
            row.stage,
            row.forward_error_pct,
            row.backward_error_pct,
            row.difference_error_pct,
        )
