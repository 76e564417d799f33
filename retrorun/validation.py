"""Checks of a study's files against each other and the model, before any job starts.

Every problem found is collected and reported at once, each naming the subject,
trial, file and what to change. Files that the workflow itself generates (the demo
study, C3D imports) are checked by the rule that writes them instead.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import Study
from .errors import ConfigError, InputError
from .formats import read_storage, read_trc
from . import templates

RESULTS_MARKER = f"{Path('results').resolve()}/"
# The demo model is built by a rule (workflow/rules/model.smk) into models/<name>/generated/.
GENERATED_MODELS_MARKER = f"{Path(__file__).resolve().parents[1] / 'models'}/"


def _generated(path: str | None) -> bool:
    if not path:
        return False
    resolved = str(Path(path).resolve())
    return resolved.startswith(RESULTS_MARKER) or (resolved.startswith(GENERATED_MODELS_MARKER) and "/generated/" in resolved)


def _is_c3d(path: str | None) -> bool:
    return bool(path) and str(path).lower().endswith(".c3d")


def validate_study_inputs(study: Study, *, load_model: bool = True) -> list[str]:
    """Raise one ConfigError listing every problem with the study's files; return warnings."""
    problems: list[str] = []
    warnings: list[str] = []
    config = study.config
    model_cfg = config["model"]
    for key in ("osim", "marker_set", "scale_setup", "ik_tasks", "external_loads"):
        path = model_cfg.get(key)
        if path and not _generated(path) and not Path(path).is_file():
            problems.append(f"config model.{key}: file {path} does not exist (paths are relative to the config's folder)")
    if problems:
        raise ConfigError("model files are missing:\n  - " + "\n  - ".join(problems), fix="correct the paths in the config")
    model_names = None
    # A generated model is checked once it exists (the second run on): before that the
    # rule that builds it is the only thing that can go wrong, and it says so itself.
    if load_model and Path(model_cfg["osim"]).is_file():
        model_names = model_inventory(model_cfg["osim"], marker_set=model_cfg.get("marker_set"))
        template_problems, template_warnings = check_templates(config, model_names)
        problems += template_problems
        warnings += template_warnings
        problems += check_muscle_groups(config, model_names)
        problems += check_residual_reduction(config, model_names)
    problems += check_subject_files(study)
    problems += check_trial_files(study, model_names)
    if problems:
        raise ConfigError("the study's files do not fit together:\n  - " + "\n  - ".join(problems),
                          fix="correct the files or the config as each line says")
    return warnings


def model_inventory(osim_path: str, *, marker_set: str | None) -> dict[str, set[str]]:
    """Names of bodies, coordinates, markers and muscles in the model (with the marker set file)."""
    from .opensim_tools import load_model, quiet_console  # OpenSim is imported only when a model is checked
    import opensim as osim

    with quiet_console():
        model = load_model(osim_path)
    markers = {m.getName() for m in model.getMarkerSet()}
    if marker_set:
        try:
            markers |= {m.getName() for m in osim.MarkerSet(str(marker_set))}
        except Exception as err:
            raise InputError(f"OpenSim cannot read the marker set {marker_set}", opensim_message=str(err),
                             fix="give model.marker_set an OpenSim MarkerSet XML") from None
    return {
        "bodies": {b.getName() for b in model.getBodySet()} | {"ground"},
        "coordinates": {c.getName() for c in model.getCoordinateSet()},
        "markers": markers,
        "muscles": {m.getName() for m in model.getMuscles()},
    }


def check_templates(config: dict, names: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the templates against the model."""
    problems, warnings = [], []
    model_cfg = config["model"]
    scale = templates.scale_template(model_cfg["scale_setup"])
    # OpenSim skips a BodyScale for a body the model lacks, so this only warns
    # (gait2392's own setup scales patellae that gait2392 does not have).
    for body in sorted(scale.measurement_bodies - names["bodies"]):
        warnings.append(f"scale setup {model_cfg['scale_setup']}: measurement scales body '{body}', which the model lacks; "
                        f"OpenSim skips it")
    for marker in sorted((scale.measurement_markers | set(scale.placer_weights)) - names["markers"]):
        problems.append(f"scale setup {model_cfg['scale_setup']}: marker '{marker}' is not in the model's marker set "
                        f"(add it to the model/marker set or remove it from the setup)")
    tasks = templates.ik_task_set(model_cfg["ik_tasks"])
    for marker in sorted(set(templates.marker_weights(tasks)) - names["markers"]):
        problems.append(f"IK tasks {model_cfg['ik_tasks']}: marker '{marker}' is not in the model's marker set "
                        f"(add it to the model or remove the task)")
    for coordinate in sorted(set(templates.coordinate_tasks(tasks)) - names["coordinates"]):
        problems.append(f"IK tasks {model_cfg['ik_tasks']}: coordinate '{coordinate}' is not in the model")
    if not _generated(model_cfg["external_loads"]):
        problems += _check_external_loads(model_cfg["external_loads"], names, config["sides"])
    return problems, warnings


def _check_external_loads(path: str, names: dict[str, set[str]], sides: dict[str, str]) -> list[str]:
    problems = []
    for spec in templates.external_forces(path):
        for what, body in (("applied_to_body", spec.applied_to_body), ("force_expressed_in_body", spec.force_expressed_in_body),
                           ("point_expressed_in_body", spec.point_expressed_in_body)):
            if body not in names["bodies"]:
                problems.append(f"external loads {path}: ExternalForce '{spec.name}' {what} '{body}' is not a body of the model")
        if not any(spec.applied_to_body.endswith(suffix) for suffix in sides.values()):
            problems.append(f"external loads {path}: ExternalForce '{spec.name}' acts on '{spec.applied_to_body}', "
                            f"whose name ends in none of the side suffixes {sorted(sides.values())} (config 'sides')")
    return problems


def check_muscle_groups(config: dict, names: dict[str, set[str]]) -> list[str]:
    problems = []
    for group, muscles in config["muscle_groups"].items():
        for muscle in muscles:
            for side, suffix in config["sides"].items():
                if f"{muscle}{suffix}" not in names["muscles"]:
                    problems.append(f"config muscle_groups.{group}: muscle '{muscle}{suffix}' (side {side}) is not in the model "
                                    f"(model muscles: {', '.join(sorted(names['muscles'])[:12])}...)")
    return problems


def check_residual_reduction(config: dict, names: dict[str, set[str]]) -> list[str]:
    reduction = config.get("residual_reduction", {})
    body = reduction.get("adjusted_body")
    if reduction.get("method", "none") != "none" and body not in names["bodies"] - {"ground"}:
        return [f"config residual_reduction.adjusted_body: body '{body}' is not in the model (model bodies: "
                f"{', '.join(sorted(names['bodies'] - {'ground'}))}); name the body whose COM residual reduction may move"]
    return []


def check_subject_files(study: Study) -> list[str]:
    problems = []
    for row in study.subjects.to_dict("records"):
        path = row["static_markers"]
        if _is_c3d(path):
            window = (row.get("static_start_s"), row.get("static_end_s"))
            problems += [f"subject {row['subject']}: static_markers: {p}"
                         for p in check_c3d(path, config=study.config, need_plates=False, window=window)]
            continue
        if _generated(path):
            continue
        try:
            markers = read_trc(path)
        except InputError as err:
            problems.append(f"subject {row['subject']}: static_markers: {err.message} ({err.fix})")
            continue
        problems += [f"subject {row['subject']}: {p}" for p in check_marker_timing(markers, path)]
        for key in ("static_start_s", "static_end_s"):
            value = row.get(key)
            if value is not None and not np.isnan(value) and not markers.time_s[0] - 1e-6 <= value <= markers.time_s[-1] + 1e-6:
                problems.append(f"subject {row['subject']}: {key} {value:g} s is outside the static trial {path} "
                                f"({markers.time_s[0]:g}-{markers.time_s[-1]:g} s)")
    return problems


def check_trial_files(study: Study, names: dict[str, set[str]] | None) -> list[str]:
    problems = []
    ik_markers = set()  # markers the IK tasks weight: checked against each trial once the model is known
    if names is not None:
        weights = templates.marker_weights(templates.ik_task_set(study.config["model"]["ik_tasks"]))
        ik_markers = {m for m, w in weights.items() if w > 0}
    for row in study.trials.to_dict("records"):
        where = f"subject {row['subject']}, trial {row['trial']}"
        if _is_c3d(row["markers"]):
            problems += [f"{where}: {p}" for p in check_c3d(row["markers"], config=study.config, need_plates=True,
                                                             window=(row["start_s"], row["end_s"]),
                                                             external_loads=row.get("external_loads") or
                                                             study.config["model"]["external_loads"])]
            continue
        if _generated(row["markers"]):
            continue
        try:
            markers = read_trc(row["markers"])
        except InputError as err:
            problems.append(f"{where}: markers: {err.message} ({err.fix})")
            continue
        problems += [f"{where}: {p}" for p in check_marker_timing(markers, row["markers"])]
        start = row["start_s"] if not np.isnan(row["start_s"]) else markers.time_s[0]
        end = row["end_s"] if not np.isnan(row["end_s"]) else markers.time_s[-1]
        if start < markers.time_s[0] - 1e-6 or end > markers.time_s[-1] + 1e-6:
            problems.append(f"{where}: the analysis window {start:g}-{end:g} s is outside the markers in {row['markers']} "
                            f"({markers.time_s[0]:g}-{markers.time_s[-1]:g} s); correct start_s/end_s in the trials sheet")
        aliases = study.config.get("marker_aliases") or {}
        if ik_markers and not ik_markers & {aliases.get(name, name) for name in markers.marker_names}:
            problems.append(f"{where}: none of the IK task markers are in {row['markers']} (it has "
                            f"{', '.join(markers.marker_names[:8])}...): rename the markers, or add marker_aliases to the config")
        grf_path = row.get("grf")
        if not grf_path or _generated(grf_path):
            continue
        try:
            grf, _ = read_storage(grf_path)
        except InputError as err:
            problems.append(f"{where}: grf: {err.message} ({err.fix})")
            continue
        steps = np.diff(grf["time"].to_numpy())
        if np.any(steps <= 0):
            bad = int(np.flatnonzero(steps <= 0)[0])
            problems.append(f"{where}: the time column of {grf_path} does not increase at data row {bad + 2} "
                            f"({grf['time'].iloc[bad]:g} -> {grf['time'].iloc[bad + 1]:g} s); export the GRF again "
                            f"without repeated or reordered rows")
            continue
        if grf["time"].iloc[0] > start + 1e-6 or grf["time"].iloc[-1] < end - 1e-6:
            problems.append(f"{where}: the GRF in {grf_path} covers {grf['time'].iloc[0]:g}-{grf['time'].iloc[-1]:g} s, "
                            f"not the whole analysis window {start:g}-{end:g} s; correct start_s/end_s or the GRF file")
        loads = row.get("external_loads") or study.config["model"]["external_loads"]
        if _generated(loads):
            continue
        try:
            specs = templates.external_forces(loads)
        except InputError as err:
            problems.append(f"{where}: {err.message}")
            continue
        in_window = (grf["time"] >= start - 1e-6) & (grf["time"] <= end + 1e-6)
        peak_vertical, readable = 0.0, bool(specs)
        for spec in specs:
            missing = [c for cols in spec.columns().values() for c in cols if c not in grf.columns]
            if missing:
                problems.append(f"{where}: the GRF file {grf_path} lacks column(s) {', '.join(missing)} that ExternalForce "
                                f"'{spec.name}' in {loads} reads; fix the identifiers in the external loads file or the GRF columns")
                readable = False
                continue
            problems += [f"{where}: {p}" for p in check_grf_values(
                grf[in_window], spec, grf_path=grf_path, threshold_n=study.config["grf"]["contact_threshold_n"])]
            vertical = grf.loc[in_window, spec.columns()["force"][1]].to_numpy(dtype=float)
            peak_vertical = max(peak_vertical, float(np.nanmax(vertical, initial=0.0)))
        if readable and peak_vertical < study.config["grf"]["contact_threshold_n"]:
            problems.append(f"{where}: no foot contact: the vertical force in {grf_path} never reaches "
                            f"grf.contact_threshold_n = {study.config['grf']['contact_threshold_n']:g} N in the analysis window "
                            f"{start:g}-{end:g} s (peak {peak_vertical:.1f} N); check the GRF file belongs to this trial, "
                            f"its vertical axis is Y, and start_s/end_s")
    return problems


def check_marker_timing(markers, path: str) -> list[str]:
    """A TRC's time column must increase and agree with its declared DataRate."""
    steps = np.diff(markers.time_s)
    if len(steps) == 0:
        return []  # a one-frame static trial has no timing to check
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0])
        return [f"{path}: the Time column does not increase at frame {bad + 2} ({markers.time_s[bad]:g} -> "
                f"{markers.time_s[bad + 1]:g} s); export the trial again"]
    # Every time should sit on the DataRate grid (to rounding of the cells, e.g. 60 Hz
    # written as 0.017 s), with consecutive frames one grid step apart; a few larger
    # steps are frames missing from the export (gaps), not a wrong rate.
    period = 1.0 / markers.rate_hz
    grid = np.rint((markers.time_s - markers.time_s[0]) / period)
    off_grid = np.abs(markers.time_s - markers.time_s[0] - grid * period) > 0.25 * period
    grid_steps = np.diff(grid)
    if off_grid.any() or np.any(grid_steps < 1) or np.median(grid_steps) != 1:
        measured = (len(steps)) / float(markers.time_s[-1] - markers.time_s[0])
        return [f"{path}: DataRate says {markers.rate_hz:g} Hz but the Time column steps at {measured:.4g} Hz; "
                f"correct DataRate in the TRC header (line 3) or the Time column"]
    return []


def check_grf_values(grf, spec, *, grf_path: str, threshold_n: float) -> list[str]:
    """NaN cells and downward vertical force in the columns one ExternalForce reads."""
    problems = []
    columns = [c for cols in spec.columns().values() for c in cols]
    for column in columns:
        empty = grf[column].isna().to_numpy()
        if empty.any():
            first = float(grf["time"].to_numpy()[empty][0])
            problems.append(f"the GRF file {grf_path}: column '{column}' has {int(empty.sum())} empty/NaN value(s) in the "
                            f"analysis window (first at {first:g} s); fill them (zero force out of contact) or export again")
    vertical = spec.columns()["force"][1]
    values = grf[vertical].to_numpy(dtype=float)
    if np.nanmin(values, initial=0.0) < -threshold_n:
        at = float(grf["time"].to_numpy()[np.nanargmin(values)])
        problems.append(f"the GRF file {grf_path}: column '{vertical}' goes down to {np.nanmin(values):.0f} N at {at:g} s: "
                        f"the ground can only push up, so the force sign or axes are wrong (OpenSim's vertical is +Y); "
                        f"export the reaction force in OpenSim's frame")
    return problems


def check_c3d(path: str, *, config: dict, need_plates: bool, window: tuple | None = None,
              external_loads: str | None = None) -> list[str]:
    """Problems with a C3D trial found by reading it: units, plates, window, foot markers."""
    from . import c3d

    settings = config["c3d"]
    try:
        trial = c3d.read_c3d(path, axes=settings["axes"], cop_threshold_n=settings["cop_threshold_n"],
                             plate_force=settings["plate_force"])
    except InputError as err:
        return [f"{err.message} ({err.fix})"]
    problems = []
    times = trial.markers.time_s
    if window is not None:
        start, end = (np.nan if w is None or pd.isna(w) else float(w) for w in window)
        start = times[0] if np.isnan(start) else start
        end = times[-1] if np.isnan(end) else end
        if start < times[0] - 1e-6 or end > times[-1] + 1e-6:
            problems.append(f"the analysis window {start:g}-{end:g} s is outside the markers in {path} "
                            f"({times[0]:g}-{times[-1]:g} s); correct start_s/end_s in the trials sheet")
    if not need_plates:
        return problems
    if not trial.plates:
        return problems + [f"{path} holds no force platform (FORCE_PLATFORM:USED is 0); give the GRF as a .mot in column "
                           f"'grf' with a TRC in 'markers', or export the C3D with its plates"]
    loaded = [p.number for p in trial.plates if np.nanmax(p.force_n[:, c3d.VERTICAL]) >= settings["cop_threshold_n"]]
    if not loaded:
        problems.append(f"no foot contact: no force plate in {path} reaches c3d.cop_threshold_n = "
                        f"{settings['cop_threshold_n']:g} N; check the plates were recorded, or lower the threshold")
    if external_loads and not _generated(external_loads):
        written = {f"{prefix}{axis}" for side in config["sides"] for axis in "xyz"
                   for prefix in (f"ground_force_{side}_v", f"ground_force_{side}_p", f"ground_torque_{side}_")}
        written |= {f"plate{p.number}_{kind}{axis}" for p in trial.plates for axis in "xyz"
                    for kind in ("force_v", "force_p", "torque_")}
        try:
            specs = templates.external_forces(external_loads)
        except InputError as err:
            specs, problems = [], problems + [f"{err.message} ({err.fix})"]
        for spec in specs:
            missing = [c for cols in spec.columns().values() for c in cols if c not in written]
            if missing:
                problems.append(f"external loads {external_loads}: ExternalForce '{spec.name}' reads {', '.join(missing)}, "
                                f"which the C3D import of {Path(path).name} does not write; name the per-foot columns "
                                f"ground_force_<side>_v, ground_force_<side>_p, ground_torque_<side>_ (config/README.md, c3d)")
    unknown = sorted({str(v) for v in settings["plate_sides"].values()} - set(config["sides"]))
    if unknown:
        problems.append(f"config c3d.plate_sides names side(s) {unknown}, not among the config's sides {sorted(config['sides'])}")
    if not settings["plate_sides"]:
        for side, names in settings["foot_markers"].items():
            if not set(names) & set(trial.markers.marker_names):
                problems.append(f"{path} has none of the foot markers {names} of side '{side}' (config c3d.foot_markers), "
                                f"so plates cannot be given to feet; name the lab's foot markers there (it has "
                                f"{', '.join(trial.markers.marker_names[:12])}...) or set c3d.plate_sides")
    return problems
