"""Checks of a study's files against each other and the model, before any job starts.

Every problem found is collected and reported at once, each naming the subject,
trial, file and what to change. A stage's own preconditions are its module's
``check_...()`` functions (grf, c3d, markers, groups, strength, residual_reduction),
which the stage raises with when it runs: here they are only called, on the study's
files. Files that the workflow itself generates (the demo study, C3D imports) are
checked by the rule that reads or writes them instead.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import json
import math
import multiprocessing
import os
from pathlib import Path

import numpy as np

from . import c3d as c3d_lib
from . import emg, groups, heading, jobs, residual_reduction, strength, templates
from . import grf as grf_lib
from .code_version import package_source_digest
from .config import PATH_KEYS_MODEL, RESULTS_ROOT, Study, is_c3d
from .errors import ConfigError, InputError
from .formats import atomic_path, read_storage, read_trc_times
from .markers import check_marker_timing

# The demo model is built by a rule (workflow/rules/model.smk) into models/<name>/generated/.
GENERATED_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _generated(path: str | Path | None) -> bool:
    """Whether a workflow rule writes the file (checked by that rule instead): below
    results/ of the directory Snakemake runs in, or a generated model."""
    if not path:
        return False
    resolved = Path(path).resolve()
    return resolved.is_relative_to(_results_root(os.getcwd())) or (
        resolved.is_relative_to(GENERATED_MODELS_DIR) and "generated" in resolved.parts
    )


@functools.cache
def _results_root(cwd: str) -> Path:
    """results/ of the directory Snakemake runs in, resolved once per directory (every
    trial's check asks for it several times)."""
    return (Path(cwd) / RESULTS_ROOT).resolve()


def validate_study_inputs(study: Study, *, load_model: bool = True, cache_dir: Path | None = None) -> list[str]:
    """Raise one ConfigError listing every problem with the study's files; return warnings.

    With cache_dir, what each recording and the model were found to hold is remembered
    there (ValidationCache) and a file is read again only once it changed."""
    cache = ValidationCache(cache_dir)
    try:
        return _validate_study_inputs(study, load_model=load_model, cache=cache)
    finally:
        cache.save()


def _validate_study_inputs(study: Study, *, load_model: bool, cache: ValidationCache) -> list[str]:
    problems: list[str] = []
    warnings: list[str] = []
    config = study.config
    model_cfg = config["model"]
    for key in PATH_KEYS_MODEL:
        path = model_cfg.get(key)
        if path and not _generated(path) and not Path(path).is_file():
            problems.append(
                f"config model.{key}: file {path} does not exist (paths are relative to the config's folder)"
            )
    if problems:
        raise ConfigError(
            "model files are missing:\n  - " + "\n  - ".join(problems), fix="correct the paths in the config"
        )
    model_names = None
    # A generated model is checked once it exists (the second run on): before that the
    # rule that builds it is the only thing that can go wrong, and it says so itself.
    if load_model and Path(model_cfg["osim"]).is_file():
        model_names = cached_model_inventory(cache, model_cfg["osim"], marker_set=model_cfg.get("marker_set"))
        template_problems, template_warnings = check_templates(config, model_names)
        problems += template_problems
        warnings += template_warnings
        problems += check_muscle_groups(config, model_names)
        problems += check_residual_reduction(config, model_names)
    law = config["static_optimization"]["strength_scaling"]
    for subject in study.subjects:
        problems += strength.check_subject_size(
            law=law, mass_kg=subject.mass_kg, height_m=subject.height_m, subject=subject.name
        )
    problems += check_subject_files(study, cache)
    problems += check_trial_files(study, model_names, cache)
    emg_problems, emg_warnings = emg.check_study(
        study,
        model_names["muscles"] if model_names else None,
        generated=_generated,
        check_files=lambda calls: cache.values(
            "emg",
            emg.check_recording_file,
            [CheckCall(files=emg.recording_files(call["path"], call["trial"]), arguments=call) for call in calls],
        ),
    )
    problems += emg_problems
    warnings += emg_warnings
    if problems:
        raise ConfigError(
            "the study's files do not fit together:\n  - " + "\n  - ".join(problems),
            fix="correct the files or the config as each line says",
        )
    return warnings


def model_inventory(osim_path: str, *, marker_set: str | None) -> dict[str, set[str]]:
    """Names of bodies, coordinates, markers and muscles in the model (with the marker set file)."""
    import opensim as osim

    from .opensim_log import quiet_console
    from .opensim_tools import load_model  # OpenSim is imported only when a model is checked

    with quiet_console():
        model = load_model(osim_path)
    markers = {m.getName() for m in model.getMarkerSet()}
    if marker_set:
        try:
            markers |= {m.getName() for m in osim.MarkerSet(str(marker_set))}
        except Exception as err:
            raise InputError(
                f"OpenSim cannot read the marker set {marker_set}",
                opensim_message=str(err),
                fix="give model.marker_set an OpenSim MarkerSet XML",
            ) from None
    with quiet_console():
        root_markers = set(heading.model_reference_markers(osim_path, marker_set))
    from . import fast_ik

    return {
        "bodies": {b.getName() for b in model.getBodySet()} | {"ground"},
        "coordinates": {c.getName() for c in model.getCoordinateSet()},
        "markers": markers,
        "muscles": {m.getName() for m in model.getMuscles()},
        "root_markers": root_markers,  # the markers the runner's heading is fitted to
        # what ik.solver: fast cannot do with this model (checked when the config asks for it)
        "fast_ik_problems": set(fast_ik.model_problems(model, osim_path)),
    }


def check_templates(config: dict, names: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the templates against the model."""
    problems, warnings = [], []
    model_cfg = config["model"]
    scale = templates.scale_template(model_cfg["scale_setup"])
    # OpenSim skips a BodyScale for a body the model lacks, so this only warns
    # (gait2392's own setup scales patellae that gait2392 does not have).
    for body in sorted(scale.measurement_bodies - names["bodies"]):
        warnings.append(
            f"scale setup {model_cfg['scale_setup']}: measurement scales body '{body}', which the model lacks; "
            f"OpenSim skips it"
        )
    for marker in sorted((scale.measurement_markers | set(scale.placer_weights)) - names["markers"]):
        problems.append(
            f"scale setup {model_cfg['scale_setup']}: marker '{marker}' is not in the model's marker set "
            f"(add it to the model/marker set or remove it from the setup)"
        )
    for marker in sorted(set(config["qc"]["scale_landmarks"]) - set(scale.placer_weights)):
        problems.append(
            f"config qc.scale_landmarks: '{marker}' is not a weighted static-pose marker of the scale setup "
            f"{model_cfg['scale_setup']} (its scaling error is not measured): correct the name or remove it"
        )
    tasks = templates.ik_task_set(model_cfg["ik_tasks"])
    for marker in sorted(set(templates.marker_weights(tasks)) - names["markers"]):
        problems.append(
            f"IK tasks {model_cfg['ik_tasks']}: marker '{marker}' is not in the model's marker set "
            f"(add it to the model or remove the task)"
        )
    for coordinate in sorted(set(templates.coordinate_tasks(tasks)) - names["coordinates"]):
        problems.append(f"IK tasks {model_cfg['ik_tasks']}: coordinate '{coordinate}' is not in the model")
    if config.get("ik", {}).get("solver") == "fast":
        problems += templates.fast_ik_task_problems(tasks, model_cfg["ik_tasks"])
        problems += [f"{problem}: {templates.FAST_IK_FIX}" for problem in sorted(names.get("fast_ik_problems", ()))]
    if not _generated(model_cfg["external_loads"]):
        problems += _check_external_loads(model_cfg["external_loads"], names, config["sides"])
    return problems, warnings


def _check_external_loads(path: str, names: dict[str, set[str]], sides: dict[str, str]) -> list[str]:
    problems = []
    for spec in templates.external_forces(path):
        for what, body in (
            ("applied_to_body", spec.applied_to_body),
            ("force_expressed_in_body", spec.force_expressed_in_body),
            ("point_expressed_in_body", spec.point_expressed_in_body),
        ):
            if body not in names["bodies"]:
                problems.append(
                    f"external loads {path}: ExternalForce '{spec.name}' {what} '{body}' is not a body of the model"
                )
    specs = templates.external_forces(path)
    return (
        problems
        + grf_lib.check_force_sides(specs, sides, loads_path=path)
        + grf_lib.check_ground_frame(specs, loads_path=path)
    )


def check_muscle_groups(config: dict, names: dict[str, set[str]]) -> list[str]:
    return groups.check_group_muscles(
        names["muscles"], groups=config["muscle_groups"], sides=config["sides"], where="the model"
    ) + groups.check_group_muscles(
        names["muscles"], groups=config.get("chains") or {}, sides=config["sides"], where="the model", key="chains"
    )


def check_residual_reduction(config: dict, names: dict[str, set[str]]) -> list[str]:
    reduction = config["residual_reduction"]
    if reduction["method"] == "none":
        return []
    return residual_reduction.check_adjusted_body(reduction["adjusted_body"], names["bodies"] - {"ground"})


def _check_window_in_markers(time_s, start_s: float | None, end_s: float | None, path) -> list[str]:
    """The trial's start_s/end_s (when given) must lie within its markers."""
    start = time_s[0] if start_s is None else start_s
    end = time_s[-1] if end_s is None else end_s
    if start < time_s[0] - 1e-6 or end > time_s[-1] + 1e-6:
        return [
            f"the analysis window {start:g}-{end:g} s is outside the markers in {path} "
            f"({time_s[0]:g}-{time_s[-1]:g} s); correct start_s/end_s in the trials sheet"
        ]
    return []


def check_subject_files(study: Study, cache: ValidationCache | None = None) -> list[str]:
    cache = cache or ValidationCache(None)
    settings = {key: study.config[key] for key in ("c3d", "sides")}
    problems = []
    for subject in study.subjects:
        problems += cache.problems(
            "subject", check_subject_recording, files=[subject.static_markers], subject=subject, settings=settings
        )
    return problems


def check_subject_recording(subject, *, settings: dict) -> list[str]:
    """Problems with one subject's static trial (settings: the config's c3d and sides)."""
    path = subject.static_markers
    if is_c3d(path):
        return [
            f"subject {subject.name}: static_markers: {p}"
            for p in check_c3d(
                path, config=settings, need_plates=False, window=(subject.static_start_s, subject.static_end_s)
            )
        ]
    if _generated(path):
        return []
    try:
        markers = read_trc_times(path)
    except InputError as err:
        return [f"subject {subject.name}: static_markers: {err.message} ({err.fix})"]
    problems = [f"subject {subject.name}: {p}" for p in check_marker_timing(markers, path)]
    for key in ("static_start_s", "static_end_s"):
        value = getattr(subject, key)
        if value is not None and not markers.time_s[0] - 1e-6 <= value <= markers.time_s[-1] + 1e-6:
            problems.append(
                f"subject {subject.name}: {key} {value:g} s is outside the static trial {path} "
                f"({markers.time_s[0]:g}-{markers.time_s[-1]:g} s)"
            )
    return problems


def check_trial_files(
    study: Study,
    names: dict[str, set[str]] | None,
    cache: ValidationCache | None = None,
    *,
    workers: int | None = None,
) -> list[str]:
    """Problems with every trial's recordings, in the sheet's order. The trials the cache
    does not know are read in ``workers`` processes (default: parallel_workers())."""
    cache = cache or ValidationCache(None)
    ik_markers = []  # markers the IK tasks weight: checked against each trial once the model is known
    if names is not None:
        weights = templates.marker_weights(templates.ik_task_set(study.config["model"]["ik_tasks"]))
        ik_markers = sorted(m for m, w in weights.items() if w > 0)
    settings = {key: study.config[key] for key in ("c3d", "sides", "grf", "marker_aliases")}
    settings["external_loads"] = study.config["model"]["external_loads"]
    root_markers = sorted(names["root_markers"]) if names is not None else None
    calls = [
        CheckCall(
            files=[trial.markers, trial.grf, trial.external_loads or settings["external_loads"]],
            arguments=dict(trial=trial, settings=settings, ik_markers=ik_markers, root_markers=root_markers),
        )
        for trial in study.trials
    ]
    found = cache.values("trial", check_trial_recording, calls, workers=workers)
    return [problem for problems in found for problem in problems]


def check_trial_recording(
    trial, *, settings: dict, ik_markers: list[str], root_markers: list[str] | None = None
) -> list[str]:
    """Problems with one trial's markers and forces. settings: the config's c3d, sides,
    grf and marker_aliases, and model.external_loads; ik_markers: the markers the IK
    tasks weight (empty before the model is known)."""
    problems = []
    where = f"subject {trial.subject}, trial {trial.name}"
    loads = str(trial.external_loads or settings["external_loads"])
    threshold_n = settings["grf"]["contact_threshold_n"]
    if is_c3d(trial.markers):
        return [
            f"{where}: {p}"
            for p in check_c3d(
                trial.markers,
                config=settings,
                need_plates=True,
                window=(trial.start_s, trial.end_s),
                external_loads=loads,
            )
        ]
    if _generated(trial.markers):
        return problems
    try:
        markers = read_trc_times(trial.markers)
    except InputError as err:
        return [f"{where}: markers: {err.message} ({err.fix})"]
    problems += [f"{where}: {p}" for p in check_marker_timing(markers, trial.markers)]
    window_problems = _check_window_in_markers(markers.time_s, trial.start_s, trial.end_s, trial.markers)
    problems += [f"{where}: {p}" for p in window_problems]
    start = markers.time_s[0] if trial.start_s is None else trial.start_s
    end = markers.time_s[-1] if trial.end_s is None else trial.end_s
    aliases = settings["marker_aliases"]
    if root_markers is not None:  # the runner's heading is fitted to these (retrorun/heading.py)
        problems += [
            f"{where}: {p}"
            for p in heading.check_heading_markers(
                {aliases.get(name, name) for name in markers.marker_names}, set(root_markers), path=trial.markers
            )
        ]
    if ik_markers and not set(ik_markers) & {aliases.get(name, name) for name in markers.marker_names}:
        problems.append(
            f"{where}: none of the IK task markers are in {trial.markers} (it has "
            f"{', '.join(markers.marker_names[:8])}...): rename the markers, or add marker_aliases to the config"
        )
    grf_path = trial.grf
    if grf_path is None or _generated(grf_path):
        return problems
    try:
        grf, _ = read_storage(grf_path)
    except InputError as err:
        return problems + [f"{where}: grf: {err.message} ({err.fix})"]
    disordered = grf_lib.check_time_increases(grf["time"].to_numpy(), grf_path=grf_path)
    if disordered:
        return problems + [f"{where}: {p}" for p in disordered]
    problems += [
        f"{where}: {p}" for p in grf_lib.check_window_covered(grf["time"].to_numpy(), start, end, grf_path=grf_path)
    ]
    if _generated(loads):
        return problems
    try:
        specs = templates.external_forces(loads)
    except InputError as err:
        return problems + [f"{where}: {err.message}"]
    if trial.external_loads:  # the config's template is checked with the model (check_templates)
        problems += [
            f"{where}: {p}"
            for p in grf_lib.check_force_sides(specs, settings["sides"], loads_path=loads)
            + grf_lib.check_ground_frame(specs, loads_path=loads)
        ]
    # the rows in the window, once for every ExternalForce: a slice, as the times increase
    # (checked above); a boolean mask copied the table, a millisecond per trial of every plan
    time_s = grf["time"].to_numpy()
    window = grf.iloc[np.searchsorted(time_s, start - 1e-6) : np.searchsorted(time_s, end + 1e-6, side="right")]
    peak_vertical, readable = 0.0, bool(specs)
    for spec in specs:
        missing = grf_lib.check_force_columns(grf.columns, [spec], grf_path=grf_path, loads_path=loads)
        if missing:
            problems += [f"{where}: {p}" for p in missing]
            readable = False
            continue
        problems += [
            f"{where}: {p}"
            for p in grf_lib.check_force_values(window, spec, grf_path=grf_path, threshold_n=threshold_n)
        ]
        vertical = window[spec.columns()["force"][1]].to_numpy(dtype=float)
        peak_vertical = max(peak_vertical, float(np.nanmax(vertical, initial=0.0)))
    if readable and peak_vertical < threshold_n:
        problems.append(
            f"{where}: no foot contact: the vertical force in {grf_path} never reaches "
            f"grf.contact_threshold_n = {threshold_n:g} N in the analysis window "
            f"{start:g}-{end:g} s (peak {peak_vertical:.1f} N); check the GRF file belongs to this trial, "
            f"its vertical axis is Y, and start_s/end_s"
        )
    return problems


def check_c3d(
    path: Path,
    *,
    config: dict,
    need_plates: bool,
    window: tuple[float | None, float | None],
    external_loads: str | None = None,
) -> list[str]:
    """Problems with a C3D trial found by reading it: units, plates, window, foot markers."""
    settings = config["c3d"]
    try:
        trial = c3d_lib.read_c3d(
            path,
            axes=settings["axes"],
            cop_threshold_n=settings["cop_threshold_n"],
            plate_force=settings["plate_force"],
        )
    except InputError as err:
        return [f"{err.message} ({err.fix})"]
    problems = _check_window_in_markers(trial.markers.time_s, *window, path)
    if not need_plates:
        return problems
    plate_problems = c3d_lib.check_force_plates(trial, threshold_n=settings["cop_threshold_n"])
    if not trial.plates:
        return problems + plate_problems
    problems += plate_problems
    if external_loads and not _generated(external_loads):
        written = {
            f"{prefix}{axis}"
            for side in config["sides"]
            for axis in "xyz"
            for prefix in (f"ground_force_{side}_v", f"ground_force_{side}_p", f"ground_torque_{side}_")
        }
        written |= {
            f"plate{p.number}_{kind}{axis}"
            for p in trial.plates
            for axis in "xyz"
            for kind in ("force_v", "force_p", "torque_")
        }
        try:
            specs = templates.external_forces(external_loads)
        except InputError as err:
            specs, problems = [], problems + [f"{err.message} ({err.fix})"]
        for spec in specs:
            missing = spec.missing_columns(written)
            if missing:
                problems.append(
                    f"external loads {external_loads}: ExternalForce '{spec.name}' reads {', '.join(missing)}, "
                    f"which the C3D import of {Path(path).name} does not write; name the per-foot columns "
                    f"ground_force_<side>_v, ground_force_<side>_p, ground_torque_<side>_ (config/README.md, c3d)"
                )
    problems += c3d_lib.check_plate_sides(settings["plate_sides"], config["sides"])
    return problems + c3d_lib.check_foot_markers(
        trial, foot_markers=settings["foot_markers"], plate_sides=settings["plate_sides"]
    )


# ------------------------------------------------------------------ validation cache


@dataclasses.dataclass
class CheckCall:
    """One call of a check: the files it reads (their identity is part of the cache key)
    and the keyword arguments it is given."""

    files: list
    arguments: dict


# Reading a recording takes 5-8 ms (tools/benchmark_scale.py: 1000 trials, 5.5 s of the
# first dry run in one process). Below this many unread files a pool costs more than it
# saves: forking and collecting take some 50 ms.
PARALLEL_MIN_CALLS = 64
# at most this many processes: a cluster's login node, where Snakemake plans, is shared
PARALLEL_MAX_WORKERS = 8


def parallel_workers() -> int:
    """Processes for reading recordings: the CPUs this process may use, at most
    PARALLEL_MAX_WORKERS. One where fork is not safe (jobs.fork_is_safe): a worker started
    afresh would import for longer than most checks take."""
    if not jobs.fork_is_safe():
        return 1
    return min(len(os.sched_getaffinity(0)), PARALLEL_MAX_WORKERS)


def _call(job):
    compute, arguments = job
    return compute(**arguments)


def _map_in_processes(compute, arguments: list[dict], workers: int | None) -> list:
    """[compute(**a) for a in arguments], in forked processes when there are enough."""
    workers = parallel_workers() if workers is None else workers
    if workers < 2 or len(arguments) < PARALLEL_MIN_CALLS:
        return [compute(**a) for a in arguments]
    jobs = [(compute, a) for a in arguments]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_call, jobs, chunksize=math.ceil(len(jobs) / (4 * workers))))


class ValidationCache:
    """What the checks found in each recording (and the names in the model), remembered
    in ``folder``/checks.json so that the next `snakemake -n` of an unchanged study does
    not read every file again.

    An entry is found again only under the same key: the check's name, every argument it
    is given (the checks take the config values they use as arguments, so a check cannot
    read a config value the key lacks), the identity of every file it reads (path, size,
    modification and status-change times in ns, inode: any edit, copy or replacement
    changes it) and the source code of the retrorun package. Anything else reruns the
    check, so the cache cannot hide a problem; it only remembers ones that are still there.
    Without a folder (tests, cluster jobs) nothing is remembered.
    """

    FILE_NAME = "checks.json"

    def __init__(self, folder: str | os.PathLike | None):
        self.path = Path(folder, self.FILE_NAME) if folder else None
        self.found: dict[str, object] = {}
        self.used: dict[str, object] = {}
        if self.path and self.path.is_file():
            try:
                self.found = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.found = {}  # unreadable (e.g. cut short): check everything again

    def problems(self, name: str, check, *, files: list, **arguments) -> list[str]:
        """check(**arguments), or what it returned last time with the same key."""
        return self.value(name, check, files=files, **arguments)

    def value(self, name: str, compute, *, files: list, **arguments):
        return self.values(name, compute, [CheckCall(files, arguments)], workers=1)[0]

    def values(self, name: str, compute, calls: list[CheckCall], *, workers: int | None = None) -> list:
        """compute(**call.arguments) for each call, or what it returned last time with the
        same key; the calls not remembered are computed in ``workers`` processes."""
        keys = [_cache_key(name, call.files, call.arguments) if self.path else None for call in calls]
        missing = [i for i, key in enumerate(keys) if key not in self.found]
        computed = dict(zip(missing, _map_in_processes(compute, [calls[i].arguments for i in missing], workers)))
        results = [computed[i] if i in computed else self.found[key] for i, key in enumerate(keys)]
        if self.path is not None:
            self.used.update(zip(keys, results))
        return results

    def save(self) -> None:
        """Keep the entries used in this run (entries of changed files are dropped)."""
        if self.path is None or self.used == self.found:
            return
        try:
            with atomic_path(self.path) as tmp:
                tmp.write_text(json.dumps(self.used))
        except OSError:
            pass  # e.g. a read-only results folder: the next run checks every file again


def cached_model_inventory(cache: ValidationCache, osim_path: str, *, marker_set: str | None) -> dict[str, set[str]]:
    """model_inventory, remembered per model and marker set file (loading an 80-muscle
    model in OpenSim takes seconds)."""
    names = cache.value(
        "model",
        lambda osim_path, marker_set: {
            k: sorted(v) for k, v in model_inventory(osim_path, marker_set=marker_set).items()
        },
        files=[osim_path, marker_set],
        osim_path=str(osim_path),
        marker_set=str(marker_set) if marker_set else None,
    )
    return {kind: set(values) for kind, values in names.items()}


def _file_identity(path) -> list | None:
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return [str(path), "absent"]
    return [str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)  # paths


def _cache_key(name: str, files: list, arguments: dict) -> str:
    text = json.dumps(
        [name, package_source_digest(), str(RESULTS_ROOT.resolve()), [_file_identity(f) for f in files], arguments],
        sort_keys=True,
        default=_jsonable,
    )
    return hashlib.sha256(text.encode()).hexdigest()
