"""Rule analyse_trial: one trial's gait cycles, normalised curves and cycle metrics."""
import pandas as pd

from retrorun import analysis, formats, groups, jobs

wc = snakemake.wildcards
inp = snakemake.input
params = snakemake.params
with jobs.job(snakemake, stage="analysis", subject=wc.subject, trial=wc.trial, trial_dir=params.trial_dir) as log:
    settings = params.settings
    weights = None
    if settings["weighting"] == "max_isometric_force":
        names = [f"{m}{suffix}" for muscles in params.groups.values() for m in muscles for suffix in params.sides.values()]
        weights = groups.max_isometric_forces(inp.model, names)
        log.info("group weights: max isometric force (N) from %s", inp.model)
    result = analysis.analyse_trial(
        grf=pd.read_csv(inp.grf), activations=pd.read_csv(inp.activations), ik=pd.read_csv(inp.ik),
        id_forces=pd.read_csv(inp.id_forces), groups=params.groups, sides=params.sides, settings=settings,
        mass_kg=float(params.mass_kg), weights=weights, subject=wc.subject, trial=wc.trial,
        sources={"activations": inp.activations, "ik": inp.ik, "id_forces": inp.id_forces})
    formats.write_csv(snakemake.output.cycles, result.cycles)
    formats.write_csv(snakemake.output.metrics, result.metrics)
    formats.write_csv(snakemake.output.curves, result.curves)
    for status, count in result.cycles["status"].value_counts().items():
        log.info("%d cycle(s) %s", count, status)
