"""Checks of a study's files against each other and the model, before any job starts.

Every problem found is collected and reported at once, each naming the subject,
trial, file and what to change. Files that the workflow itself generates (the demo
study, C3D imports) are checked by the rule that writes them instead.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import Study
from .errors import ConfigError, InputError
from .formats import read_storage, read_trc
from . import templates

RESULTS_MARKER = f"{Path('results').resolve()}/"


def _generated(path: str | None) -> bool:
    return bool(path) and str(Path(path).resolve()).startswith(RESULTS_MARKER)


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
    if load_model and not _generated(model_cfg["osim"]):
        model_names = model_inventory(model_cfg["osim"], marker_set=model_cfg.get("marker_set"))
        template_problems, template_warnings = check_templates(config, model_names)
        problems += template_problems
        warnings += template_warnings
        problems += check_muscle_groups(config, model_names)
    problems += check_subject_files(study)
    problems += check_trial_files(study, model_names)
    if problems:
        raise ConfigError("the study's files do not fit together:\n  - " + "\n  - ".join(problems),
                          fix="correct the files or the config as each line says")
    return warnings


def model_inventory(osim_path: str, *, marker_set: str | None) -> dict[str, set[str]]:
    """Names of bodies, coordinates, markers and muscles in the model (with the marker set file)."""
    from .opensim_tools import load_model  # OpenSim is imported only when a model is checked
    import opensim as osim

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


def check_subject_files(study: Study) -> list[str]:
    problems = []
    for row in study.subjects.to_dict("records"):
        path = row["static_markers"]
        if _generated(path) or _is_c3d(path):
            continue
        try:
            markers = read_trc(path)
        except InputError as err:
            problems.append(f"subject {row['subject']}: static_markers: {err.message} ({err.fix})")
            continue
        for key in ("static_start_s", "static_end_s"):
            value = row.get(key)
            if value is not None and not np.isnan(value) and not markers.time_s[0] - 1e-6 <= value <= markers.time_s[-1] + 1e-6:
                problems.append(f"subject {row['subject']}: {key} {value:g} s is outside the static trial {path} "
                                f"({markers.time_s[0]:g}-{markers.time_s[-1]:g} s)")
    return problems


def check_trial_files(study: Study, names: dict[str, set[str]] | None) -> list[str]:
    problems = []
    for row in study.trials.to_dict("records"):
        where = f"subject {row['subject']}, trial {row['trial']}"
        if _generated(row["markers"]) or _is_c3d(row["markers"]):
            continue
        try:
            markers = read_trc(row["markers"])
        except InputError as err:
            problems.append(f"{where}: markers: {err.message} ({err.fix})")
            continue
        start = row["start_s"] if not np.isnan(row["start_s"]) else markers.time_s[0]
        end = row["end_s"] if not np.isnan(row["end_s"]) else markers.time_s[-1]
        if start < markers.time_s[0] - 1e-6 or end > markers.time_s[-1] + 1e-6:
            problems.append(f"{where}: the analysis window {start:g}-{end:g} s is outside the markers in {row['markers']} "
                            f"({markers.time_s[0]:g}-{markers.time_s[-1]:g} s); correct start_s/end_s in the trials sheet")
        if names is not None:
            weights = templates.marker_weights(templates.ik_task_set(study.config["model"]["ik_tasks"]))
            used = {m for m, w in weights.items() if w > 0}
            if used and not used & set(markers.marker_names):
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
        for spec in specs:
            missing = [c for cols in spec.columns().values() for c in cols if c not in grf.columns]
            if missing:
                problems.append(f"{where}: the GRF file {grf_path} lacks column(s) {', '.join(missing)} that ExternalForce "
                                f"'{spec.name}' in {loads} reads; fix the identifiers in the external loads file or the GRF columns")
    return problems
