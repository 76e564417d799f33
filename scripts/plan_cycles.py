"""Stage plan_cycles: the cycles (or stances) analysed, and the span IK, ID and SO run on."""

import json

import numpy as np
import pandas as pd

from retrorun import cycle_plan, formats, jobs

wc = snakemake.wildcards
params = snakemake.params
with jobs.job(snakemake) as log:
    marker_times = formats.read_trc(snakemake.input.markers).time_s
    grf_times = formats.read_storage(snakemake.input.grf)[0]["time"].to_numpy(dtype=float)
    # a cycle is usable only where both the markers (IK) and the force (ID, SO) exist
    record = (max(float(marker_times[0]), float(grf_times[0])), min(float(marker_times[-1]), float(grf_times[-1])))
    result = cycle_plan.plan(
        pd.read_csv(snakemake.input.contacts),
        unit=params.unit,
        count=params.cycles,
        record_start_s=record[0],
        record_end_s=record[1],
        frame_s=float(np.median(np.diff(marker_times))),
        min_cycle_s=params.min_cycle_s,
        max_cycle_s=params.max_cycle_s,
        margin_s=params.margin_s,
        region_start_s=params.region["start_s"],
        region_end_s=params.region["end_s"],
        duration_tolerance=params.duration_tolerance,
        edge_frames=params.edge_frames,
        subject=wc.subject,
        trial=wc.trial,
    )
    formats.write_csv(snakemake.output.cycles, result.units)
    with formats.atomic_path(snakemake.output.span) as tmp:
        with open(tmp, "w") as handle:
            json.dump(result.span, handle, indent=2)
    for (side, status), count in result.units.groupby(["side", "status"]).size().items():
        log.info("side %s: %d %s(s) %s", side, count, params.unit, status)
    span = result.span
    log.info(
        "SO runs over %.3f-%.3f s, IK and ID over %.3f-%.3f s",
        span["so_start_s"],
        span["so_end_s"],
        span["ik_start_s"],
        span["ik_end_s"],
    )
    if result.warning:
        log.warning("%s", result.warning)
