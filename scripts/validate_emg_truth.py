"""Rule validate_emg_truth: the demo's EMG path against the truth (validation/emg_truth.csv):
each recovered envelope vs the true activation (r, lag), and the EMG-based
forward-backward changes vs the true ones."""

import pandas as pd

from retrorun import formats, jobs
from retrorun.demo import emg as demo_emg

params = snakemake.params
inp = snakemake.input
with jobs.job(snakemake) as log:
    rows, truth_metrics = [], []
    for info, envelopes, activations, cycles, metrics in zip(
        params.trials, params.envelopes, inp.activations, inp.cycles, inp.metrics
    ):
        found = demo_emg.truth_rows(
            subject=info["subject"],
            trial=info["trial"],
            envelopes=pd.read_csv(envelopes),
            activations=pd.read_csv(activations),
            channels=params.settings["channels"],
            cycles=pd.read_csv(cycles).rename(columns={"strike_s": "start_s", "next_strike_s": "end_s"}),
            max_lag_s=params.settings["max_lag_s"],
        )
        rows += demo_emg.judged_channel_rows(found)
        truth_metrics.append(pd.read_csv(metrics).assign(subject=info["subject"], condition=info["condition"]))
    subjects = pd.read_csv(inp.subjects)
    rows += demo_emg.difference_rows(
        subjects[subjects["source"] == "emg"],
        pd.concat(truth_metrics, ignore_index=True),
        outcomes=params.outcomes,
        compare=params.compare,
        side=demo_emg.SIDE,
    )
    table = pd.DataFrame(rows)
    formats.write_csv(snakemake.output.emg_truth, table)
    for row in table[~table["pass"]].itertuples():
        log.warning("EMG truth check failed: %s %s %s", row.subject, row.trial, row.channel)
    log.info("%d of %d EMG truth rows pass", int(table["pass"].sum()), len(table))
