"""Stage static_optimization: merge the SO chunks of a trial into its SO tables."""

import pandas as pd

from retrorun import formats, jobs, so_chunks, tables
from retrorun.errors import MuscleError

wc = snakemake.wildcards
out = snakemake.output
with jobs.job(snakemake) as log:
    chunk_files = sorted(snakemake.input.chunks, key=so_chunks.chunk_index)
    activation = so_chunks.merge([formats.read_storage(p)[0] for p in chunk_files if p.endswith("so_activation.sto")])
    force = so_chunks.merge([formats.read_storage(p)[0] for p in chunk_files if p.endswith("so_force.sto")])
    actuators = pd.read_csv(snakemake.input.actuators)
    muscles = [c for c in activation.columns[1:] if c not in set(actuators["name"])]
    activations = tables.activations_table(activation, muscles=muscles)
    if activations.drop(columns="time_s").isna().to_numpy().any():
        raise MuscleError(
            "static optimization returned NaN activations",
            subject=wc.subject,
            trial=wc.trial,
            fix="keep more IK data around the window (ik_margin_s) or raise max_isometric_force_scale",
        )
    formats.write_storage(out.activations_sto, activation, in_degrees=False, name="so_activation")
    formats.write_storage(out.forces_sto, force, in_degrees=False, name="so_force")
    formats.write_csv(out.activations, activations)
    formats.write_csv(
        out.forces,
        tables.forces_table(
            force, muscles=muscles, rotational_actuators=dict(zip(actuators["name"], actuators["rotational"]))
        ),
    )
    formats.write_csv(out.actuators, actuators)
    log.info(
        "SO %d frames %.3f-%.3f s from %d chunk(s)",
        len(activations),
        activations["time_s"].iloc[0],
        activations["time_s"].iloc[-1],
        len(chunk_files) // 2,
    )
