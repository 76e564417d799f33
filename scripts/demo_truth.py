"""Rule demo_truth: the study's outcomes on one synthetic trial's truth (OpenSim ID and
SO on the true coordinates, true model and noise-free GRF; cycles at the designed contacts)."""

from pathlib import Path

import pandas as pd

from retrorun import formats, jobs, model_properties
from retrorun.demo import truth

wc = snakemake.wildcards
inp, out, params = snakemake.input, snakemake.output, snakemake.params
with jobs.job(snakemake) as log:
    work = Path(out.id).parent / f".{wc.trial}_work"
    window = (params.window["start_s"], params.window["end_s"])
    id_forces = truth.inverse_dynamics(
        model_path=inp.model, coordinates_mot=inp.coordinates, grf_mot=inp.grf, work_dir=work / "id", time_range=window
    )
    formats.write_csv(out.id, id_forces)
    log.info(
        "true ID: peak root residual %.2f N (peak GRF %.0f N)",
        id_forces["root_residual_n"].max(),
        id_forces["grf_n"].max(),
    )
    # SO at the marker rate (as the pipeline's SO runs at the IK rate) on the exact coordinates
    activations = truth.static_optimization(
        model_path=inp.model,
        coordinates_mot=inp.coordinates_sampled,
        grf_mot=inp.grf,
        settings=params.settings,
        generic_model=inp.generic_model,
        mass_kg=float(params.mass_kg),
        height_m=float(params.height_m),
        work_dir=work / "so",
        time_range=window,
    )
    formats.write_csv(out.activations, activations)
    cycles = truth.true_cycles(pd.read_csv(inp.contacts), window_start_s=window[0], window_end_s=window[1])
    formats.write_csv(out.cycles, cycles)
    analysis = params.analysis
    # the same floors, weights and knee direction as stage analyse_trial, read from the true model
    names = [f"{m}{suffix}" for muscles in params.groups.values() for m in muscles for suffix in params.sides.values()]
    properties = model_properties.muscle_properties(inp.model, names)
    weights = None
    if analysis["weighting"] == "max_isometric_force":
        weights = {name: props["max_isometric_force_n"] for name, props in properties.items()}
    knee_signs = model_properties.knee_extension_directions(
        inp.model, analysis=analysis, quadriceps=params.groups["quadriceps"], sides=params.sides
    )
    metrics = truth.cycle_metrics(
        cycles,
        activations=activations,
        id_forces=id_forces,
        groups=params.groups,
        sides=params.sides,
        weights=weights,
        mass_kg=float(params.mass_kg),
        knee_coordinate=analysis["knee_coordinate"],
        knee_signs=knee_signs,
        floors={name: props["min_control"] for name, props in properties.items()},
    )
    formats.write_csv(out.metrics, metrics)
    log.info("%d true cycle(s); SO %d frames", len(cycles), len(activations))
