"""Stage estimate_heading: which way the runner faces in the lab (retrorun.heading), from
the markers over the span IK runs on; IK and the GRF stage turn the trial by it."""

from retrorun import cycle_plan, formats, jobs
from retrorun import heading as heading_lib
from retrorun.markers import apply_aliases

wc = snakemake.wildcards
with jobs.job(snakemake) as log:
    span = cycle_plan.read_span(snakemake.input.span)
    markers = apply_aliases(
        formats.read_trc(snakemake.input.markers).window(span["ik_start_s"], span["ik_end_s"]),
        snakemake.params.aliases or {},
        subject=wc.subject,
        trial=wc.trial,
    )
    heading = heading_lib.face_model(
        markers, snakemake.input.model, snakemake.input.get("marker_set"), wc.subject, wc.trial
    )
    heading.write(snakemake.output.heading)
    log.info(
        "runner faces %.1f deg from the lab's +X (%s; pelvis marker fit %.1f deg, per-frame spread %.1f deg, "
        "%d frames, markers %s); "
        "markers and GRF are turned by %.1f deg about the vertical, with the lab's (%.3f, %.3f) m as origin",
        heading.heading_deg,
        f"line of travel at {heading.travel_m_s:.2f} m/s" if heading.from_travel else "pelvis markers",
        heading.marker_fit_deg,
        heading.spread_deg,
        heading.frames,
        ", ".join(heading.markers),
        -heading.heading_deg,
        heading.origin_m[0],
        heading.origin_m[2],
    )
