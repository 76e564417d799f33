"""Rule residual_reduction_algorithm: OpenSim's RRA on one trial (config residual_reduction,
method rra); writes the adjusted model and kinematics ID after reduction, SO and the
analysis run on, and the changes."""

from pathlib import Path

import pandas as pd

from retrorun import cycle_plan, formats, jobs, opensim_tools, tables
from retrorun import grf as grf_lib
from retrorun import residual_reduction as rr

wc = snakemake.wildcards
inp = snakemake.input
out = snakemake.output
settings = snakemake.params.settings
with jobs.job(snakemake) as log:
    # absolute paths: RRATool works from its results folder
    model, adjusted_model = str(Path(inp.model).resolve()), str(Path(out.model).resolve())
    work = Path(out.model).resolve().parent / "work"
    ik, _ = formats.read_storage(inp.coordinates)
    times = ik["time"].to_numpy()
    span = cycle_plan.read_span(inp.span)
    start, end, first, last = grf_lib.analysis_range(
        times, {"start_s": span["so_start_s"], "end_s": span["so_end_s"]}, settings["rra_margin_s"]
    )
    spans, note = rr.averaging_windows(pd.read_csv(inp.cycles), window_start_s=start, window_end_s=end)
    com_range = (min(a for a, _ in spans), max(b for _, b in spans))
    log.info("RRA %.3f-%.3f s; COM adjusted from the mean residuals over %s", first, last, note)
    kinematics_sto, forces_sto, residual_names = opensim_tools.residual_reduction_algorithm(
        model_path=model,
        coordinates_mot=inp.coordinates,
        external_loads_xml=inp.external_loads,
        time_range=(first, last),
        com_time_range=com_range,
        adjusted_body=settings["adjusted_body"],
        residual_force_optimal_force=settings["rra_residual_force_optimal_force"],
        residual_moment_optimal_force=settings["rra_residual_moment_optimal_force"],
        out_model=adjusted_model,
        work_dir=str(work),
        name="rra",
        subject=wc.subject,
        trial=wc.trial,
    )
    adjusted, _ = formats.read_storage(kinematics_sto)
    # SO reads RRA's kinematics on the IK frames (RRA writes every integration step)
    on_ik_frames = rr.resample(
        adjusted[[c for c in adjusted.columns if c == "time" or c in ik.columns]],
        times[(times >= adjusted["time"].iloc[0] - 1e-9) & (times <= adjusted["time"].iloc[-1] + 1e-9)],
    )
    formats.write_storage(out.coordinates, on_ik_frames, in_degrees=True, name="rra_kinematics")
    rotational = opensim_tools.coordinate_motion_types(opensim_tools.load_model(model, what="scaled model"))
    formats.write_csv(out.coordinates_table, tables.coordinates_table(on_ik_frames, rotational=rotational))
    changes = rr.kinematic_changes(ik, adjusted, rotational=rotational, start_s=start, end_s=end)
    formats.write_csv(out.changes, changes)
    forces, _ = formats.read_storage(forces_sto)
    forces = forces[(forces["time"] >= start) & (forces["time"] <= end)]
    names = list(residual_names.values())
    com_before = opensim_tools.mass_centre(model, settings["adjusted_body"])
    com_after = opensim_tools.mass_centre(adjusted_model, settings["adjusted_body"])
    summary = {
        "subject": wc.subject,
        "trial": wc.trial,
        "averaged_over": note,
        **{f"rra_peak_residual_{n}": float(forces[n].abs().max()) for n in names},
        **{f"com_shift_{axis}_m": float(com_after[i] - com_before[i]) for i, axis in enumerate("xyz")},
    }
    formats.write_csv(out.summary, pd.DataFrame([summary]))
    worst = changes.fillna(0).max(numeric_only=True)
    log.info(
        "RRA kinematic change: worst RMS %.2f deg, %.2f cm; residual peaks %s",
        worst["rms_change_deg"],
        worst["rms_change_cm"],
        ", ".join(f"{n} {summary[f'rra_peak_residual_{n}']:.1f}" for n in names),
    )
