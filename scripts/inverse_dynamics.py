"""Rule inverse_dynamics: generalized forces from the filtered IK and GRF."""
import os
from pathlib import Path

from retrorun import formats, jobs, opensim_tools, tables

wc = snakemake.wildcards
out = snakemake.output
with jobs.job(snakemake, stage="inverse_dynamics", subject=wc.subject, trial=wc.trial, trial_dir=Path(out.sto).parent) as log:
    work = Path(out.sto).parent / "work"
    coordinates, _ = formats.read_storage(snakemake.input.coordinates)
    loads, _ = formats.read_storage(snakemake.input.grf)
    first = max(coordinates["time"].iloc[0], loads["time"].iloc[0])
    last = min(coordinates["time"].iloc[-1], loads["time"].iloc[-1])
    raw = work / "id.sto"
    opensim_tools.inverse_dynamics(model_path=snakemake.input.model, coordinates_mot=snakemake.input.coordinates,
                                   external_loads_xml=snakemake.input.external_loads, time_range=(first, last),
                                   out_sto=str(raw), work_dir=str(work), name="id", subject=wc.subject, trial=wc.trial)
    table, _ = formats.read_storage(raw)
    formats.write_csv(out.table, tables.generalized_forces_table(table))
    os.replace(raw, out.sto)
    log.info("ID %d frames %.3f-%.3f s", len(table), first, last)
