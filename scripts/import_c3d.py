"""Rule import_c3d: a C3D file to a TRC (markers in metres, OpenSim axes) and a GRF
.mot (per-foot and per-plate loads at the analog rate), plus the list of plate
contacts and the foot each went to."""

import pandas as pd

from retrorun import c3d, formats, jobs
from retrorun.errors import InputError

wc = snakemake.wildcards
settings = snakemake.params.c3d
static = snakemake.params.static
with jobs.job(snakemake) as log:
    sides = snakemake.params.sides
    trial = c3d.read_c3d(
        snakemake.input.c3d,
        axes=settings["axes"],
        cop_threshold_n=settings["cop_threshold_n"],
        plate_force=settings["plate_force"],
        subject=wc.subject,
        trial=wc.trial,
    )
    problems = (
        []
        if static
        else (
            c3d.check_plate_sides(settings["plate_sides"], sides)
            + c3d.check_force_plates(trial, threshold_n=settings["cop_threshold_n"])
            + c3d.check_foot_markers(trial, foot_markers=settings["foot_markers"], plate_sides=settings["plate_sides"])
        )
    )
    if problems:
        raise InputError(
            "; ".join(problems),
            subject=wc.subject,
            trial=wc.trial,
            fix="correct the C3D file or the config's c3d section as said above",
        )
    formats.write_trc(snakemake.output.trc, trial.markers)
    assignments = (
        []
        if static
        else c3d.assign_plates(
            trial,
            threshold_n=settings["cop_threshold_n"],
            foot_markers=settings["foot_markers"],
            plate_sides=settings["plate_sides"],
            subject=wc.subject,
            trial_id=wc.trial,
        )
    )
    for record in assignments:
        log.info(
            "plate %d %.3f-%.3f s -> side %s (%s)",
            record["plate"],
            record["start_s"],
            record["end_s"],
            record["side"],
            record["how"],
        )
    table = c3d.grf_table(trial, assignments, sides=sides)
    if len(table):
        formats.write_storage(snakemake.output.mot, table, in_degrees=False, name="grf")
    else:  # a static trial without analog data: the .mot is never read
        formats.write_storage(
            snakemake.output.mot, pd.DataFrame({"time": trial.markers.time_s[:1]}), in_degrees=False, name="grf"
        )
    formats.write_csv(
        snakemake.output.contacts,
        pd.DataFrame(
            [{k: r[k] for k in ("plate", "start_s", "end_s", "side", "how")} for r in assignments],
            columns=["plate", "start_s", "end_s", "side", "how"],
        ),
    )
    log.info(
        "%s: %d markers %d frames at %g Hz, %d plate(s), %d contacts",
        snakemake.input.c3d,
        len(trial.markers.marker_names),
        len(trial.markers.time_s),
        trial.markers.rate_hz,
        len(trial.plates),
        len(assignments),
    )
