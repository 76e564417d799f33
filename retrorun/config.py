"""Load and validate a study: config.yaml and the subjects/trials sheets.

Everything here runs when Snakemake parses the workflow, before any job starts, so
a mistake in the config or a sheet is reported at once, naming the file, row and
column and saying what to change. All problems found are reported together.
"""

from __future__ import annotations

import copy
import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from .errors import ConfigError

if TYPE_CHECKING:
    import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "workflow" / "schemas"
# Every study writes below results/<study> of the directory Snakemake runs in.
RESULTS_ROOT = Path("results")
PATH_KEYS_MODEL = ("osim", "marker_set", "scale_setup", "ik_tasks", "external_loads")
SUBJECT_PATH_COLUMNS = ("static_markers", "emg_mvc")
TRIAL_PATH_COLUMNS = ("markers", "grf", "external_loads", "emg")


def load_schema(name: str) -> dict:
    return copy.deepcopy(_parsed_schema(name))


@functools.cache
def _parsed_schema(name: str) -> dict:
    # Parsed once per process: planning reads the schemas for the config and every sheet.
    # libyaml's parser where PyYAML has it (0.008 s against 0.07 s for the config schema,
    # in every job that reads a default from it)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SCHEMA_DIR / f"{name}.schema.yaml") as handle:
        return yaml.load(handle, Loader=loader)


def config_schema(*keys: str) -> dict:
    """The config schema's entry for the key at ``keys`` (e.g. "gaps", "max_gap_s"): a
    library default or set of allowed values is read from here, so it is stated once."""
    node = load_schema("config")
    for key in keys:
        node = node["properties"][key]
    return node


# jsonschema and referencing are imported where a validation needs them: importing them
# costs about 0.12 s of CPU in every job, most of which only read a default from a schema
@functools.cache
def _schema_registry():
    """Lets one schema refer to another by file name (`$ref: name.schema.yaml`)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resources(
        (path.name, Resource.from_contents(load_schema(path.name.split(".")[0]), default_specification=DRAFT202012))
        for path in sorted(SCHEMA_DIR.glob("*.schema.yaml"))
    )


def _validator(schema: dict):
    import jsonschema

    return jsonschema.Draft202012Validator(schema, registry=_schema_registry())


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, except for a name (study, subject, trial), whose regular
    expression would not tell the user what is allowed."""
    name = load_schema("name")
    if error.validator == "pattern" and error.schema.get("pattern") == name["pattern"]:
        return f"{error.instance!r} cannot be used as a name: {name['description']}"
    return error.message


def _validator_filling_defaults(schema: dict):
    """A jsonschema validator that also writes each property's ``default`` into the instance."""
    import jsonschema

    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": set_defaults})(schema, registry=_schema_registry())


def _schema_problem(error: jsonschema.ValidationError) -> str:
    """One line per schema error, saying what is wrong in the user's terms; a value is
    quoted only when short (a whole section is never dumped into the message)."""
    where = ".".join(str(p) for p in error.absolute_path)
    instance = error.instance
    if error.validator == "oneOf" and not where:
        return _study_source_problem(instance)
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        unknown = [k for k in instance if k not in known]
        lines = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            lines.append(f"unknown key '{where + '.' if where else ''}{key}'{hint}")
        return "; ".join(lines)
    if error.validator == "required" and isinstance(instance, dict):
        missing = [k for k in error.validator_value if k not in instance]
        return "; ".join(f"key '{where + '.' if where else ''}{k}' is missing" for k in missing)
    if error.validator == "minProperties" and isinstance(instance, dict):
        return f"key '{where}' needs at least {error.validator_value} entries (has {len(instance)})"
    message = _message(error)
    shown = repr(instance)
    if len(shown) > 60:
        message = message.replace(shown, "this " + ("section" if isinstance(instance, dict) else "value"), 1)
    return f"key '{where or '(top level)'}': {message}"


def _study_source_problem(config: dict) -> str:
    """The config's top-level choice: sheets of recorded trials, or the demo's synthetic study."""
    sheets = [k for k in ("subjects", "trials") if k in config]
    if "synthetic" in config and sheets:
        return (
            "it has both 'synthetic' (the built-in demo's generated study) and 'subjects'/'trials' (sheets of "
            "recorded trials); a study is one or the other: delete the 'synthetic' section to run your sheets"
        )
    if len(sheets) == 1:
        missing = "trials" if sheets == ["subjects"] else "subjects"
        return (
            f"it has '{sheets[0]}' but no '{missing}': add '{missing}: {missing}.tsv' "
            "(path relative to the config file)"
        )
    return (
        "it has neither 'subjects'/'trials' (the sheets of your subjects and trials) nor 'synthetic' (the "
        "demo's generated study): add 'subjects: subjects.tsv' and 'trials: trials.tsv' (paths relative to the "
        "config file)"
    )


def study_config(snakemake_config: dict, *, given_files: list, command_line: dict, demo_config: Path) -> StudyConfig:
    """The prepared config of the study Snakemake was asked to run.

    ``given_files`` are the --configfile(s) the user passed; Snakemake has merged them
    and the --config values (``command_line``) into ``snakemake_config``, which is then
    the whole study: its relative paths resolve against the last file's folder. Without
    a --configfile the study is ``demo_config`` with the --config values on top."""
    if not given_files:
        return load_config(demo_config, overrides=command_line)
    files = [str(Path(f).resolve()) for f in given_files]
    source = " + ".join(files) + (" with the --config values" if command_line else "")
    return prepare_config(snakemake_config, base_dir=Path(files[-1]).parent, source=source)


def load_config(path: str | Path, overrides: dict | None = None) -> StudyConfig:
    """Read config.yaml, apply ``overrides`` (e.g. Snakemake --config), fill defaults,
    validate against the schema and resolve every path against the config's folder."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist", fix="pass --configfile with the study's config.yaml")
    with open(path) as handle:
        try:
            config = yaml.safe_load(handle) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path} is not valid YAML: {err}", fix="fix the YAML syntax") from None
    source = str(path)
    if overrides:
        config = _merge(config, overrides)
        source += " with the --config values"
    return prepare_config(config, base_dir=path.parent, source=source)


@dataclass(frozen=True)
class StudyConfig:
    """A validated config: ``values`` with defaults filled and absolute paths, the folder
    its relative paths (and the sheets' file columns) resolve against, and whether the
    user named the compared conditions (the default is filled in): a named pair must
    exist in the trials sheet even when the sheet has one condition."""

    values: dict
    config_dir: Path
    compare_given: bool


def prepare_config(config: dict, *, base_dir: Path, source: str) -> StudyConfig:
    """Validate an already-read config dict and resolve its paths (see load_config)."""
    config = copy.deepcopy(config)
    compare_given = "compare" in (config.get("analysis") or {})
    schema = load_schema("config")
    config = _coerce_command_line_values(config, schema)
    validator = _validator_filling_defaults(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [_schema_problem(e) for e in errors]
    if problems:
        raise ConfigError(
            f"{source} does not match the config schema (workflow/schemas/config.schema.yaml):\n  - "
            + "\n  - ".join(problems),
            fix="correct these keys (config/README.md documents each)",
        )
    base_dir = Path(base_dir)
    for key in ("subjects", "trials"):
        if key in config:
            config[key] = str((base_dir / config[key]).resolve())
    for key in PATH_KEYS_MODEL:
        if config["model"].get(key):
            config["model"][key] = str((base_dir / config["model"][key]).resolve())
    if config["sides"] and len(set(config["sides"].values())) != len(config["sides"]):
        raise ConfigError(
            f"{source}: two sides share a suffix in 'sides': {config['sides']}",
            fix="give every side its own muscle-name suffix, e.g. {r: _r, l: _l}",
        )
    check_primary_outcomes(config, source=source)
    check_chains_and_hypotheses(config, source=source)
    check_muscle_solver(config, source=source)
    return StudyConfig(values=config, config_dir=base_dir, compare_given=compare_given)


def results_dir(study: str) -> Path:
    """The folder (relative to Snakemake's working directory) of everything a study writes."""
    return RESULTS_ROOT / study


def outcome_names(muscle_groups, chains: dict | None = None) -> list[str]:
    """Every ``group.metric`` the comparison table can hold; with ``chains`` (config
    ``chains``), the chain groups' activation metrics and the chain pair's."""
    from . import analysis, gait_geometry, groups, metrics

    every_group = groups.analysis_groups({"muscle_groups": muscle_groups, "chains": chains})
    names = [f"{group}.{m}" for group in every_group for m in metrics.ACTIVATION_METRICS]
    names += [f"{analysis.PAIR_GROUP}.{m}" for m in metrics.PAIR_METRICS]
    if chains and set(chains) >= set(groups.CHAIN_GROUPS):
        names += [f"{analysis.CHAIN_PAIR}.{m}" for m in analysis.CHAIN_METRICS]
    names += [f"{analysis.KNEE_GROUP}.{m}" for m in metrics.KNEE_METRICS]
    names += gait_geometry.outcome_names()  # foot placement, COM over the hips, strike pattern
    return names + [f"{analysis.CYCLE_GROUP}.{m}" for m in metrics.CYCLE_METRICS]


def check_primary_outcomes(config: dict, *, source: str) -> None:
    """analysis.primary_outcomes must name metrics the comparison has: a typo would leave
    the primary family silently short."""
    known = outcome_names(config["muscle_groups"], config.get("chains"))
    unknown = [name for name in config["analysis"]["primary_outcomes"] if name not in known]
    if unknown:
        raise ConfigError(
            f"{source}: analysis.primary_outcomes names {', '.join(unknown)}, which the comparison does not have",
            fix="name group.metric pairs from config/README.md (analysis), e.g. "
            "quadriceps_hamstrings.ratio_mean_stance or knee.peak_extension_moment_nm_per_kg",
        )


def check_chains_and_hypotheses(config: dict, *, source: str) -> None:
    """A chain group must not shadow a muscle group, and every hypothesis must name a
    measure the comparison has (the closest known name otherwise) and an expected
    direction over the compared conditions (retrorun.hypotheses)."""
    from . import groups, hypotheses

    clash = sorted(set(config["muscle_groups"]) & set(groups.CHAIN_GROUPS.values()))
    if config.get("chains") and clash:
        raise ConfigError(
            f"{source}: muscle_groups has {', '.join(clash)}, the name the analysis gives a chain of config chains",
            fix="rename that muscle group",
        )
    hypotheses.check(
        config.get("hypotheses") or [],
        known_measures=outcome_names(config["muscle_groups"], config.get("chains")),
        compare=config["analysis"]["compare"],
        source=source,
    )


def check_muscle_solver(config: dict, *, source: str) -> None:
    """Solver moco_inverse minimises the integral of controls^p with Moco's
    MocoControlGoal, whose exponent is an integer >= 2 (opensim-core
    MocoControlGoal.cpp), and needs an opensim with Moco."""
    so = config["static_optimization"]
    if so["solver"] != "moco_inverse":
        return
    p = so["activation_exponent"]
    if p < 2 or p != int(p):
        raise ConfigError(
            f"{source}: static_optimization.activation_exponent is {p}, but solver moco_inverse "
            "(Moco's MocoControlGoal) takes an integer exponent of 2 or more",
            fix="set static_optimization.activation_exponent to 2 (or 3, 4, ...), or use solver fast",
        )
    try:
        import opensim
    except ImportError:  # analysis-only environments run no solver
        return
    if not hasattr(opensim, "MocoInverse"):
        raise ConfigError(
            f"{source}: static_optimization.solver is moco_inverse, "
            f"but this opensim ({opensim.__version__}) has no Moco",
            fix="install the opensim package the project pins (4.6, with Moco), or use solver fast",
        )


def _coerce_command_line_values(value, schema: dict):
    """Snakemake's --config passes values nested in a mapping as strings
    (`--config static_optimization='{chunks: 3}'` gives chunks '3'): turn such strings
    into the number or boolean the schema asks for, so the override works as typed."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: _coerce_command_line_values(item, properties.get(key, extra if isinstance(extra, dict) else {}))
            for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_coerce_command_line_values(item, schema["items"]) for item in value]
    if not isinstance(value, str):
        return value
    types = []
    for option in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:  # e.g. analysis.cycles: all or N
        declared = option.get("type", [])
        types += declared if isinstance(declared, list) else [declared]
    try:
        if "integer" in types and value.strip().lstrip("+-").isdigit():
            return int(value)
        if "number" in types:
            return float(value)
    except ValueError:
        return value
    if "boolean" in types and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _merge(base: dict, extra: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------------ sheets


def read_sheet(path: str | Path, *, kind: str) -> pd.DataFrame:
    """Read a tab-separated sheet; ``kind`` is 'subjects' or 'trials'."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{kind} sheet {path} does not exist", fix=f"set '{kind}' in the config to the sheet's path")
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, comment="#", skip_blank_lines=True, keep_default_na=False)
    except Exception as err:  # pandas raises several parser errors
        raise ConfigError(
            f"{kind} sheet {path} cannot be read as tab-separated values: {err}",
            fix="save the sheet as TSV (tab-separated, first line = column names)",
        ) from None
    table.columns = [c.strip() for c in table.columns]
    if len(table.columns) == 1:
        header = table.columns[0]
        for separator, name in ((",", "commas"), (";", "semicolons")):
            if separator in header:
                raise ConfigError(
                    f"{kind} sheet {path} is separated by {name}, not tabs (its header reads '{header}')",
                    fix="save the sheet as tab-separated text (in a spreadsheet: 'Text (tab delimited)'), "
                    "or replace the separators by tabs",
                )
    return table.apply(lambda col: col.str.strip())


def _typed_rows(table: pd.DataFrame, schema: dict) -> list[dict]:
    """Convert sheet cells to the schema's types; empty cells become None."""
    rows = []
    for _, row in table.iterrows():
        record = {}
        for column, cell in row.items():
            types = schema["properties"].get(column, {}).get("type", "string")
            types = types if isinstance(types, list) else [types]
            if cell == "":
                record[column] = None
            elif "number" in types:
                try:
                    record[column] = float(cell)
                except ValueError:
                    record[column] = cell  # schema reports "is not of type number"
            else:
                record[column] = cell
        rows.append(
            {
                k: v
                for k, v in record.items()
                if v is not None or "null" in str(schema["properties"].get(k, {}).get("type"))
            }
        )
    return rows


def validate_sheet(table: pd.DataFrame, *, kind: str, path: str, base_dir: Path) -> list[dict]:
    """Check every row of a sheet against its schema; one dict a row holding every column
    of the schema (None where empty), file columns resolved to absolute Paths."""
    schema = load_schema(kind)
    problems = []
    missing = [c for c in schema["required"] if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{kind} sheet {path} lacks the column(s) {', '.join(missing)} (has: {', '.join(table.columns)})",
            fix=f"add the columns; config/README.md lists the {kind}.tsv columns",
        )
    unknown = [c for c in table.columns if c not in schema["properties"]]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}; expected some of {', '.join(schema['properties'])}")
    validator = _validator(schema)
    rows = _typed_rows(table[[c for c in table.columns if c in schema["properties"]]], schema)
    for index, record in enumerate(rows):
        for error in validator.iter_errors(record):
            column = ".".join(str(p) for p in error.absolute_path) or "(row)"
            problems.append(f"row {index + 2}, column '{column}': {_message(error)}")
    if problems:
        raise ConfigError(
            f"{kind} sheet {path}:\n  - " + "\n  - ".join(problems),
            fix="correct these cells (row numbers count the header as row 1)",
        )
    path_columns = SUBJECT_PATH_COLUMNS if kind == "subjects" else TRIAL_PATH_COLUMNS
    typed = []
    for record in rows:
        record = {column: record.get(column) for column in schema["properties"]}
        for column in path_columns:
            record[column] = (base_dir / record[column]).resolve() if record[column] else None
        typed.append(record)
    return typed


@dataclass(frozen=True)
class Subject:
    """One row of subjects.tsv, typed: a missing optional value is None."""

    name: str
    mass_kg: float
    height_m: float | None
    static_markers: Path
    static_start_s: float | None
    static_end_s: float | None
    emg_mvc: Path | None = None  # EMG of maximal voluntary contractions (config emg.normalise: mvc)


@dataclass(frozen=True)
class Trial:
    """One row of trials.tsv, typed: a missing optional value is None. ``start_s`` and
    ``end_s`` bound the optional region in which cycles are looked for."""

    subject: str
    name: str
    condition: str
    markers: Path
    grf: Path | None
    external_loads: Path | None
    start_s: float | None
    end_s: float | None
    speed_m_s: float | None = None  # a treadmill's belt speed (retrorun/speed.py)
    emg: Path | None = None  # EMG file; None: the C3D's analog channels, or no EMG

    @property
    def region(self) -> dict:
        return {"start_s": self.start_s, "end_s": self.end_s}


def is_c3d(path: str | Path | None) -> bool:
    """Whether a study file is a C3D (imported by rule import_c3d before any stage reads it)."""
    return bool(path) and str(path).lower().endswith(".c3d")


def check_sheets(
    subjects: list[Subject], trials: list[Trial], *, subjects_path: str, trials_path: str, plausible: dict
) -> None:
    """Cross-sheet checks: unique ids, known subjects, sane windows and masses.

    ``plausible`` is the config's ``sheets`` section: mass and height outside its
    ranges are almost certainly a unit slip (g, lb, cm) in the sheet."""
    mass_range = plausible["mass_kg_range"]
    height_range = plausible["height_m_range"]
    problems = []
    names = [s.name for s in subjects]
    duplicated = [name for index, name in enumerate(names) if name in names[:index]]
    if duplicated:
        problems.append(
            f"{subjects_path}: subject id(s) listed twice: {', '.join(duplicated)} (each subject needs one row)"
        )
    pairs = [(t.subject, t.name) for t in trials]
    for index, (subject, trial) in enumerate(pairs):
        if (subject, trial) in pairs[:index]:
            problems.append(
                f"{trials_path}: trial '{trial}' of subject '{subject}' is listed twice "
                "(trial ids must be unique per subject)"
            )
    known = set(names)
    for index, trial in enumerate(trials):
        if trial.subject not in known:
            problems.append(
                f"{trials_path} row {index + 2}: subject '{trial.subject}' is not in {subjects_path} "
                f"(add a row for it there, or fix the id; known: {', '.join(sorted(known))})"
            )
    low, high = mass_range
    for index, subject in enumerate(subjects):
        if not low <= subject.mass_kg <= high:
            problems.append(
                f"{subjects_path} row {index + 2}: mass_kg {subject.mass_kg:g} for subject '{subject.name}' "
                f"is outside {low:g}-{high:g} kg (is it in g or lb? config sheets.mass_kg_range sets the range)"
            )
        height = subject.height_m
        if height is not None and not height_range[0] <= height <= height_range[1]:
            problems.append(
                f"{subjects_path} row {index + 2}: height_m {height:g} for subject '{subject.name}' "
                f"is outside {height_range[0]:g}-{height_range[1]:g} m (is it in cm or mm? config "
                f"sheets.height_m_range sets the range)"
            )
        if (
            None not in (subject.static_start_s, subject.static_end_s)
            and subject.static_end_s <= subject.static_start_s
        ):
            problems.append(f"{subjects_path} row {index + 2}: static_end_s must be after static_start_s")
    static = {s.name: s.static_markers for s in subjects}
    for index, trial in enumerate(trials):
        if None not in (trial.start_s, trial.end_s) and trial.end_s <= trial.start_s:
            problems.append(
                f"{trials_path} row {index + 2}: end_s ({trial.end_s:g}) must be after start_s ({trial.start_s:g})"
            )
        if trial.name == "static" and is_c3d(trial.markers) and is_c3d(static.get(trial.subject)):
            problems.append(
                f"{trials_path} row {index + 2}: trial id 'static' clashes with the import of subject "
                f"'{trial.subject}''s static C3D (both become inputs/{trial.subject}/static.trc); rename the trial"
            )
        if not is_c3d(trial.markers) and trial.grf is None:
            problems.append(
                f"{trials_path} row {index + 2}: trial '{trial.name}' has no grf file "
                f"(give an OpenSim .mot in column 'grf', or a .c3d with force plates in 'markers')"
            )
    if problems:
        raise ConfigError(
            "the study sheets disagree:\n  - " + "\n  - ".join(problems), fix="correct the rows named above"
        )


def check_compared_conditions(config: StudyConfig, trials: list[Trial], *, trials_path: str) -> None:
    """The conditions of analysis.compare must be in the trials sheet.

    With two or more conditions in the sheet both compared ones must be there. A
    one-condition study (an example, a pilot) still runs: it only fails when the pair
    was named in the config and neither is in the sheet, which is a typo."""
    compare = config.values["analysis"]["compare"]
    present = sorted({t.condition for t in trials})
    absent = [c for c in compare if c not in present]
    if len(present) <= 1 and (not config.compare_given or len(absent) < len(compare)):
        return
    if absent:
        raise ConfigError(
            f"analysis.compare names condition(s) {', '.join(repr(c) for c in absent)}, which no trial in "
            f"{trials_path} has (its conditions: {', '.join(present)})",
            fix="set analysis.compare in the config to two conditions of the sheet's 'condition' column, "
            "or correct the condition labels in the sheet",
        )


@dataclass(frozen=True)
class Study:
    """A validated study: config with defaults and absolute paths, and its subjects and
    trials in sheet order."""

    config: dict
    subjects: tuple[Subject, ...]
    trials: tuple[Trial, ...]

    @property
    def name(self) -> str:
        return self.config["study"]

    @property
    def results_dir(self) -> Path:
        return results_dir(self.name)

    def subject(self, name: str) -> Subject:
        return self._subjects_by_name[name]

    def trial(self, subject: str, trial: str) -> Trial:
        return self._trials_by_name[subject, trial]

    # Snakemake's input functions look a trial up for every job: by name, not by scanning
    # the sheet (which made planning quadratic in the number of trials).
    @functools.cached_property
    def _subjects_by_name(self) -> dict[str, Subject]:
        return {s.name: s for s in self.subjects}

    @functools.cached_property
    def _trials_by_name(self) -> dict[tuple[str, str], Trial]:
        return {(t.subject, t.name): t for t in self.trials}


def load_study(config: StudyConfig) -> Study:
    """Read and check the sheets named by a prepared config (see prepare_config): the
    one place where sheet cells become typed values."""
    values = config.values
    subjects_path, trials_path = values["subjects"], values["trials"]
    subjects = read_sheet(subjects_path, kind="subjects")
    trials = read_sheet(trials_path, kind="trials")
    # File paths in the sheets resolve against the config's folder, like every other path.
    subject_rows = validate_sheet(_as_text(subjects), kind="subjects", path=subjects_path, base_dir=config.config_dir)
    trial_rows = validate_sheet(_as_text(trials), kind="trials", path=trials_path, base_dir=config.config_dir)
    subjects = [Subject(name=row.pop("subject"), **row) for row in subject_rows]
    trials = [Trial(name=row.pop("trial"), **row) for row in trial_rows]
    check_sheets(subjects, trials, subjects_path=subjects_path, trials_path=trials_path, plausible=values["sheets"])
    check_compared_conditions(config, trials, trials_path=trials_path)
    return Study(config=values, subjects=tuple(subjects), trials=tuple(trials))


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype(object).where(table.notna(), "").astype(str).replace({"nan": "", "None": ""})


def variant_values(config: dict, overrides: dict, *, source: str) -> dict:
    """A sensitivity variant's config: the validated study ``config`` with ``overrides``
    (dotted key -> value; a section's mapping is merged into it) applied, each overridden
    value checked against its key's schema, so a bad value stops the workflow up front."""
    values = copy.deepcopy(config)
    problems = []
    for key, value in overrides.items():
        *sections, last = key.split(".")
        node = values
        for section in sections:
            node = node[section]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            value = _merge(node[last], value)
        node[last] = value = _coerce_command_line_values(value, config_schema(*key.split(".")))
        problems += [
            f"{key}: {_message(error)}" for error in _validator(config_schema(*key.split("."))).iter_errors(value)
        ]
    if problems:
        raise ConfigError(
            f"{source}: " + "; ".join(problems),
            fix="give each key a value config/README.md allows (workflow/schemas/config.schema.yaml)",
        )
    check_muscle_solver(values, source=source)
    return values
