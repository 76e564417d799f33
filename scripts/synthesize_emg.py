"""Stage synthesize_emg (rule demo_truth, after the truth it reads): one demo trial's raw
EMG (2000 Hz) from its true activations."""

import numpy as np
import pandas as pd

from retrorun import formats, jobs
from retrorun.demo import emg as demo_emg

params = snakemake.params
with jobs.job(snakemake) as log:
    # one stream per trial, reproducible from the study seed
    rng = np.random.default_rng([params.seed, params.subject_index, params.trial_index])
    flat = demo_emg.flat_channel(params.channels, subject_index=params.subject_index, condition=params.condition)
    raw, parameters = demo_emg.synthesize(pd.read_csv(snakemake.input.activations), params.channels, rng=rng, flat=flat)
    formats.write_csv(snakemake.output.emg, raw)
    formats.write_csv(snakemake.output.parameters, parameters)
    log.info("%d channels, %d samples%s", len(params.channels), len(raw), f"; {flat} flat" if flat else "")
