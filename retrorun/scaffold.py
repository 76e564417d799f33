"""A study folder from a lab's export: config.yaml, subjects.tsv and trials.tsv (`retrorun new-study`).

The export is a folder of recordings: C3D files, or TRC markers with OpenSim .mot GRF
beside them, either one sub-folder per subject or flat with the subject in the file
name. Each recording is classified from its name and content:

- subject: its first-level sub-folder, else the file name's ``subject_pattern``;
- static trial: the name matches ``static_pattern``, or it has no plate contact (a C3D
  whose plates never reach the contact threshold, a TRC whose paired .mot never does);
- dynamic trial: exactly one ``conditions`` pattern matches its name (case-insensitive);
- a TRC is paired with the .mot of the same name, with or without a GRF suffix
  (``S01_fwd_01.trc`` with ``S01_fwd_01.mot`` or ``S01_fwd_01_grf.mot``).

Nothing is guessed: a file that fits none of these (or more than one) is listed with
the reason, and a value the files do not store (body mass from a TRC) is written as
``TODO`` and listed, for the user to fill in. The written study is then checked by the
same validation ``snakemake -n`` runs (retrorun/validation.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import config_schema, load_config, load_schema, load_study
from .errors import RetrorunError

TODO = "TODO"
RECORDING_SUFFIXES = (".trc", ".mot", ".c3d")
DEFAULT_STATIC_PATTERN = r"static|cal|standing"
# letters then digits at the start of the name, ended by a separator: S01_fwd_01, P3-run, subject02_running
DEFAULT_SUBJECT_PATTERN = r"^([A-Za-z]*[0-9]+)(?=[^A-Za-z0-9]|$)"
DEFAULT_CONDITIONS = {"forward": r"fwd|forward", "backward": r"bwd|backward|back|retro"}
# what a GRF file's name adds to its marker file's: S01_fwd_01_grf.mot pairs with S01_fwd_01.trc
GRF_SUFFIX = re.compile(r"[_\- ]?(grf|forces?|fp)$", re.IGNORECASE)
# a vertical force column of an OpenSim GRF .mot (ground_force_vy, 1_ground_force_vy, plate1_force_vy)
VERTICAL_FORCE_COLUMN = re.compile(r"force_?v?y$", re.IGNORECASE)
# C3D parameters that hold body mass (kg) and height, in the order they are looked for
MASS_PARAMETERS = (("PROCESSING", "Bodymass"), ("SUBJECTS", "MASS"), ("SUBJECTS", "BODYMASS"), ("SUBJECTS", "WEIGHT"))
HEIGHT_PARAMETERS = (("PROCESSING", "Height"), ("SUBJECTS", "HEIGHT"))
# muscle names of OpenSim's gait2392-derived models (Hamner, Rajagopal, gait2392) without the side suffix
DEFAULT_MUSCLE_GROUPS = {
    "quadriceps": ["rect_fem", "vas_med", "vas_int", "vas_lat"],
    "hamstrings": ["semimem", "semiten", "bifemlh", "bifemsh"],
}
MODEL_OPTIONS = ("osim", "marker_set", "scale_setup", "ik_tasks", "external_loads")


def parse_condition(text: str) -> tuple[str, str]:
    """'fwd|forward=forward' -> ('forward', 'fwd|forward'): the label and its file-name pattern."""
    pattern, sep, label = text.rpartition("=")
    if not sep or not pattern or not label.strip():
        raise ValueError(f"--condition {text!r}: write PATTERN=LABEL, e.g. 'fwd|forward=forward'")
    re.compile(pattern)
    return label.strip(), pattern


def safe_name(text: str) -> str:
    """A name the sheets accept (workflow/schemas/name.schema.yaml): other characters become '_'."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
    return name.lstrip(".") or "unnamed"


@dataclass
class Recording:
    path: Path
    subject: str
    name: str  # the file name without extension and subject prefix
    grf: Path | None = None


@dataclass
class Scan:
    """What was found: subjects' static trials and masses, trials, and what was not used."""

    subjects: dict[str, dict] = field(default_factory=dict)  # name -> static, mass_kg, height_m, sources
    trials: list[dict] = field(default_factory=list)  # subject, trial, condition, markers, grf
    unclassified: list[tuple[Path, str]] = field(default_factory=list)  # file, why
    notes: list[str] = field(default_factory=list)


def _strip_subject(stem: str, subject: str) -> str:
    if stem.lower().startswith(subject.lower()):
        rest = stem[len(subject) :].lstrip("_- .")
        return rest or stem
    return stem


def _subject_of(path: Path, export_dir: Path, subject_pattern: str | None) -> str | None:
    relative = path.relative_to(export_dir)
    if subject_pattern is None and len(relative.parts) > 1:
        return relative.parts[0]
    match = re.search(subject_pattern or DEFAULT_SUBJECT_PATTERN, path.stem, re.IGNORECASE)
    if not match:
        return None
    return match.group(1) if match.groups() else match.group(0)


def _peak_vertical_grf_n(mot: Path) -> float | None:
    """Largest vertical force in a GRF .mot (None when no column is recognisably vertical)."""
    from .formats import read_storage

    table, _ = read_storage(mot)
    columns = [c for c in table.columns if VERTICAL_FORCE_COLUMN.search(c)]
    if not columns:
        return None
    return float(np.nanmax(table[columns].to_numpy(dtype=float), initial=0.0))


def _c3d_has_contact(path: Path, threshold_n: float) -> bool:
    from . import c3d as c3d_lib

    trial = c3d_lib.read_c3d(path, cop_threshold_n=threshold_n)
    return any(c3d_lib.contacts(p.force_n[:, c3d_lib.VERTICAL], threshold_n=threshold_n) for p in trial.plates)


def c3d_body_size(path: Path) -> tuple[float | None, float | None, str]:
    """(mass kg, height m, where they came from) as the C3D stores them, None where it does not.
    A height above 3 is in mm (Vicon's PROCESSING:Height) or, below 300, in cm."""
    import ezc3d

    parameters = ezc3d.c3d(str(path))["parameters"]

    def first(candidates):
        for group, name in candidates:
            value = parameters.get(group, {}).get(name, {}).get("value")
            values = np.atleast_1d(np.asarray(value, dtype=object)) if value is not None else []
            numbers = [float(v) for v in values if isinstance(v, int | float | np.number) and float(v) > 0]
            if numbers:
                return numbers[0], f"{group}:{name}"
        return None, ""

    mass, mass_source = first(MASS_PARAMETERS)
    height, height_source = first(HEIGHT_PARAMETERS)
    if height is not None and height > 3:
        height = height / (1000.0 if height > 300 else 100.0)
    sources = ", ".join(f"{what} from {src}" for what, src in (("mass", mass_source), ("height", height_source)) if src)
    return mass, height, sources


def scan_export(
    export_dir: str | Path,
    *,
    conditions: dict[str, str] | None = None,
    static_pattern: str = DEFAULT_STATIC_PATTERN,
    subject_pattern: str | None = None,
    contact_threshold_n: float | None = None,
) -> Scan:
    """Classify every recording in ``export_dir`` (see the module docstring)."""
    export_dir = Path(export_dir).resolve()
    if not export_dir.is_dir():
        raise FileNotFoundError(f"export folder {export_dir} does not exist")
    conditions = conditions or DEFAULT_CONDITIONS
    threshold_n = contact_threshold_n or config_schema("grf", "contact_threshold_n")["default"]
    scan = Scan()
    files = sorted(
        p
        for p in export_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(export_dir).parts)
    )
    recordings: dict[str, list[Recording]] = {}  # per kind
    spelling: dict[str, str] = {}  # subject id lower-case -> first spelling seen
    merged: set[tuple[str, str]] = set()
    for path in files:
        suffix = path.suffix.lower()
        if suffix not in RECORDING_SUFFIXES:
            scan.unclassified.append((path, "not a recording (.trc, .mot or .c3d)"))
            continue
        subject = _subject_of(path, export_dir, subject_pattern)
        if subject is None:
            scan.unclassified.append(
                (
                    path,
                    f"no subject: not in a subject sub-folder and the name does not match "
                    f"--subject-pattern {subject_pattern or DEFAULT_SUBJECT_PATTERN!r}",
                )
            )
            continue
        written = safe_name(subject)
        subject = spelling.setdefault(written.lower(), written)
        if written != subject:
            merged.add((written, subject))
        name = _strip_subject(path.stem, subject)
        recordings.setdefault(suffix, []).append(Recording(path, subject, name))

    scan.notes += [f"subject '{a}' in file names taken as '{b}' (ids differ in case only)" for a, b in sorted(merged)]

    # TRC + MOT pairs, by name within a subject
    grf_of: dict[tuple[str, str], list[Recording]] = {}
    for mot in recordings.get(".mot", []):
        key = (mot.subject, GRF_SUFFIX.sub("", mot.path.stem).lower())
        grf_of.setdefault(key, []).append(mot)
    paired = set()
    markers = []
    for trc in recordings.get(".trc", []):
        candidates = grf_of.get((trc.subject, trc.path.stem.lower()), [])
        if len(candidates) > 1:
            scan.unclassified.append(
                (trc.path, "more than one GRF file of this name: " + ", ".join(m.path.name for m in candidates))
            )
            paired |= {m.path for m in candidates}
            continue
        if candidates:
            trc.grf = candidates[0].path
            paired.add(trc.grf)
        markers.append(trc)
    for mot in recordings.get(".mot", []):
        if mot.path not in paired:
            scan.unclassified.append((mot.path, "a .mot with no marker file (.trc) of the same name"))

    statics: dict[str, list[Path]] = {}
    for rec in sorted(markers + recordings.get(".c3d", []), key=lambda r: str(r.path).lower()):
        is_c3d = rec.path.suffix.lower() == ".c3d"
        if re.search(static_pattern, rec.name, re.IGNORECASE):
            statics.setdefault(rec.subject, []).append(rec.path)
            continue
        try:
            if is_c3d:
                contact = _c3d_has_contact(rec.path, threshold_n)
            else:
                peak = _peak_vertical_grf_n(rec.grf) if rec.grf else None
                contact = None if peak is None else peak >= threshold_n
        except RetrorunError as err:
            scan.unclassified.append((rec.path, f"cannot be read: {err.message}"))
            continue
        if contact is False:
            statics.setdefault(rec.subject, []).append(rec.path)
            scan.notes.append(
                f"{rec.path.name}: taken as a static trial of {rec.subject} (no plate contact of "
                f"{threshold_n:g} N or more)"
            )
            continue
        matched = [label for label, pattern in conditions.items() if re.search(pattern, rec.name, re.IGNORECASE)]
        if len(matched) != 1:
            why = (
                "no --condition pattern matches its name"
                if not matched
                else f"its name matches more than one condition ({', '.join(matched)})"
            )
            scan.unclassified.append((rec.path, why))
            continue
        if not is_c3d and rec.grf is None:
            scan.unclassified.append(
                (rec.path, f"no GRF beside it (expected {rec.path.stem}.mot or {rec.path.stem}_grf.mot)")
            )
            continue
        trial = safe_name(rec.name)
        taken = {t["trial"].lower() for t in scan.trials if t["subject"] == rec.subject}
        if trial.lower() in taken:
            scan.unclassified.append(
                (rec.path, f"trial id {trial!r} of subject {rec.subject} is taken by another file")
            )
            continue
        scan.trials.append(
            {"subject": rec.subject, "trial": trial, "condition": matched[0], "markers": rec.path, "grf": rec.grf}
        )

    for subject in sorted({t["subject"] for t in scan.trials} | set(statics), key=str.lower):
        found = statics.get(subject, [])
        if len(found) > 1:
            scan.notes.append(
                f"subject {subject}: {len(found)} static trials ({', '.join(p.name for p in found)}); "
                f"static_markers uses {found[0].name}: change it in subjects.tsv if another is the one"
            )
        mass = height = None
        sources = ""
        for path in found + [t["markers"] for t in scan.trials if t["subject"] == subject]:
            if path.suffix.lower() == ".c3d":
                mass, height, sources = c3d_body_size(path)
                if mass is not None or height is not None:
                    sources = f"{path.name}: {sources}"
                    break
        scan.subjects[subject] = {
            "static": found[0] if found else None,
            "mass_kg": mass,
            "height_m": height,
            "source": sources,
        }
    return scan


def _relative(path: Path | None, start: Path) -> str:
    if path is None:
        return ""
    """Relative to the study folder when they share a folder below the root (they move
    together), else absolute (a model in a shared location)."""
    path = Path(path).resolve()
    try:
        shared = Path(os.path.commonpath([path, Path(start).resolve()]))
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if shared == Path(shared.anchor) else os.path.relpath(path, start)


def sheets(scan: Scan, out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """subjects.tsv and trials.tsv rows, in the columns retrorun/config.py reads, paths
    relative to ``out_dir`` (the config's folder); TODO where the files do not tell."""
    subject_columns = list(load_schema("subjects")["properties"])
    trial_columns = [c for c in load_schema("trials")["properties"] if c != "external_loads"]
    subjects = pd.DataFrame(
        [
            {
                "subject": name,
                "mass_kg": TODO if info["mass_kg"] is None else f"{info['mass_kg']:g}",
                "height_m": "" if info["height_m"] is None else f"{info['height_m']:g}",
                "static_markers": _relative(info["static"], out_dir) if info["static"] else TODO,
                "static_start_s": "",
                "static_end_s": "",
            }
            for name, info in scan.subjects.items()
        ],
        columns=subject_columns,
    )
    trials = pd.DataFrame(
        [
            {
                "subject": t["subject"],
                "trial": t["trial"],
                "condition": t["condition"],
                "markers": _relative(t["markers"], out_dir),
                "grf": _relative(t["grf"], out_dir),
                "start_s": "",
                "end_s": "",
            }
            for t in scan.trials
        ],
        columns=trial_columns,
    )
    return subjects, trials


def config_text(*, study: str, model: dict[str, str], compare: list[str], source: Path) -> str:
    """config.yaml with comments; every key the user must decide is marked TODO."""

    def model_line(key: str, what: str) -> str:
        value = model.get(key)
        if value:
            return f"  {key}: {value}\n"
        if key == "marker_set":
            return f"  # {key}: markers.xml   # {what}\n"
        return f"  {key}: {TODO}   # TODO: {what}\n"

    groups = "\n".join(f"  {g}: [{', '.join(m)}]" for g, m in DEFAULT_MUSCLE_GROUPS.items())
    filter_hz = config_schema("filter_hz")["default"]
    compare_note = (
        "the paired comparison: differences are second minus first"
        if len(compare) == 2
        else "TODO: name two conditions of trials.tsv (differences are second minus first)"
    )
    compare_value = compare if len(compare) == 2 else (compare + [TODO, TODO])[:2]
    return (
        f"# Written by `retrorun new-study` from {source}. Every key is documented in config/README.md;\n"
        "# a key left out takes its default from there. Lines marked TODO are yours to decide.\n"
        "# Check the study from the retrorun folder: snakemake -n --configfile <this file>\n"
        f"study: {study}            # results go to results/{study}/\n"
        "subjects: subjects.tsv\n"
        "trials: trials.tsv\n"
        "model:   # paths relative to this file\n"
        + model_line("osim", "the generic model (.osim)")
        + model_line("marker_set", "a separate OpenSim MarkerSet, if the model has no markers")
        + model_line("scale_setup", "your ScaleTool setup (measurement set, static-pose marker weights)")
        + model_line("ik_tasks", "IK tasks (an IK setup or IKTaskSet file)")
        + model_line("external_loads", "ExternalLoads: which GRF columns act on which foot")
        + f"filter_hz: {filter_hz:g}   # Hz, one low-pass cut-off for IK coordinates and GRF (config/README.md)\n"
        "# TODO: check these are your model's muscle names (without the side suffix)\n"
        f"muscle_groups:\n{groups}\n"
        "sides: {r: _r, l: _l}\n"
        "analysis:\n"
        f"  compare: [{', '.join(compare_value)}]   # {compare_note}\n"
    )


@dataclass
class NewStudy:
    out_dir: Path
    scan: Scan
    todo: list[str]
    problems: list[str]


def new_study(
    export_dir: str | Path,
    out_dir: str | Path,
    *,
    conditions: dict[str, str] | None = None,
    static_pattern: str = DEFAULT_STATIC_PATTERN,
    subject_pattern: str | None = None,
    model: dict[str, str | Path | None] | None = None,
    force: bool = False,
) -> NewStudy:
    """Scan the export, write the study folder and check it as `snakemake -n` does."""
    out_dir = Path(out_dir).resolve()
    written = [out_dir / name for name in ("config.yaml", "subjects.tsv", "trials.tsv")]
    existing = [p for p in written if p.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{', '.join(str(p) for p in existing)} already exist: choose another --out, or pass --force to overwrite"
        )
    conditions = conditions or DEFAULT_CONDITIONS
    scan = scan_export(
        export_dir, conditions=conditions, static_pattern=static_pattern, subject_pattern=subject_pattern
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    subjects, trials = sheets(scan, out_dir)
    subjects.to_csv(out_dir / "subjects.tsv", sep="\t", index=False)
    trials.to_csv(out_dir / "trials.tsv", sep="\t", index=False)
    model_paths = {k: _relative(Path(v), out_dir) for k, v in (model or {}).items() if v}
    present = [label for label in conditions if label in set(trials["condition"])]
    (out_dir / "config.yaml").write_text(
        config_text(
            study=safe_name(out_dir.name), model=model_paths, compare=present, source=Path(export_dir).resolve()
        )
    )
    todo = to_do(scan, model_paths=model_paths, compare=present, out_dir=out_dir)
    return NewStudy(out_dir=out_dir, scan=scan, todo=todo, problems=check(out_dir))


def to_do(scan: Scan, *, model_paths: dict, compare: list[str], out_dir: Path) -> list[str]:
    """The blanks the user has to fill, one line each."""
    lines = []
    missing_model = [k for k in MODEL_OPTIONS if k != "marker_set" and k not in model_paths]
    if missing_model:
        lines.append(f"config.yaml: model.{', model.'.join(missing_model)} (marked TODO)")
    if len(compare) != 2:
        lines.append(
            f"config.yaml: analysis.compare needs two conditions; the trials have {', '.join(compare) or 'none'}"
        )
    no_mass = [s for s, info in scan.subjects.items() if info["mass_kg"] is None]
    if no_mass:
        lines.append(f"subjects.tsv: mass_kg of {', '.join(no_mass)} (the files do not store it; marked TODO)")
    no_static = [s for s, info in scan.subjects.items() if info["static"] is None]
    if no_static:
        lines.append(f"subjects.tsv: static_markers of {', '.join(no_static)} (no static trial found; marked TODO)")
    if not scan.trials:
        lines.append("trials.tsv: no running trial was recognised (see the files not used)")
    lines.append("config.yaml: muscle_groups, if your model's muscles have other names")
    return lines


def check(out_dir: Path) -> list[str]:
    """The problems `snakemake -n` would report on the study (retrorun/validation.py), one
    line each. Body masses still TODO are replaced by a stand-in for this check only, so
    the recordings and the model are checked too before the masses are known."""
    from .validation import validate_study_inputs

    config_path = out_dir / "config.yaml"
    subjects = pd.read_csv(out_dir / "subjects.tsv", sep="\t", dtype=str, keep_default_na=False)
    blank_mass = subjects["mass_kg"] == TODO
    try:
        config = load_config(config_path)
        with tempfile.TemporaryDirectory() as tmp:
            if blank_mass.any():
                low, high = config.values["sheets"]["mass_kg_range"]
                subjects.loc[blank_mass, "mass_kg"] = f"{(low + high) / 2:g}"
                stand_in = Path(tmp) / "subjects.tsv"
                subjects.to_csv(stand_in, sep="\t", index=False)
                config.values["subjects"] = str(stand_in)
            study = load_study(config)
            validate_study_inputs(study)
    except RetrorunError as err:
        return [line for line in str(err).splitlines() if line.strip()]
    return []


def summary(result: NewStudy) -> str:
    """What the command prints: what was written, what to fill in, what was not used, what to fix."""
    scan = result.scan
    conditions = pd.Series([t["condition"] for t in scan.trials], dtype=object).value_counts()
    lines = [
        f"Wrote {result.out_dir}/config.yaml, subjects.tsv, trials.tsv: {len(scan.subjects)} subject(s), "
        f"{len(scan.trials)} trial(s)"
        + (f" ({', '.join(f'{n} {c}' for c, n in conditions.items())})" if len(conditions) else ""),
    ]
    read = [f"  {s}: {info['source']}" for s, info in scan.subjects.items() if info["source"]]
    if read:
        lines += ["Read from the files:", *read]
    lines += ["Still to fill in:", *(f"  - {line}" for line in result.todo)]
    if scan.notes:
        lines += ["Check:", *(f"  - {note}" for note in scan.notes)]
    if scan.unclassified:
        lines += ["Files not used (not classified; add them to the sheets by hand if they belong):"]
        lines += [f"  - {path}: {why}" for path, why in scan.unclassified]
    if result.problems:
        lines += ["What `snakemake -n` reports now (with a stand-in for blank body masses):"]
        lines += [f"  {line}" for line in result.problems]
    else:
        lines += [
            "`snakemake -n` finds no problem with the recordings, the model and the config"
            + (" (blank body masses aside)." if result.todo and any("mass_kg" in t for t in result.todo) else ".")
        ]
    lines.append(f"Then check it: snakemake -n --configfile {result.out_dir / 'config.yaml'}")
    return "\n".join(lines)
