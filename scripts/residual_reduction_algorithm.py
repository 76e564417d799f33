"""Rule residual_reduction_algorithm: OpenSim's RRA on one trial (config residual_reduction,
method rra); writes the adjusted model and kinematics ID after reduction, SO and the
analysis run on, and the changes.

RRA (RRATool::adjustCOMToReduceResiduals) finds its COM shift on ground's X and Z axes
and adds it to the body-frame mass centre as if the body's axes were ground's. The
model written here carries the shift taken into the body's frame with the body's mean
orientation over the averaged cycles instead (retrorun.residual_reduction.shift_into_body).
The trial faces the model's +X (retrorun.heading), so the two differ by the body's lean
and the pelvis's rotation only; RRA's own tracking ran with its version."""

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
    ik, header = formats.read_storage(inp.coordinates)
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
    body = settings["adjusted_body"]
    com_before = opensim_tools.mass_centre(model, body)
    rra_shift = opensim_tools.mass_centre(adjusted_model, body) - com_before  # ground axes
    rotations = opensim_tools.root_jacobians(
        model=model,
        coordinates=tables.window(ik, *com_range, time_column="time"),
        in_degrees=header.get("inDegrees", "no").lower().startswith("y"),
        body=body,
    )[2]
    shift = rr.shift_into_body(rra_shift, rotations)
    opensim_tools.write_mass_com_model(
        model_path=adjusted_model,
        out_model=adjusted_model,
        body=body,
        com_shift_body_m=shift - rra_shift,
        masses_kg=opensim_tools.body_masses(adjusted_model),
    )
    log.info(
        "%s COM: RRA's shift (%.4f, %.4f, %.4f) m on ground's axes is (%.4f, %.4f, %.4f) m in the body's frame",
        body,
        *rra_shift,
        *shift,
    )
    com_after = opensim_tools.mass_centre(adjusted_model, body)
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
