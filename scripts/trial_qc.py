"""Stage trial_qc: one trial's quality metrics against the config thresholds."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from retrorun import formats, jobs, qc, speed, tables
from retrorun.heading import read_heading

wc = snakemake.wildcards
inp = snakemake.input
with jobs.job(snakemake) as log:
    forces = pd.read_csv(inp.forces)
    start, end = forces["time_s"].iloc[0], forces["time_s"].iloc[-1]
    ik_errors = tables.window(pd.read_csv(inp.ik_errors), start, end)
    grf = tables.window(pd.read_csv(inp.grf), start, end)
    id_forces = tables.window(pd.read_csv(inp.id_forces), start, end)
    actuators = pd.read_csv(inp.actuators)
    metrics = {
        "subject": wc.subject,
        "trial": wc.trial,
        "condition": snakemake.params.condition,
        "status": "done",
        "failed_stage": "",
        "n_frames": len(forces),
        "filter_cutoff_hz": float(snakemake.params.filter_hz),
        "window_start_s": float(start),
        "window_end_s": float(end),
        # which way the runner faced in the lab; every stage ran in its facing frame (retrorun.heading)
        "heading_deg": read_heading(inp.heading).heading_deg,
    }
    metrics |= qc.scale_errors(pd.read_csv(inp.scale_errors))
    metrics |= qc.ik_errors(ik_errors)
    metrics |= qc.residuals(forces, actuators, grf)
    metrics |= qc.reserves(forces, actuators, id_forces)
    metrics |= qc.saturation(pd.read_csv(inp.activations), level=snakemake.params.thresholds["saturation_activation"])
    metrics |= qc.knee_extension_peaks(pd.read_csv(inp.cycle_metrics))
    metrics |= qc.cycles_used(pd.read_csv(inp.cycles))
    metrics["speed_m_s"] = speed.trial_speed_m_s(pd.read_csv(inp.cycle_metrics))
    id_before = tables.window(pd.read_csv(inp.id_forces_before_reduction), start, end)
    metrics |= qc.residuals_before_reduction(id_before, actuators, grf)
    change = pd.read_csv(inp.reduction).set_index("trial").loc[wc.trial]
    metrics |= qc.residual_moment_shares(metrics, float(change["com_height_m"]))
    metrics |= qc.reduction_changes(change)
    thresholds = snakemake.params.thresholds
    limits = {
        "rotation_max_deg": thresholds["kinematic_change_rms_max_deg"],
        "translation_max_cm": thresholds["kinematic_change_rms_max_cm"],
    }
    if "rra_changes" in inp.keys():
        metrics |= qc.kinematic_changes(pd.read_csv(inp.rra_changes), **limits)
        shift = pd.read_csv(inp.rra_summary).iloc[0][["com_shift_x_m", "com_shift_y_m", "com_shift_z_m"]]
        metrics["com_shift_m"] = float(np.linalg.norm(shift.to_numpy(dtype=float)))
    metrics |= qc.with_flags(
        qc.verdict(metrics, thresholds),
        qc.reduction_flags(
            metrics,
            moment_share_max=thresholds["residual_moment_max_share_of_com_height_x_peak_grf"],
            max_mass_change_kg=snakemake.params.max_mass_change_kg,
            **limits,
        ),
    )
    with formats.atomic_path(snakemake.output.qc) as tmp:
        Path(tmp).write_text(json.dumps(metrics, indent=2, default=float))
    log.info("QC %s: %s", "pass" if metrics["pass"] else "FLAGGED", metrics["flags"] or "all thresholds met")
    if not metrics["n_cycles_used"]:
        log.warning("%s", json.loads(Path(inp.span).read_text())["warning"])
