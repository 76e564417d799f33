"""Rule scale_model: scale the generic model to one subject and report marker errors."""

import os
from pathlib import Path

import numpy as np

from retrorun import formats, jobs, opensim_tools, qc, templates
from retrorun import heading as heading_lib
from retrorun.markers import prepare_markers

subject = snakemake.wildcards.subject
with jobs.job(snakemake) as log:
    work = Path(snakemake.output.model).parent / "work"
    markers = formats.read_trc(snakemake.input.static)
    markers = prepare_markers(
        markers, aliases=snakemake.params.aliases, gaps=snakemake.params.gaps, subject=subject, trial="static"
    )
    start = snakemake.params.start_s
    end = snakemake.params.end_s
    time_range = (markers.time_s[0] if start is None else start, markers.time_s[-1] if end is None else end)
    heading = heading_lib.face_model(
        markers.window(*time_range), snakemake.input.model, snakemake.input.get("marker_set"), subject, "static"
    )
    markers = heading_lib.turn_markers(markers, heading)
    heading.write(snakemake.output.heading)
    log.info(
        "static trial: subject faces %.1f deg from the lab's +X; markers turned by %.1f deg",
        heading.heading_deg,
        -heading.heading_deg,
    )
    static_trc = work / "static_markers.trc"
    formats.write_trc(static_trc, markers)
    scaled = work / "scaled_model.osim"
    before_placement, pose = opensim_tools.scale(
        generic_model=snakemake.input.model,
        marker_set=snakemake.input.get("marker_set"),
        scale_setup=snakemake.input.scale_setup,
        static_trc=str(static_trc),
        mass_kg=snakemake.params.mass_kg,
        height_m=snakemake.params.height_m,
        time_range=time_range,
        out_model=str(scaled),
        work_dir=str(work),
        subject=subject,
    )
    weights = templates.scale_template(snakemake.input.scale_setup).placer_weights
    errors = opensim_tools.static_marker_errors(
        model_path=str(before_placement), pose_mot=str(pose), markers=markers, time_range=time_range, weights=weights
    )
    landmarks = qc.scale_landmarks(
        weights, named=snakemake.params.landmarks, min_weight_share=snakemake.params.landmark_min_weight_share
    )
    errors["landmark"] = errors["marker"].isin(landmarks)
    for kind, rows in (("landmarks", errors[errors["landmark"]]), ("other markers", errors[~errors["landmark"]])):
        if len(rows):
            log.info(
                "scaling marker errors, %s: RMS %.4f m, max %.4f m (%s) over %d markers",
                kind,
                np.sqrt(np.mean(rows["error_m"] ** 2)),
                rows["error_m"].max(),
                rows.loc[rows["error_m"].idxmax(), "marker"],
                len(rows),
            )
    formats.write_csv(snakemake.output.marker_errors, errors)
    os.replace(scaled, snakemake.output.model)
