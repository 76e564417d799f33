"""Rule process_emg: one trial's EMG processed to envelopes (not yet normalised) over
the span where SO runs (analysis_span.json)."""

from retrorun import cycle_plan, emg, formats, jobs
from retrorun.errors import InputError

wc = snakemake.wildcards
settings = snakemake.params.settings
with jobs.job(snakemake) as log:
    recording = emg.read_emg(snakemake.input.emg, subject=wc.subject, trial=wc.trial)
    span = cycle_plan.read_span(snakemake.input.span)
    covers = (span["so_start_s"], span["so_end_s"])
    problems, warnings = emg.check_recording(recording, settings, covers=covers)
    if problems:
        raise InputError("; ".join(problems), subject=wc.subject, trial=wc.trial, fix="see config/README.md, emg")
    for warning in warnings:
        log.warning("%s", warning)
    dead = emg.dead_channels(recording.table, [c for c in settings["channels"] if c in recording.labels])
    for channel in dead:
        log.warning(
            "EMG channel %s of %s has no signal (all NaN or constant): left out of this trial", channel, recording.path
        )
    processed = emg.process(
        recording, settings, start_s=covers[0], end_s=covers[1], rate_hz=settings["envelope_rate_hz"]
    )
    log.info(
        "%s: %d channel(s) at %.0f Hz, %s, %.3f-%.3f s",
        recording.path,
        processed.shape[1] - 1,
        recording.rate_hz,
        settings["signal"],
        *covers,
    )
    formats.write_csv(snakemake.output.processed, processed)
