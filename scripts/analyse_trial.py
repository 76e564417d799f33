"""Stage analyse_trial: one trial's gait cycles, normalised curves and cycle metrics."""

import pandas as pd

from retrorun import analysis, emg, formats, jobs, model_properties

wc = snakemake.wildcards
inp = snakemake.input
params = snakemake.params
with jobs.job(snakemake) as log:
    settings = params.settings
    names = [f"{m}{suffix}" for muscles in params.groups.values() for m in muscles for suffix in params.sides.values()]
    properties = model_properties.muscle_properties(inp.model, names)
    floors = {name: props["min_control"] for name, props in properties.items()}
    log.info("activation floors (min_control) from %s: %s", inp.model, sorted(set(floors.values())))
    weights = None
    if settings["weighting"] == "max_isometric_force":
        weights = {name: props["max_isometric_force_n"] for name, props in properties.items()}
        log.info("group weights: max isometric force (N) from %s", inp.model)
    knee_signs = model_properties.knee_extension_directions(
        inp.model, analysis=settings, quadriceps=params.groups["quadriceps"], sides=params.sides
    )
    log.info("knee extension sign per side (override, else the quadriceps' moment arms): %s", knee_signs)
    result = analysis.analyse_trial(
        cycles=pd.read_csv(inp.cycles),
        activations=pd.read_csv(inp.activations),
        ik=pd.read_csv(inp.ik),
        id_forces=pd.read_csv(inp.id_forces),
        groups=params.groups,
        sides=params.sides,
        settings=settings,
        mass_kg=float(params.mass_kg),
        weights=weights,
        floors=floors,
        knee_signs=knee_signs,
        subject=wc.subject,
        trial=wc.trial,
        sources={"activations": inp.activations, "ik": inp.ik, "id_forces": inp.id_forces},
        speed_m_s=params.speed_m_s,
    )
    metrics, curves = result.metrics, result.curves
    if "emg" in inp.keys():  # measured envelopes on the same cycles: their curves and metrics (source emg)
        emg_curves = emg.cycle_curves(pd.read_csv(inp.emg), result.cycles, params.emg, params.groups, params.sides)
        if len(emg_curves):
            curves = curves.merge(emg_curves, on=["side", "cycle", "pct"], how="left", validate="one_to_one")
        stance_units = settings["unit"] == "stance"
        emg_metrics = emg.cycle_metrics(emg_curves, result.cycles, params.groups, stance_units=stance_units)
        metrics = pd.concat([metrics, emg_metrics], ignore_index=True)
        log.info("EMG from %s: %d metric rows", inp.emg, len(emg_metrics))
    formats.write_csv(snakemake.output.metrics, metrics)
    formats.write_csv(snakemake.output.curves, curves)
    formats.write_csv(snakemake.output.stance_curves, result.stance_curves)
    log.info("%d %s(s) analysed", int((result.cycles["status"] == "used").sum()), settings["unit"])
    for note in sorted(set(result.metrics["note"].dropna()) - {""}):
        log.warning("%s", note)
