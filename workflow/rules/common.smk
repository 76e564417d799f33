# Helpers the rule files share (the validated study, paths, input functions).
# The config and both sheets are validated here, when Snakemake parses the workflow,
# so a mistake is reported before any job starts.
import json
from pathlib import Path

import pandas as pd

from retrorun.config import load_study, study_config
from retrorun.errors import RetrorunError
from retrorun.jobs import error_record_path
from retrorun.validation import validate_study_inputs


# The study is the --configfile(s) the user gave, whole; without one it is the built-in
# demo beside this Snakefile. (No `configfile:` directive: Snakemake would merge the
# user's file into the demo's config, and every study would inherit the demo's keys.)
DEMO_CONFIG = Path(workflow.basedir, "config", "config.yaml")

try:
    _prepared = study_config(dict(config), given_files=list(workflow.overwrite_configfiles),
                             command_line=dict(workflow.config_settings.config), demo_config=DEMO_CONFIG)
    if "synthetic" in _prepared and "subjects" not in _prepared:
        # The demo: its sheets follow from its config (no OpenSim, deterministic); they
        # are written beside the inputs it generates and read like any study's sheets.
        from retrorun.demo.design import write_study_sheets

        _sheets = write_study_sheets(_prepared["synthetic"], inputs_dir=Path(f"results/{_prepared['study']}/inputs").resolve())
        _prepared["subjects"], _prepared["trials"] = (str(p) for p in _sheets)
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

STUDY_DIR = f"results/{config['study']}"
SUBJECTS = STUDY.subjects
TRIALS = STUDY.trials


wildcard_constraints:
    subject="[^/]+",
    trial="[^/]+",


# Where each kind of output lives. With the default arguments a path is a wildcard
# pattern (rules' input/output/log); with names it is one subject's or trial's file.
def subject_dir(subject="{subject}"):
    return f"{STUDY_DIR}/subjects/{subject}"


def subject_path(name, subject="{subject}"):
    return f"{subject_dir(subject)}/{name}"


def trial_dir(subject="{subject}", trial="{trial}"):
    return f"{STUDY_DIR}/trials/{subject}/{trial}"


def trial_path(name, subject="{subject}", trial="{trial}"):
    return f"{trial_dir(subject, trial)}/{name}"


def trial_folder(wildcards):
    """params trial_dir: the folder where a failing job of this trial leaves its error
    record (retrorun.jobs.job reads it; rules without it record no trial failure)."""
    return trial_dir(wildcards.subject, wildcards.trial)


def study_path(name):
    return f"{STUDY_DIR}/{name}"


def log_path(rule_name, *parts):
    return f"{STUDY_DIR}/logs/{rule_name}/{'/'.join(parts)}.log"


def benchmark_path(rule_name, *parts):
    return f"{STUDY_DIR}/benchmarks/{rule_name}/{'/'.join(parts)}.tsv"


def trial_log(rule_name):
    return log_path(rule_name, "{subject}", "{trial}")


def trial_benchmark(rule_name):
    return benchmark_path(rule_name, "{subject}", "{trial}")


def subject_log(rule_name):
    return log_path(rule_name, "{subject}")


def subject_benchmark(rule_name):
    return benchmark_path(rule_name, "{subject}")


def study_log(rule_name):
    return log_path(rule_name, "all")


def subject_row(subject):
    return STUDY.subject_row(subject)


def trial_row(subject, trial):
    return STUDY.trial_row(subject, trial)


def failed_trials():
    """Trials whose last run left an error record: they are left out of the aggregates
    (and listed as failed) until the record is deleted or --config retry_failed=true."""
    if config.get("retry_failed"):
        return []
    return [(s, t) for s, t in TRIALS[["subject", "trial"]].itertuples(index=False)
            if error_record_path(trial_dir(s, t)).is_file()]


def failed_trial_records(wildcards):
    return [str(error_record_path(trial_dir(s, t))) for s, t in failed_trials()]


def all_trials():
    """(subject, trial) of every trial still expected to produce results."""
    failed = set(failed_trials())
    return [(s, t) for s, t in TRIALS[["subject", "trial"]].itertuples(index=False) if (s, t) not in failed]


def external_loads_template(wildcards):
    override = trial_row(wildcards.subject, wildcards.trial).get("external_loads")
    return override if override else config["model"]["external_loads"]


def model_inputs():
    inputs = {"model": config["model"]["osim"], "scale_setup": config["model"]["scale_setup"]}
    if config["model"].get("marker_set"):
        inputs["marker_set"] = config["model"]["marker_set"]
    return inputs


def get_final_output():
    """The targets of `all`; every subject's scaled model, every trial's QC, the study's
    QC, tables, figures and report front page, and with config `synthetic` (the demo)
    its validation against the known truth."""
    outputs = [study_path("qc.csv")]
    outputs += [subject_path("scaled_model.osim", s) for s in SUBJECTS["subject"]]
    outputs += [trial_path("qc.json", s, t) for s, t in all_trials()]
    outputs += [*rules.analysis_tables.output, *rules.analysis_figures.output, *rules.report_front_page.output]
    if "synthetic" in config:
        outputs += [rules.validate_ground_truth.output.ground_truth, rules.validate_ground_truth.output.literature]
    return [str(path) for path in outputs]


def imported_path(suffix, subject="{subject}", trial="{trial}"):
    """A file import_c3d writes from a recording (trial "static" is the static trial)."""
    return f"{STUDY_DIR}/inputs/{subject}/{trial}{suffix}"


def _imported(subject, name, ext):
    return imported_path(f".{ext}", subject, name)


def static_markers_path(wildcards):
    path = subject_row(wildcards.subject)["static_markers"]
    return _imported(wildcards.subject, "static", "trc") if path.lower().endswith(".c3d") else path


def trial_markers_path(wildcards):
    path = trial_row(wildcards.subject, wildcards.trial)["markers"]
    return _imported(wildcards.subject, wildcards.trial, "trc") if path.lower().endswith(".c3d") else path


def trial_grf_path(wildcards):
    row = trial_row(wildcards.subject, wildcards.trial)
    return _imported(wildcards.subject, wildcards.trial, "mot") if row["markers"].lower().endswith(".c3d") else row["grf"]


def trial_region(wildcards):
    """start_s/end_s of the trials sheet: the optional region in which cycles are looked for."""
    row = trial_row(wildcards.subject, wildcards.trial)
    return {"start_s": None if pd.isna(row["start_s"]) else float(row["start_s"]),
            "end_s": None if pd.isna(row["end_s"]) else float(row["end_s"])}
