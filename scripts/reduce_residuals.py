"""Rule reduce_residuals: residual reduction (config residual_reduction) from the whole
cycles of the trials in its scope (all of a subject's for mass_com, one trial otherwise);
writes the adjusted model (mass_com) and the change table."""

import shutil

import numpy as np
import pandas as pd

from retrorun import cycle_plan, formats, jobs, opensim_tools, tables
from retrorun import residual_reduction as rr
from retrorun.errors import InputError

inp = snakemake.input
out = snakemake.output
params = snakemake.params
settings = params.settings
with jobs.job(snakemake) as log:
    model = inp.model
    scaled = opensim_tools.load_model(model, what="scaled model")  # loaded once for every question below
    types = opensim_tools.coordinate_motion_types(scaled)
    body = settings["adjusted_body"]
    masses = opensim_tools.body_masses(scaled)
    problems = rr.check_adjusted_body(body, set(masses))
    if problems:
        raise InputError(
            f"{model}: " + "; ".join(problems),
            subject=params.subject,
            fix=f"set residual_reduction.adjusted_body to one of: {', '.join(masses)}",
        )
    gravity = opensim_tools.gravity_m_s2(scaled)
    rows, residuals = [], []
    for trial, id_path, ik_path, cycles_path, span_path in zip(
        params.trials, inp.id_forces, inp.coordinates, inp.cycles, inp.spans
    ):
        span = cycle_plan.read_span(span_path)
        start, end = span["so_start_s"], span["so_end_s"]
        spans, note = rr.averaging_windows(pd.read_csv(cycles_path), window_start_s=start, window_end_s=end)
        ik, header = formats.read_storage(ik_path)
        ik = tables.window(ik, start, end, time_column="time")
        id_forces = tables.window(pd.read_csv(id_path), start, end)
        roots, jacobians, body_rotations, com_heights = opensim_tools.root_jacobians(
            model=scaled,
            coordinates=ik,
            in_degrees=header.get("inDegrees", "no").lower().startswith("y"),
            body=body,
        )
        time_s = ik["time"].to_numpy()
        tau = rr.root_generalized_forces(id_forces, roots, rotational=types)
        tau = np.column_stack([np.interp(time_s, id_forces["time_s"], tau[:, k]) for k in range(tau.shape[1])])
        wrench = rr.wrench_from_generalized_forces(tau, jacobians)
        mean = rr.cycle_mean(time_s, wrench, spans)
        inside = np.zeros(len(time_s), dtype=bool)
        for a, b in spans:
            inside |= (time_s >= a) & (time_s <= b)
        acceleration = rr.mean_com_acceleration_y(time_s, com_heights, spans, subject=params.subject, trial=trial)
        residuals.append(rr.TrialResiduals(mean, body_rotations[inside], acceleration))
        rows.append(
            {
                "subject": params.subject,
                "trial": trial,
                "method": settings["method"],
                "averaged_over": note,
                "com_height_m": float(com_heights.mean()),
                "com_acceleration_y_m_s2": acceleration,
                **{f"mean_residual_{c}_before_reduction": v for c, v in zip(rr.WRENCH_COLUMNS, mean)},
            }
        )
        log.info(
            "%s: mean residual wrench over %s: %s; COM's mean vertical acceleration %.2f m/s^2",
            trial,
            note,
            ", ".join(f"{c} {v:.1f}" for c, v in zip(rr.WRENCH_COLUMNS, mean)),
            acceleration,
        )
    subject_row, new_masses, shift_body = rr.subject_changes(
        method=settings["method"],
        trials=residuals,
        masses_kg=masses,
        body=body,
        gravity=gravity,
        settings=settings,
    )
    table = pd.DataFrame([{**row, **subject_row} for row in rows], columns=[*rr.TRIAL_COLUMNS, *rr.SUBJECT_COLUMNS])
    if settings["method"] == "mass_com":
        opensim_tools.write_mass_com_model(
            model_path=model, out_model=out.model, body=body, com_shift_body_m=shift_body, masses_kg=new_masses
        )
        log.info(
            "%s COM moved by (%.4f, %.4f, %.4f) m in its frame%s; total mass %.2f -> %.2f kg%s",
            body,
            *shift_body,
            " (capped)" if subject_row["com_shift_capped"] else "",
            subject_row["mass_before_kg"],
            subject_row["mass_after_kg"],
            ""
            if subject_row["mass_change_applied"]
            else f" (recommended change {subject_row['mass_change_recommended_kg']:+.2f} kg REFUSED: above "
            f"residual_reduction.max_mass_change_kg {settings['max_mass_change_kg']} kg)",
        )
    else:
        shutil.copyfile(model, out.model)
    formats.write_csv(out.table, table)
    bodies = pd.DataFrame(
        {
            "body": list(masses),
            "mass_before_kg": list(masses.values()),
            "mass_after_kg": [new_masses[b] for b in masses],
        }
    )
    formats.write_csv(out.bodies, bodies)
