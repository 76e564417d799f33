"""Stage gait_geometry: one trial's foot placement, COM over the hips and strike pattern per
used cycle (retrorun.gait_geometry), from the analysis's model and coordinates and the
prepared GRF's centre of pressure."""

import pandas as pd

from retrorun import formats, gait_geometry, jobs

inp = snakemake.input
params = snakemake.params
with jobs.job(snakemake) as log:
    cycles = pd.read_csv(inp.cycles)
    used = cycles[cycles["status"] == "used"]
    if len(used):
        margin = 0.05
        points, neutral, legs = gait_geometry.body_points(
            inp.model,
            pd.read_csv(inp.coordinates),
            params.sides,
            start_s=float(used["strike_s"].min()) - margin,
            end_s=float(used["toe_off_s"].max()) + margin,
        )
        for side, leg in legs.items():
            log.info("side %s: %s; neutral foot angle %.1f deg", side, leg, neutral[side])
        table = gait_geometry.cycle_geometry(
            points, cycles, pd.read_csv(inp.grf), neutral_foot_angle_deg=neutral, threshold_n=params.threshold_n
        )
    else:
        table = gait_geometry.cycle_geometry(pd.DataFrame(), used, None, neutral_foot_angle_deg={}, threshold_n=0.0)
    formats.write_csv(snakemake.output.geometry, table)
    log.info("%d cycle(s) measured", len(table))
    for note in sorted(set(table["note"].dropna()) - {""}):
        log.warning("%s", note)
