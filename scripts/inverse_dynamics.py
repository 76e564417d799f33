"""Stage inverse_dynamics and rule inverse_dynamics_after_reduction: generalized forces from
the filtered coordinates and GRF, on the given model."""

import os

from retrorun import formats, jobs, opensim_tools, tables

wc = snakemake.wildcards
out = snakemake.output
# the ID after residual reduction runs beside the first one: its own name keeps its
# setup and raw result in work/ apart
name = getattr(snakemake.params, "name", "id")
with jobs.job(snakemake) as log:
    work = jobs.trial_folder(snakemake) / "work"
    coordinates, _ = formats.read_storage(snakemake.input.coordinates)
    loads, _ = formats.read_storage(snakemake.input.grf)
    first = max(coordinates["time"].iloc[0], loads["time"].iloc[0])
    last = min(coordinates["time"].iloc[-1], loads["time"].iloc[-1])
    raw = work / f"{name}.sto"
    opensim_tools.inverse_dynamics(
        model_path=snakemake.input.model,
        coordinates_mot=snakemake.input.coordinates,
        external_loads_xml=snakemake.input.external_loads,
        time_range=(first, last),
        out_sto=str(raw),
        work_dir=str(work),
        name=name,
        subject=wc.subject,
        trial=wc.trial,
    )
    table, _ = formats.read_storage(raw)
    formats.write_csv(out.table, tables.generalized_forces_table(table))
    os.replace(raw, out.sto)
    log.info(
        "ID (%s) on %s and %s: %d frames %.3f-%.3f s",
        name,
        snakemake.input.model,
        snakemake.input.coordinates,
        len(table),
        first,
        last,
    )
