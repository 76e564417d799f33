"""Rule trial_qc: one trial's quality metrics against the config thresholds."""
import json
from pathlib import Path

import pandas as pd

from retrorun import formats, jobs, qc, tables

wc = snakemake.wildcards
inp = snakemake.input
with jobs.job(snakemake, stage="qc", subject=wc.subject, trial=wc.trial) as log:
    forces = pd.read_csv(inp.forces)
    start, end = forces["time_s"].iloc[0], forces["time_s"].iloc[-1]
    ik_errors = tables.window(pd.read_csv(inp.ik_errors), start, end)
    grf = tables.window(pd.read_csv(inp.grf), start, end)
    id_forces = tables.window(pd.read_csv(inp.id_forces), start, end)
    actuators = pd.read_csv(inp.actuators)
    metrics = {"subject": wc.subject, "trial": wc.trial, "condition": snakemake.params.condition, "status": "done",
               "failed_stage": "", "n_frames": len(forces), "window_start_s": float(start), "window_end_s": float(end)}
    metrics |= qc.scale_errors(pd.read_csv(inp.scale_errors))
    metrics |= qc.ik_errors(ik_errors)
    metrics |= qc.residuals(forces, actuators, grf)
    metrics |= qc.reserves(forces, actuators, id_forces)
    metrics |= qc.saturation(pd.read_csv(inp.activations), level=snakemake.params.thresholds["saturation_activation"])
    metrics |= qc.knee_extension_peaks(pd.read_csv(inp.cycle_metrics))
    metrics |= qc.cycles_used(pd.read_csv(inp.cycles))
    metrics |= qc.verdict(metrics, snakemake.params.thresholds)
    with formats.atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(json.dumps(metrics, indent=2, default=float))
    log.info("QC %s: %s", "pass" if metrics["pass"] else "FLAGGED", metrics["flags"] or "all thresholds met")
    if not metrics["n_cycles_used"]:
        log.warning("%s", json.loads(Path(inp.span).read_text())["warning"])
