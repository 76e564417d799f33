"""Rule static_optimization_chunk: SO over one of K consecutive parts of the span the chosen
cycles cover, with OpenSim's StaticOptimization, the fast solver or MocoInverse (config
static_optimization.solver); the solve's status in so_solver.json."""

import json
from pathlib import Path

import pandas as pd

from retrorun import cycle_plan, fast_so, formats, jobs, opensim_tools, so_chunks

wc = snakemake.wildcards
out = snakemake.output
settings = snakemake.params.settings
# which of how many consecutive parts: the rule's wildcards, or 0 of 1 where SO is a stage of
# trial_analysis
chunk, chunks = int(snakemake.params.chunk), int(snakemake.params.chunks)
with jobs.job(snakemake) as log:
    work = Path(out.activation).parent / "work"
    coordinates, _ = formats.read_storage(snakemake.input.coordinates)
    times = coordinates["time"].to_numpy()
    span = cycle_plan.read_span(snakemake.input.span)
    start, end = span["so_start_s"], span["so_end_s"]
    first, last = so_chunks.chunk_range(times, start=start, end=end, chunk=chunk, count=chunks)
    so_model = work / "so_model.osim"
    specs = opensim_tools.prepare_so_model(
        model_path=snakemake.input.model,
        out_model=str(so_model),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"],
        reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"],
        strength_scaling=settings["strength_scaling"],
        generic_model_path=snakemake.input.generic_model,
        mass_kg=snakemake.params.mass_kg,
        height_m=snakemake.params.height_m,
        reference_height_m=settings["reference_height_m"],
        subject=wc.subject,
    )
    # OpenSim's SO warm-starts each frame from the last; the fast solver needs no warm-up
    solve_from = so_chunks.warmup_start(times, first) if chunk > 0 and settings["solver"] == "opensim" else first
    log.info(
        "chunk %s of %s: %.4f-%.4f s (solved from %.4f s) with solver %s; actuators: %s",
        chunk,
        chunks,
        first,
        last,
        solve_from,
        settings["solver"],
        ", ".join(f"{s.name} ({s.kind})" for s in specs),
    )
    if settings["solver"] == "fast":
        activation, force, problem = fast_so.static_optimization(
            so_model_path=str(so_model),
            coordinates_mot=snakemake.input.coordinates,
            external_loads_xml=snakemake.input.external_loads,
            time_range=(solve_from, last),
            activation_exponent=settings["activation_exponent"],
            subject=wc.subject,
            trial=wc.trial,
        )
        opensim_tools.write_so_setup(
            so_model_path=str(so_model),
            coordinates_mot=snakemake.input.coordinates,
            external_loads_xml=snakemake.input.external_loads,
            time_range=(first, last),
            activation_exponent=settings["activation_exponent"],
            work_dir=str(work),
            name="so",
        )
        log.info(
            "fast SO: %d frames, CPU %.3f s building (%s), %.3f s solving",
            len(activation),
            problem.cpu_s["build"],
            ", ".join(f"{k} {v:.3f} s" for k, v in problem.cpu_s.items() if k not in ("build", "solve")),
            problem.cpu_s["solve"],
        )
        status = {"solver": "fast", "success": True, "frames": len(activation), "cpu_s": problem.cpu_s}
    elif settings["solver"] == "moco_inverse":
        from retrorun import moco_inverse

        activation, force, status = moco_inverse.solve(
            so_model_path=str(so_model),
            coordinates_mot=snakemake.input.coordinates,
            external_loads_xml=snakemake.input.external_loads,
            time_range=(first, last),
            settings=settings["moco_inverse"],
            activation_exponent=settings["activation_exponent"],
            sides=list(snakemake.params.sides.values()),
            work_dir=str(work),
            subject=wc.subject,
            trial=wc.trial,
        )
        log.info(
            "MocoInverse: %s after %d iterations, objective %.4g, %d frames, %.1f s wall (compliant tendons: %s)",
            status["status"],
            status["iterations"],
            status["objective"],
            status["frames"],
            status["wall_s"],
            ", ".join(status["compliant_tendons"]) or "none",
        )
    else:
        activation_sto, force_sto = opensim_tools.static_optimization(
            so_model_path=str(so_model),
            coordinates_mot=snakemake.input.coordinates,
            external_loads_xml=snakemake.input.external_loads,
            time_range=(solve_from, last),
            activation_exponent=settings["activation_exponent"],
            work_dir=str(work),
            name="so",
            subject=wc.subject,
            trial=wc.trial,
        )
        activation, force = (formats.read_storage(path)[0] for path in (activation_sto, force_sto))
        status = {"solver": "opensim", "success": True, "frames": len(activation)}
    formats.write_csv(out.actuators, pd.DataFrame([vars(s) for s in specs]))
    Path(out.status).write_text(json.dumps(status, indent=2))
    for table, target in ((activation, out.activation), (force, out.force)):
        formats.write_storage(target, table[table["time"] >= first - 1e-9], in_degrees=False, name=Path(target).stem)
