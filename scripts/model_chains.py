"""Rule model_chains: each chain's summed max isometric force and force x moment arm
about the hip, knee and ankle, per subject and side, from the scaled models."""

import opensim
import pandas as pd

from retrorun import formats, jobs, model_properties, strength

params = snakemake.params
with jobs.job(snakemake) as log:
    settings = params.strength
    generic = opensim.Model(str(snakemake.input.generic_model))
    parts = []
    for path, subject in zip(snakemake.input.models, params.subjects):
        # the strength SO gives each muscle: OpenSim's ScaleTool does not scale forces
        factors = strength.strength_factors(
            law=settings["strength_scaling"],
            generic_model=generic,
            scaled_model=opensim.Model(str(path)),
            mass_kg=subject["mass_kg"],
            height_m=subject["height_m"],
            reference_height_m=settings["reference_height_m"],
            subject=subject["subject"],
        )
        factors = {name: f * settings["max_isometric_force_scale"] for name, f in factors.items()}
        table = model_properties.chain_capacities(
            path,
            chains=params.chains,
            sides=params.sides,
            coordinates=params.model_chains["coordinates"],
            extension_sign=model_properties.chain_extension_signs(
                path,
                model_chains=params.model_chains,
                analysis=params.analysis,
                quadriceps=params.quadriceps,
                sides=params.sides,
            ),
            force_factors=factors,
            subject=subject["subject"],
        )
        log.info("%s: %d chain x joint rows from %s", subject["subject"], len(table), path)
        parts.append(table)
    if not params.chains:
        log.warning("config chains is not set: model_chains.csv is empty")
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=model_properties.MODEL_CHAIN_COLUMNS)
    formats.write_csv(snakemake.output[0], out)
