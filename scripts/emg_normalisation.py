"""Rule emg_normalisation: one subject's divisor per EMG channel (config emg.normalise)."""

import pandas as pd

from retrorun import emg, formats, jobs

params = snakemake.params
settings = params.settings
with jobs.job(snakemake) as log:
    if settings["normalise"] == "mvc":
        divisors = emg.mvc_peaks(emg.read_emg(snakemake.input.mvc, subject=snakemake.wildcards.subject), settings)
        log.info("MVC divisors from %s", snakemake.input.mvc)
    else:
        trials = [
            (info, pd.read_csv(processed), pd.read_csv(cycles))
            for info, processed, cycles in zip(params.trials, params.files["processed"], params.files["cycles"])
        ]
        divisors = emg.subject_peaks(trials, settings, params.sides)
        log.info(
            "subject-peak divisors over %d trial(s), conditions %s", len(trials), sorted(set(divisors["condition"]))
        )
    formats.write_csv(snakemake.output.divisors, divisors)
