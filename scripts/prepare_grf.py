"""Stage prepare_grf: turn the trial's GRF into the runner's facing frame (heading.json),
filter it with the kinematics' cutoff, write the OpenSim .mot and external loads ID/SO
read, and a per-side tidy table."""

import numpy as np

from retrorun import cycle_plan, formats, jobs, templates
from retrorun import grf as grf_lib
from retrorun import heading as heading_lib

wc = snakemake.wildcards
with jobs.job(snakemake) as log:
    table, _ = formats.read_storage(snakemake.input.grf)
    span = cycle_plan.read_span(snakemake.input.span)
    heading = heading_lib.read_heading(snakemake.input.heading)
    table = heading_lib.turn_forces(table, templates.external_forces(snakemake.input.external_loads), heading)
    prepared, per_side = grf_lib.prepare_grf(
        table,
        external_loads=snakemake.input.external_loads,
        window={"start_s": span["ik_start_s"], "end_s": span["ik_end_s"]},
        margin_s=0.0,
        cutoff_hz=snakemake.params.filter_hz,
        contact_threshold_n=snakemake.params.contact_threshold_n,
        sides=snakemake.params.sides,
        subject=wc.subject,
        trial=wc.trial,
        source=snakemake.input.grf,
    )
    formats.write_storage(snakemake.output.mot, prepared, in_degrees=False, name="grf")
    templates.write_external_loads(
        snakemake.input.external_loads, snakemake.output.external_loads, datafile=snakemake.output.mot
    )
    formats.write_csv(snakemake.output.table, per_side)
    log.info(
        "GRF turned by %.1f deg into the runner's facing frame; %d frames %.3f-%.3f s, peak vertical %.0f N",
        -heading.heading_deg,
        len(prepared),
        prepared["time"].iloc[0],
        prepared["time"].iloc[-1],
        np.max(per_side.filter(like="_force_y_n").sum(axis=1)),
    )
