"""Rule static_optimization_chunk: SO over one of K consecutive parts of the span the chosen cycles cover."""
from pathlib import Path

import pandas as pd

from retrorun import cycle_plan, formats, jobs, opensim_tools, so_chunks

wc = snakemake.wildcards
out = snakemake.output
settings = snakemake.params.settings
trial_dir = Path(snakemake.input.coordinates).parent
with jobs.job(snakemake, stage="static_optimization", subject=wc.subject, trial=wc.trial, trial_dir=trial_dir) as log:
    work = Path(out.activation).parent / "work"
    coordinates, _ = formats.read_storage(snakemake.input.coordinates)
    times = coordinates["time"].to_numpy()
    span = cycle_plan.read_span(snakemake.input.span)
    start, end = span["so_start_s"], span["so_end_s"]
    first, last = so_chunks.chunk_range(times, start=start, end=end, chunk=int(wc.chunk), count=int(wc.chunks))
    so_model = work / "so_model.osim"
    specs = opensim_tools.prepare_so_model(
        model_path=snakemake.input.model, out_model=str(so_model),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"], reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"], strength_scaling=settings["strength_scaling"],
        generic_model_path=snakemake.input.generic_model, mass_kg=snakemake.params.mass_kg,
        height_m=snakemake.params.height_m, reference_height_m=settings["reference_height_m"], subject=wc.subject)
    solve_from = so_chunks.warmup_start(times, first) if int(wc.chunk) > 0 else first
    log.info("chunk %s of %s: %.4f-%.4f s (solved from %.4f s); actuators: %s", wc.chunk, wc.chunks, first, last, solve_from,
             ", ".join(f"{s.name} ({s.kind})" for s in specs))
    activation_sto, force_sto = opensim_tools.static_optimization(
        so_model_path=str(so_model), coordinates_mot=snakemake.input.coordinates,
        external_loads_xml=snakemake.input.external_loads, time_range=(solve_from, last),
        activation_exponent=settings["activation_exponent"], work_dir=str(work), name="so", subject=wc.subject, trial=wc.trial)
    formats.write_csv(out.actuators, pd.DataFrame([vars(s) for s in specs]))
    for source, target in ((activation_sto, out.activation), (force_sto, out.force)):
        table, _ = formats.read_storage(source)
        formats.write_storage(target, table[table["time"] >= first - 1e-9], in_degrees=False, name=Path(target).stem)
