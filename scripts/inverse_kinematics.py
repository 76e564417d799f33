"""Stage inverse_kinematics: IK over the chosen cycles plus margin (analysis_span.json) on the
markers turned into the runner's facing frame (heading.json), then the coordinates
low-pass filtered with the GRF's cutoff (Bisseling & Hof 2006)."""

import pandas as pd

from retrorun import cycle_plan, fast_ik, filtering, formats, jobs, opensim_tools, tables, templates
from retrorun.heading import read_heading, turn_markers
from retrorun.markers import prepare_markers, require_tracked_frames

wc = snakemake.wildcards
out = snakemake.output
with jobs.job(snakemake) as log:
    work = jobs.trial_folder(snakemake) / "work"
    recorded = formats.read_trc(snakemake.input.markers)
    span = cycle_plan.read_span(snakemake.input.span)
    start, end, first, last = span["so_start_s"], span["so_end_s"], span["ik_start_s"], span["ik_end_s"]
    # gaps are judged where IK runs: a marker lost outside the window plus margin is no fault
    heading = read_heading(snakemake.input.heading)
    markers = prepare_markers(
        turn_markers(recorded.window(first, last), heading),
        aliases=snakemake.params.aliases,
        gaps=snakemake.params.gaps,
        subject=wc.subject,
        trial=wc.trial,
    )
    trc = work / "markers.trc"
    formats.write_trc(trc, markers)
    task_set = templates.ik_task_set(snakemake.input.ik_tasks)
    dropped = templates.write_ik_task_set(task_set, work / "ik_tasks.xml", keep_markers=set(markers.marker_names))
    if dropped:
        log.warning("IK tasks for markers absent from %s are skipped: %s", snakemake.input.markers, ", ".join(dropped))
    raw_mot = out.unfiltered
    weights = {m: w for m, w in templates.marker_weights(task_set).items() if w > 0 and m not in dropped}
    require_tracked_frames(markers, list(weights), subject=wc.subject, trial=wc.trial)
    if snakemake.params.solver == "fast":
        errors_sto, locations_sto = fast_ik.inverse_kinematics(
            model_path=snakemake.input.model,
            markers=markers,
            task_set_file=str(work / "ik_tasks.xml"),
            time_range=(first, last),
            out_mot=str(raw_mot),
            work_dir=str(work),
            name="ik",
        )
    else:
        errors_sto, locations_sto = opensim_tools.inverse_kinematics(
            model_path=snakemake.input.model,
            trc=str(trc),
            task_set_file=str(work / "ik_tasks.xml"),
            time_range=(first, last),
            out_mot=str(raw_mot),
            work_dir=str(work),
            name="ik",
            subject=wc.subject,
            trial=wc.trial,
        )
    raw, _ = formats.read_storage(raw_mot)
    filtered = filtering.filter_table(raw, cutoff_hz=snakemake.params.filter_hz)
    formats.write_storage(out.mot, filtered, in_degrees=True, name="ik")
    model = opensim_tools.load_model(snakemake.input.model, what="scaled model")
    formats.write_csv(
        out.coordinates, tables.coordinates_table(filtered, rotational=opensim_tools.coordinate_motion_types(model))
    )
    errors, _ = formats.read_storage(errors_sto)
    marker_errors = pd.DataFrame(
        {
            "time_s": errors["time"],
            "marker_rms_m": errors["marker_error_RMS"],
            "marker_max_m": errors["marker_error_max"],
        }
    )
    formats.write_csv(out.marker_errors, marker_errors)
    by_marker = tables.window(
        opensim_tools.marker_errors_by_marker(locations_sto, markers, weights=weights), start, end
    )
    by_marker = (
        by_marker.groupby("marker")["error_m"]
        .agg(rms_m=lambda e: float((e**2).mean() ** 0.5), max_m="max")
        .reset_index()
        .sort_values("rms_m", ascending=False)
    )
    by_marker.insert(1, "weight", by_marker["marker"].map(weights))
    formats.write_csv(out.marker_errors_by_marker, by_marker)
    log.info(
        "worst markers (RMS over the window): %s",
        ", ".join(f"{m} {e * 100:.1f} cm" for m, e in by_marker[["marker", "rms_m"]].head(3).itertuples(index=False)),
    )
    log.info(
        "IK (%s solver) %d frames %.3f-%.3f s on markers turned by %.1f deg; marker RMS mean %.4f m, max %.4f m",
        snakemake.params.solver,
        len(filtered),
        first,
        last,
        -heading.heading_deg,
        marker_errors["marker_rms_m"].mean(),
        marker_errors["marker_max_m"].max(),
    )
