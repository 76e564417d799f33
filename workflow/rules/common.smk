# Helpers shared by every rule file: the validated study, paths, input functions.
# The config and both sheets are validated here, when Snakemake parses the workflow,
# so a mistake is reported before any job starts.
import json
from pathlib import Path

from retrorun.config import is_c3d, load_study, results_dir, study_config
from retrorun.errors import RetrorunError
from retrorun.validation import validate_study_inputs


# The study is the --configfile(s) the user gave, whole; without one it is the built-in
# demo beside this Snakefile. (No `configfile:` directive: Snakemake would merge the
# user's file into the demo's config, and every study would inherit the demo's keys.)
DEMO_CONFIG = Path(workflow.basedir, "config", "config.yaml")

try:
    _prepared = study_config(dict(config), given_files=list(workflow.overwrite_configfiles),
                             command_line=dict(workflow.config_settings.config), demo_config=DEMO_CONFIG)
    if "synthetic" in _prepared.values and "subjects" not in _prepared.values:
        # The demo: its sheets follow from its config (no OpenSim, deterministic); they
        # are written beside the inputs it generates and read like any study's sheets.
        from retrorun.demo.design import write_study_sheets

        _sheets = write_study_sheets(_prepared.values["synthetic"],
                                     inputs_dir=(results_dir(_prepared.values["study"]) / "inputs").resolve())
        _prepared.values["subjects"], _prepared.values["trials"] = (str(p) for p in _sheets)
    STUDY = load_study(_prepared)
    # The files are checked once, by the main Snakemake process; a cluster job parses
    # this workflow again and need not reread every recording and the model.
    if workflow.is_main_process:
        for _warning in validate_study_inputs(STUDY):
            logger.warning(f"retrorun: {_warning}")
except RetrorunError as err:
    raise WorkflowError(str(err)) from None
config.clear()
config.update(STUDY.config)

STUDY_DIR = str(STUDY.results_dir)
# The sheets' rows as typed records (retrorun.config.Subject, Trial), in sheet order:
# rules pass their fields to the scripts as they are (None where a cell is empty).
SUBJECTS = STUDY.subjects
TRIALS = STUDY.trials


wildcard_constraints:
    subject="[^/]+",
    trial="[^/]+",


def subject_dir(subject):
    return f"{STUDY_DIR}/subjects/{subject}"


def trial_dir(subject, trial):
    return f"{STUDY_DIR}/trials/{subject}/{trial}"


def log_path(rule_name, *parts):
    return f"{STUDY_DIR}/logs/{rule_name}/" + "/".join(parts) + ".log"


def benchmark_path(rule_name, *parts):
    return f"{STUDY_DIR}/benchmarks/{rule_name}/" + "/".join(parts) + ".tsv"


def failed_trials():
    """Trials whose last run left an error record: they are left out of the aggregates
    (and listed as failed) until the record is deleted or --config retry_failed=true."""
    if config.get("retry_failed"):
        return []
    return [(t.subject, t.name) for t in TRIALS
            if Path(trial_dir(t.subject, t.name), "error.json").is_file()]


def all_trials():
    """(subject, trial) of every trial still expected to produce results."""
    failed = set(failed_trials())
    return [(t.subject, t.name) for t in TRIALS if (t.subject, t.name) not in failed]


def external_loads_template(wildcards):
    override = STUDY.trial(wildcards.subject, wildcards.trial).external_loads
    return str(override) if override else config["model"]["external_loads"]


def model_inputs():
    inputs = {"model": config["model"]["osim"], "scale_setup": config["model"]["scale_setup"]}
    if config["model"].get("marker_set"):
        inputs["marker_set"] = config["model"]["marker_set"]
    return inputs


def final_outputs():
    outputs = [f"{STUDY_DIR}/qc.csv"]
    outputs += [f"{subject_dir(s.name)}/scaled_model.osim" for s in SUBJECTS]
    outputs += [f"{trial_dir(s, t)}/qc.json" for s, t in all_trials()]
    outputs += extra_final_outputs()
    return outputs


_EXTRA_FINAL_OUTPUTS = []


def extra_final_outputs():
    return list(_EXTRA_FINAL_OUTPUTS)


def _imported(subject, name, ext):
    return f"{STUDY_DIR}/inputs/{subject}/{name}.{ext}"


def static_markers_path(wildcards):
    path = STUDY.subject(wildcards.subject).static_markers
    return _imported(wildcards.subject, "static", "trc") if is_c3d(path) else str(path)


def trial_markers_path(wildcards):
    path = STUDY.trial(wildcards.subject, wildcards.trial).markers
    return _imported(wildcards.subject, wildcards.trial, "trc") if is_c3d(path) else str(path)


def trial_grf_path(wildcards):
    trial = STUDY.trial(wildcards.subject, wildcards.trial)
    return _imported(wildcards.subject, wildcards.trial, "mot") if is_c3d(trial.markers) else str(trial.grf)


def trial_region(wildcards):
    """start_s/end_s of the trials sheet: the optional region in which cycles are looked for."""
    return STUDY.trial(wildcards.subject, wildcards.trial).region
