"""Rule static_optimization: muscle activations and forces over the analysis window,
with residual actuators at the root and reserves on every other free coordinate."""
import os
from pathlib import Path

import pandas as pd

from retrorun import formats, grf, jobs, opensim_tools, tables

wc = snakemake.wildcards
out = snakemake.output
settings = snakemake.params.settings
with jobs.job(snakemake, stage="static_optimization", subject=wc.subject, trial=wc.trial, trial_dir=Path(out.forces).parent) as log:
    work = Path(out.forces).parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    coordinates, _ = formats.read_storage(snakemake.input.coordinates)
    start, end, _, _ = grf.analysis_range(coordinates["time"].to_numpy(), snakemake.params.window, 0.0)
    so_model = work / "so_model.osim"
    specs = opensim_tools.prepare_so_model(
        model_path=snakemake.input.model, out_model=str(so_model),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"], reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"])
    actuators = pd.DataFrame([vars(s) for s in specs])
    log.info("actuators: %s", ", ".join(f"{s.name} ({s.kind})" for s in specs))
    activation_sto, force_sto = opensim_tools.static_optimization(
        so_model_path=str(so_model), coordinates_mot=snakemake.input.coordinates,
        external_loads_xml=snakemake.input.external_loads, time_range=(start, end),
        activation_exponent=settings["activation_exponent"], work_dir=str(work), name="so", subject=wc.subject, trial=wc.trial)
    model = opensim_tools.load_model(snakemake.input.model, what="scaled model")
    muscles = [m.getName() for m in model.getMuscles()]
    activation, _ = formats.read_storage(activation_sto)
    force, _ = formats.read_storage(force_sto)
    activations = tables.activations_table(activation, muscles=muscles)
    if activations.drop(columns="time_s").isna().to_numpy().any():
        from retrorun.errors import MuscleError
        raise MuscleError("static optimization returned NaN activations", subject=wc.subject, trial=wc.trial,
                          fix="keep more IK data around the window (ik_margin_s) or raise max_isometric_force_scale")
    formats.write_csv(out.activations, activations)
    formats.write_csv(out.forces, tables.forces_table(force, muscles=muscles,
                                                      rotational_actuators={s.name: s.rotational for s in specs}))
    formats.write_csv(out.actuators, actuators)
    os.replace(activation_sto, out.activations_sto)
    os.replace(force_sto, out.forces_sto)
    log.info("SO %d frames %.3f-%.3f s", len(activations), start, end)
