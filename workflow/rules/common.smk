# Helpers the rule files share (the validated study, paths, input functions).
# The config and both sheets are validated here, when Snakemake parses the workflow,
# so a mistake is reported before any job starts.
import hashlib
import json
import re
from pathlib import Path

from snakemake.io import apply_wildcards

from retrorun.config import is_c3d, load_study, results_dir, study_config
from retrorun.emg import enabled as emg_enabled
from retrorun.errors import RetrorunError
from retrorun.groups import analysis_groups
from retrorun.jobs import error_record_path
from retrorun.scheduler_passes import keep_one_pending_pass
from retrorun.sensitivity import RULE_STAGES, plan_variants
from retrorun.slurm_polling import end_without_waiting, honour_the_profile
from retrorun.validation import validate_study_inputs

# Snakemake's scheduler would otherwise run passes that multiply with every finished job
# (retrorun/scheduler_passes.py: 26 s of the demo's CPU)
keep_one_pending_pass()
# and the SLURM plugin would wait up to 180 s between status checks, and a whole wait
# after the run's last job (retrorun/slurm_polling.py)
honour_the_profile()
end_without_waiting()

# The study is the --configfile(s) the user gave, whole; without one it is the built-in
# demo beside this Snakefile. (No `configfile:` directive: Snakemake would merge the
# user's file into the demo's config, and every study would inherit the demo's keys.)
DEMO_CONFIG = Path(workflow.basedir, "config", "config.yaml")

try:
    _prepared = study_config(
        dict(config),
        given_files=list(workflow.overwrite_configfiles),
        command_line=dict(workflow.config_settings.config),
        demo_config=DEMO_CONFIG,
    )
    if "synthetic" in _prepared.values and "subjects" not in _prepared.values:
        # The demo: its sheets follow from its config (no OpenSim, deterministic); they
        # are written beside the inputs it generates and read like any study's sheets.
        from retrorun.demo.design import write_study_sheets

        _sheets = write_study_sheets(
            _prepared.values["synthetic"], inputs_dir=(results_dir(_prepared.values["study"]) / "inputs").resolve()
        )
        _prepared.values["subjects"], _prepared.values["trials"] = (str(p) for p in _sheets)
    STUDY = load_study(_prepared)
    # config `sensitivity`: name -> retrorun.sensitivity.Variant (rules in sensitivity.smk)
    VARIANTS = plan_variants(STUDY.config, source="config")
    # The files are checked once, by the main Snakemake process; a cluster job parses
    # this workflow again and need not reread every recording and the model. What each
    # file held is remembered until it changes (retrorun.validation.ValidationCache),
    # beside Snakemake's own state in the working directory: a dry run writes no results/.
    if workflow.is_main_process:
        _cache_dir = Path(".snakemake", "retrorun", "validation_cache", STUDY.config["study"])
        for _warning in validate_study_inputs(STUDY, cache_dir=_cache_dir):
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


def run_config(wildcards):
    """The config a job runs with: its sensitivity variant's (wildcard `variant`,
    sensitivity.smk), else the study's. Input functions that choose files by a config
    key read it here, so a variant's rules choose by the variant's value."""
    variant = getattr(wildcards, "variant", None)
    return VARIANTS[variant].config if variant else config


def sensitivity_dir(variant="{variant}"):
    return study_path(f"sensitivity/{variant}")


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


def study_benchmark(rule_name):
    return benchmark_path(rule_name, "all")


_FAILED_TRIALS = {}


def failed_trials():
    """Trials whose last run left an error record: they are left out of the aggregates
    (and listed as failed) until the record is deleted or --config retry_failed=true.
    Looked up once per plan (a record a job of this run writes counts from the next run)."""
    if config.get("retry_failed"):
        return []
    if "trials" not in _FAILED_TRIALS:
        _FAILED_TRIALS["trials"] = [
            (t.subject, t.name) for t in TRIALS if error_record_path(trial_dir(t.subject, t.name)).is_file()
        ]
    return list(_FAILED_TRIALS["trials"])


def failed_trial_records(wildcards):
    return [str(error_record_path(trial_dir(s, t))) for s, t in failed_trials()]


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


def get_final_output():
    """The targets of `all`; every subject's scaled model, the study's QC (which reads
    every trial's), tables, figures, report front page and methods section, and with
    config `synthetic` (the demo) its validation against the known truth."""
    outputs = [study_path("qc.csv")]
    outputs += [subject_path("scaled_model.osim", s.name) for s in SUBJECTS]
    outputs += [*rules.analysis_tables.output, *rules.analysis_figures.output, *rules.report_front_page.output]
    outputs += [*rules.model_chains.output, *rules.hypotheses.output]
    if emg_trials():
        outputs += [rules.emg_agreement.output.agreement, *rules.emg_figures.output]
    outputs += [rules.methods_text.output.methods]
    if "synthetic" in config:
        outputs += [rules.validate_ground_truth.output.ground_truth, rules.validate_ground_truth.output.literature]
        outputs += [*rules.error_budget.output]
        if emg_trials():
            outputs += [rules.validate_emg_truth.output.emg_truth]
    if VARIANTS:
        outputs += [*rules.sensitivity_table.output, *rules.sensitivity_figure.output]
        if emg_trials():
            outputs += [*rules.emg_agreement_sensitivity.output]
    return [str(path) for path in outputs]


def sensitivity_table_input(wildcards):
    """The sensitivity table for the report's front page, when config `sensitivity` has variants."""
    return {"sensitivity": study_path("tables/sensitivity.csv")} if VARIANTS else {}


def imported_path(suffix, subject="{subject}", trial="{trial}"):
    """A file import_c3d writes from a recording (trial "static" is the static trial)."""
    return f"{STUDY_DIR}/inputs/{subject}/{trial}{suffix}"


def _imported(subject, name, ext):
    return imported_path(f".{ext}", subject, name)


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


# C3D import (imports.smk)
def c3d_source(wildcards):
    static = STUDY.subject(wildcards.subject).static_markers
    if wildcards.trial == "static" and is_c3d(static):
        return str(static)
    return str(STUDY.trial(wildcards.subject, wildcards.trial).markers)


# gait events and cycles (cycles.smk)
def analysis_span(wildcards):
    return trial_path("analysis_span.json", wildcards.subject, wildcards.trial)


def unused_trial_lines():
    """One line per trial whose analysis_span.json says it has no usable cycle."""
    lines = []
    for s, t in all_trials():
        path = Path(trial_path("analysis_span.json", s, t))
        if path.is_file():
            warning = json.loads(path.read_text()).get("warning")
            if warning:
                lines.append(warning)
    return lines


def print_cycle_summary():
    # in Snakemake's own final output, so a trial with no cycle is seen without a log
    lines = unused_trial_lines()
    if lines:
        logger.warning(
            "retrorun: %d trial(s) with no usable %s:\n  %s"
            % (len(lines), config["analysis"]["unit"], "\n  ".join(lines))
        )


# static optimization (muscles.smk)
def so_chunks(wildcards):
    count = run_config(wildcards)["static_optimization"]["chunks"]
    return expand(
        trial_path(f"so_chunks/{{chunk}}-of-{count}/so_{{kind}}.sto", wildcards.subject, wildcards.trial),
        chunk=range(count),
        kind=["activation", "force"],
    )


def so_chunk_actuators(wildcards):
    """The SO model's actuators (reserves, residuals), written by every chunk alike: the
    first chunk's."""
    count = run_config(wildcards)["static_optimization"]["chunks"]
    return trial_path(f"so_chunks/0-of-{count}/so_actuators.csv", wildcards.subject, wildcards.trial)


def so_chunk_output(chunk="{chunk}", chunks="{chunks}"):
    folder = f"so_chunks/{chunk}-of-{chunks}"
    return dict(
        activation=trial_path(f"{folder}/so_activation.sto"),
        force=trial_path(f"{folder}/so_force.sto"),
        actuators=trial_path(f"{folder}/so_actuators.csv"),
        # the solver's status: MocoInverse's IPOPT status, iterations and objective
        status=trial_path(f"{folder}/so_solver.json"),
    )


def so_runtime_min(wildcards, attempt):
    """Cluster minutes of a static_optimization_chunk job (attempt 2 doubles them)."""
    settings = run_config(wildcards)["static_optimization"]
    if settings["solver"] == "moco_inverse":
        return settings["moco_inverse"]["runtime_min"] * attempt
    # solver opensim: about 0.3 s of CPU per frame on the 92-muscle Hamner model, so 30 min
    # covers about 6000 frames per chunk (50 s of running at 120 Hz); fast: 4-6 ms per frame
    return 30 * attempt


def trial_motion_runtime_min(wildcards, attempt):
    """Cluster minutes of a trial's motion stages (TRIAL_MOTION_RUNTIME_MIN, dynamics.smk),
    and the demo's truth's where it is one of them."""
    return (TRIAL_MOTION_RUNTIME_MIN + (DEMO_TRUTH_RUNTIME_MIN if DEMO_IN_CHAINS else 0)) * attempt


def trial_analysis_runtime_min(wildcards, attempt):
    """Cluster minutes of a trial's analysis stages: 5, SO's where SO is one of them, and 5
    for the demo's error budget where it is one."""
    own = 5 + (5 if DEMO_IN_CHAINS else 0)
    return own * attempt + (so_runtime_min(wildcards, attempt) if SO_IN_ANALYSIS else 0)


def so_threads(wildcards):
    """Threads of a static_optimization_chunk job: MocoInverse's configured count, else 1."""
    settings = run_config(wildcards)["static_optimization"]
    return settings["moco_inverse"]["threads"] if settings["solver"] == "moco_inverse" else 1


# On a cluster each trial's chain (heading, GRF, IK, events, ID, residual reduction, SO,
# QC, its analysis) is one job (Snakemake job group): a SLURM job costs seconds of
# scheduling and start-up, more than most of these stages' work. A step that reads
# several trials of a subject after their chains have started (mass_com's model, the EMG
# normalisation over the analysed cycles) joins their chains into one group job. Scaling
# stays outside (a local rule, Snakefile): it is upstream of all of a subject's trials and
# would join them into one job. (The demo's truth of one trial joins its trial's group:
# synthetic.smk.) Ignored by local runs;
# `group-components: trial=N` in the profile packs N trials into one SLURM job
# (README, "Running on a SLURM cluster").
TRIAL_GROUP = "trial"


# The analysis keys one trial's cycle metrics depend on (the pipeline's, and the demo's
# truth and error budget): changing the statistics (compare, alpha, min_subjects,
# min_cycles, the QC gate) reruns only the study tables
TRIAL_ANALYSIS_KEYS = ("unit", "weighting", "knee_coordinate", "knee_extension_sign", "speed_coordinates")
TRIAL_ANALYSIS = {key: config["analysis"][key] for key in TRIAL_ANALYSIS_KEYS}


# residual reduction (residual_reduction.smk)
REDUCTION = config["residual_reduction"]
# A per-trial step joins a trial's chain of stages where every run of the study (the main
# run and each sensitivity variant: one rule serves them all) allows it; else it stays a
# job of its own in every run. Each job costs 1-2 s of start-up and about 3 ms of every
# plan (docs/performance.md, "Planning a large study").
RUN_CONFIGS = [config] + [v.config for v in VARIANTS.values()]
RUN_METHODS = {run["residual_reduction"]["method"] for run in RUN_CONFIGS}
# the residual step of one trial (every method but mass_com, which reads all of a
# subject's trials; about a second of work) is the first stage of the trial's analysis
REDUCTION_IN_ANALYSIS = "mass_com" not in RUN_METHODS
# RRA and the ID on its model and kinematics are the last stages of the trial's
# trial_motion chain (dynamics.smk): as many jobs per trial as with none
RRA_IN_MOTION = RUN_METHODS == {"rra"}
# SO of a trial (one chunk) is the stage before the merge in its trial_analysis chain where
# every run solves it in one chunk and no variant reruns the analysis only (it would rerun
# SO as well): 2 jobs per trial, not 3. A setting of the analysis still reruns only the
# analysis, since a chain reuses a stage whose inputs, params and code are unchanged
# (retrorun/stage_reuse.py).
SO_IN_ANALYSIS = all(run["static_optimization"]["chunks"] == 1 for run in RUN_CONFIGS) and not any(
    v.first_stage == "analysis" for v in VARIANTS.values()
)
# Where nothing runs between a trial's motion and its analysis, all of a trial's stages
# are one job (the rule named trial in analysis.smk), not two (trial_motion and
# trial_analysis); every job costs 1-2 s of start-up and about 3 ms of every plan
# (docs/performance.md, "Planning a large study"). Something runs between them with EMG
# (its processing and the normalisation over a subject's analysed cycles), with mass_com
# (it reads all of a subject's trials), with SO in chunks of their own, and with a
# sensitivity variant (one that changes SO or the analysis reruns trial_analysis only).
# Without variants, rra is the end of the motion stages (RRA_IN_MOTION).
TRIAL_IN_ONE_JOB = not VARIANTS and not emg_enabled(config) and REDUCTION_IN_ANALYSIS and SO_IN_ANALYSIS
# With EMG, a trial's EMG processing is the last stage of its trial_motion and the
# envelopes' normalisation the first of its trial_analysis (emg.smk): the subject's
# divisors (rule emg_normalisation) come between, so a trial is two jobs, not four. Not
# with variants: the EMG is processed once, by the main run, and read by every variant
# (retrorun/sensitivity.py), which a variant's copy of a chain would redo in its folder.
EMG_IN_CHAINS = emg_enabled(config) and not VARIANTS
# With EMG, a subject's trials wait for each other at its normalisation anyway: all its
# trials' chains and the normalisation then run in one job (one rule per subject,
# analysis.smk; scripts/run_subject.py) where config layout.one_job_per_subject allows,
# the trials side by side in worker processes where Snakemake gives the job more than one
# core (subject_job_threads). Each job costs about a second of CPU to start (Python,
# pandas, OpenSim, Snakemake's script preamble): the demo's 8 subjects ran 40 of them.
# Where residual reduction or SO run as jobs of their own, those come between instead.
SUBJECT_IN_ONE_JOB = (
    EMG_IN_CHAINS and REDUCTION_IN_ANALYSIS and SO_IN_ANALYSIS and config["layout"]["one_job_per_subject"]
)
# The demo's truth of a trial begins its trial_motion job and its error budget ends its
# trial_analysis job (synthetic.smk), where no variant runs: both are the main run's only
# (retrorun/sensitivity.py, MAIN_ONLY_RULES), which a variant's copy of a chain would redo.
DEMO_IN_CHAINS = "synthetic" in config and not VARIANTS
# The stage of each rule a variant may rerun, as in retrorun.sensitivity; a chain by its last
# stage, so trial_motion is residual reduction where it ends with RRA
CHAIN_STAGES = RULE_STAGES | ({"trial_motion": "residual_reduction"} if RRA_IN_MOTION else {})

# The files of a trial's chains (trial_motion, trial_analysis) that rules outside the
# chains read, by their name in the trial's folder: a chain declares these, for Snakemake
# to find the job that writes them. The others are listed in the chain's manifest only
# (scripts/run_stages.py), which the next chain and analysis_tables declare instead: at
# 1000 trials each file a job declares costs every plan about a millisecond
# (docs/performance.md, "Planning a large study"). A rule reading a chain's file missing
# here fails the plan: "Missing input files for rule ...".
CHAIN_EXPORTS = {"qc.json"}  # aggregate_qc
if emg_enabled(config):
    # process_emg, emg_normalisation, emg_agreement, emg_figures (emg.smk)
    CHAIN_EXPORTS |= {"analysis_span.json", "cycles.csv", "cycle_curves.csv"}
if "synthetic" in config:
    # the demo's error budget and validation against its truth (synthetic.smk)
    CHAIN_EXPORTS |= {"contacts.csv", "ik_unfiltered.mot", "heading.json", "ik_coordinates.csv", "grf.csv"}
    CHAIN_EXPORTS |= {"id_generalized_forces.csv", "so_activations.csv", "cycles.csv", "cycle_metrics.csv"}
if not REDUCTION_IN_ANALYSIS:
    # reduce_residuals as a job (mass_com reads a subject's trials)
    CHAIN_EXPORTS |= {"id_generalized_forces.csv", "ik.mot", "cycles.csv", "analysis_span.json"}
if RUN_METHODS - {"none"} and not RRA_IN_MOTION:
    # rules residual_reduction_algorithm, inverse_dynamics_after_reduction
    CHAIN_EXPORTS |= {"ik.mot", "grf.mot", "external_loads.xml", "cycles.csv", "analysis_span.json"}
if not SO_IN_ANALYSIS:
    # static_optimization_chunk as a job (RRA's model and kinematics from trial_motion)
    CHAIN_EXPORTS |= {"ik.mot", "grf.mot", "external_loads.xml", "analysis_span.json"}
    CHAIN_EXPORTS |= {"rra/model.osim", "rra_kinematics.mot"}


def subject_trials(subject):
    return [t for s, t in all_trials() if s == subject]


# The subjects that are one job each (SUBJECT_IN_ONE_JOB), which scales them first: those
# with a trial to run
SUBJECTS_SCALED_IN_THEIR_JOB = [s.name for s in SUBJECTS if subject_trials(s.name)] if SUBJECT_IN_ONE_JOB else []


def subjects_other_than(names):
    """A `subject` wildcard constraint matching every subject folder but those of `names`."""
    if not names:
        return "[^/]+"
    return "(?!(?:" + "|".join(re.escape(name) for name in names) + ")(?:/|$))[^/]+"


def mass_com_model(subject):
    return subject_path("residual_reduction/model.osim", subject)


def rra_dir(subject, trial):
    return trial_path("rra", subject, trial)


def reduced_model(wildcards):
    """The model every stage after residual reduction runs on."""
    method = run_config(wildcards)["residual_reduction"]["method"]
    if method == "none":
        return subject_path("scaled_model.osim", wildcards.subject)
    if method == "rra":
        return f"{rra_dir(wildcards.subject, wildcards.trial)}/model.osim"
    return mass_com_model(wildcards.subject)


def reduced_coordinates(wildcards):
    """The coordinates (.mot) ID after reduction and SO read: RRA's, or IK's."""
    if run_config(wildcards)["residual_reduction"]["method"] == "rra":
        return trial_path("rra_kinematics.mot", wildcards.subject, wildcards.trial)
    return trial_path("ik.mot", wildcards.subject, wildcards.trial)


def reduced_coordinates_table(wildcards):
    """The same coordinates as a table (deg, m), for the analysis's joint angles."""
    if run_config(wildcards)["residual_reduction"]["method"] == "rra":
        return trial_path("rra_coordinates.csv", wildcards.subject, wildcards.trial)
    return trial_path("ik_coordinates.csv", wildcards.subject, wildcards.trial)


def dynamics_before_reduction(wildcards):
    return trial_path("id_generalized_forces.csv", wildcards.subject, wildcards.trial)


def dynamics_after_reduction(wildcards):
    """ID generalized forces on the reduced model and kinematics (the first ID with `none`)."""
    if run_config(wildcards)["residual_reduction"]["method"] == "none":
        return dynamics_before_reduction(wildcards)
    return trial_path("id_after_reduction.csv", wildcards.subject, wildcards.trial)


def rra_qc_inputs(wildcards):
    if run_config(wildcards)["residual_reduction"]["method"] != "rra":
        return {}
    folder = rra_dir(wildcards.subject, wildcards.trial)
    return {"rra_changes": f"{folder}/kinematic_changes.csv", "rra_summary": f"{folder}/summary.csv"}


def reduction_table(wildcards):
    """The change table QC reads. mass_com adjusts one model from all of a subject's
    trials, so its table is the subject's; otherwise nothing is shared between trials and
    each trial has its own, so a trial that fails does not hold back the others."""
    if run_config(wildcards)["residual_reduction"]["method"] == "mass_com":
        return subject_path("residual_reduction/changes.csv", wildcards.subject)
    return trial_path("residual_reduction/changes.csv", wildcards.subject, wildcards.trial)


def reduction_scope(wildcards):
    """(subject, trials) of a reduce_residuals job: 'subjects/<s>' is every trial of the
    subject, 'trials/<s>/<t>' that one trial."""
    parts = wildcards.scope.split("/")
    return parts[1], (parts[2:] if parts[0] == "trials" else subject_trials(parts[1]))


def _scope_files(name):
    return lambda wc: [trial_path(name, reduction_scope(wc)[0], t) for t in reduction_scope(wc)[1]]


# analysis (analysis.smk)
def analysis_trial_info():
    return [{"subject": s, "trial": t, "condition": STUDY.trial(s, t).condition} for s, t in all_trials()]


# every analysed trial's files analysis_tables reads, by name
ANALYSIS_TABLE_FILES = {
    "cycles": "cycles.csv",
    "metrics": "cycle_metrics.csv",
    "curves": "cycle_curves.csv",
    "stance_curves": "stance_curves.csv",
    "spans": "analysis_span.json",
    "geometry": "gait_geometry.csv",
}


def analysis_table_files(variant=None):
    """{name: every analysed trial's file} of analysis_tables; a variant's copy's own
    where it reruns the chain that writes them. Its job declares the chains' manifests."""
    files = {key: [trial_path(name, s, t) for s, t in all_trials()] for key, name in ANALYSIS_TABLE_FILES.items()}
    return _moved(files, variant) if variant else files


def analysis_table_inputs(wildcards):
    """The main run's manifests of the chains that write analysis_tables' files (a
    variant's copy moves them, sensitivity.smk)."""
    return declared_files(analysis_table_files())


def _figure(name, caption, category="Results"):
    return {
        f"{name}_{ext}": report(
            study_path(f"figures/{name}.{ext}"),
            caption=f"../report/{caption}.rst",
            category=category,
            subcategory="Figures" if ext == "png" else "Figures (SVG)",
        )
        for ext in ("png", "svg")
    }


# sensitivity variants (sensitivity.smk; config `sensitivity`): a variant's rule is a main
# rule with its outputs in the variant's folder and its inputs read from there or, for a
# stage the variant does not rerun, from the main run
def _in_variant(path, variant):
    """A main-run file as `variant` reads it: its own copy when it reruns the rule
    that writes it, else the main run's file."""
    path = str(path)
    # a chain's file, or the output of a rule (one whose stages a chain took in is not defined)
    writer = (_chain_file(path) or [None])[0] or next(
        (name for name in RULE_STAGES if rules.has(name) and getattr(rules, name).rule.is_producer(path)), None
    )
    if writer is not None and VARIANTS[variant].reruns(writer, CHAIN_STAGES):
        return f"{sensitivity_dir(variant)}{path[len(STUDY_DIR) :]}"
    return path


def _each_path(value, change):
    """A path, or the paths in lists and dicts of them, each changed by change(path)."""
    if isinstance(value, dict):
        return {key: _each_path(item, change) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_each_path(item, change) for item in value]
    return change(value)


def _moved(value, variant):
    return _each_path(value, lambda path: _in_variant(path, variant))


def _resolved(item, wildcards):
    """One input item of a main rule, for these wildcards: a function's result, or the
    pattern with the wildcards filled in."""
    function = getattr(item, "callable", None) or (item if callable(item) else None)
    if function is not None:
        return function(wildcards)
    if isinstance(item, (list, tuple)):
        return [apply_wildcards(str(p), wildcards) for p in item]
    return apply_wildcards(str(item), wildcards)


def variant_input(rule_name):
    """The inputs of main rule `rule_name` as its variant copy reads them, as one unpack
    function: named inputs (and those of the rule's own unpack functions) keep their
    names, so the rule's script runs unchanged."""
    positional, named, _ = getattr(rules, rule_name).rule.ruleinfo.input
    unpacked = [item for item in positional if getattr(item, "flags", {}).get("unpack")]
    unnamed = [item for item in positional if item not in unpacked]
    if unnamed and (named or unpacked):
        raise WorkflowError(f"sensitivity.smk: rule {rule_name} mixes named and unnamed inputs")

    def inputs(wildcards):
        if unnamed:
            paths = []
            for item in unnamed:
                value = _resolved(item, wildcards)
                paths += value if isinstance(value, list) else [value]
            return _moved(paths, wildcards.variant)
        files = {}
        for item in unpacked:
            files.update(_resolved(item, wildcards))
        files.update({key: _resolved(item, wildcards) for key, item in named.items()})
        return _moved(files, wildcards.variant)

    return unpack(inputs)


def _in_variant_dir(pattern):
    pattern = str(pattern)
    assert pattern.startswith(f"{STUDY_DIR}/"), pattern
    return f"{sensitivity_dir()}{pattern[len(STUDY_DIR) :]}"


def variant_output(rule_name):
    """The outputs of main rule `rule_name` in the variant's folder, named ones as a dict."""
    positional, named, _ = getattr(rules, rule_name).rule.ruleinfo.output
    if named:
        return {key: _in_variant_dir(item) for key, item in named.items()}
    return [_in_variant_dir(item) for item in positional]


def variant_log(rule_name):
    """The logs of main rule `rule_name` in the variant's folder, named ones as a dict."""
    positional, named, _ = getattr(rules, rule_name).rule.ruleinfo.log
    if named:
        return {key: _in_variant_dir(item) for key, item in named.items()}
    return [_in_variant_dir(item) for item in positional]


def variant_benchmark(rule_name):
    return _in_variant_dir(getattr(rules, rule_name).rule.ruleinfo.benchmark.paths)


def variant_setting(key):
    """A param from the config: the variant's value of dotted `key`."""

    def value(wildcards):
        node = VARIANTS[wildcards.variant].config
        for part in key.split("."):
            node = node[part]
        return node

    return value


def variant_trial_folder(wildcards):
    """Where a failing job of the variant leaves its error record (not the main run's trial folder)."""
    return f"{sensitivity_dir(wildcards.variant)}{trial_folder(wildcards)[len(STUDY_DIR) :]}"


def variant_trial_analysis(wildcards):
    analysis = VARIANTS[wildcards.variant].config["analysis"]
    return {key: analysis[key] for key in TRIAL_ANALYSIS_KEYS}


def sensitivity_comparisons():
    return {name: f"{sensitivity_dir(name)}/tables/comparison.csv" for name in VARIANTS}


# the demo's truth (synthetic.smk; config `synthetic` only)
def truth_dir(subject="{subject}"):
    return study_path(f"truth/{subject}")


def truth_path(name, subject="{subject}"):
    return f"{truth_dir(subject)}/{name}"


def synthetic_truth(subject):
    from retrorun.demo.design import trial_names
    from retrorun.demo.subjects import truth_paths

    return [str(p) for p in truth_paths(truth_dir(subject), trial_names(config["synthetic"])).values()]


def truth_outcomes(subject, trial):
    from retrorun.demo.subjects import outcome_paths

    return {k: str(v) for k, v in outcome_paths(truth_dir(subject), trial).items()}


# EMG (emg.smk; config emg.channels empty: no EMG)
def emg_file(subject, trial):
    from retrorun.emg import emg_source

    return emg_source(STUDY.trial(subject, trial), config)


def emg_trials(subject=None):
    """(subject, trial) of the trials still expected to produce results that have EMG."""
    return [(s, t) for s, t in all_trials() if (subject is None or s == subject) and emg_file(s, t)]


def trial_emg_source(wildcards):
    return str(emg_file(wildcards.subject, wildcards.trial))


def emg_analysis_inputs(wildcards):
    """analyse_trial's EMG input: the trial's normalised envelopes, when it has EMG."""
    if emg_file(wildcards.subject, wildcards.trial):
        return {"emg": trial_path("emg_envelopes.csv", wildcards.subject, wildcards.trial)}
    return {}


def has_emg(wildcards):
    return bool(emg_file(wildcards.subject, wildcards.trial))


def emg_normalisation_files(subject):
    """{name: file of each of the subject's trials with EMG} that rule emg_normalisation reads."""
    trials = emg_trials(subject)
    return {
        "processed": [trial_path("emg_processed.csv", s, t) for s, t in trials],
        "cycles": [trial_path("cycles.csv", s, t) for s, t in trials],
    }


def emg_envelope_files():
    return [trial_path("emg_envelopes.csv", s, t) for s, t in emg_trials()]


def emg_trial_info(subject=None):
    return [{"subject": s, "trial": t, "condition": STUDY.trial(s, t).condition} for s, t in emg_trials(subject)]


def emg_front_page_inputs(wildcards):
    return {"agreement": rules.emg_agreement.output.agreement} if emg_trials() else {}


def hypotheses_front_page_inputs(wildcards):
    return {"hypotheses": rules.hypotheses.output[0]} if config["hypotheses"] else {}


# Stages that run together in one job (scripts/run_stages.py). A stage is what a rule
# is: a script (scripts/<name>.py) with named inputs, outputs, params and a log. A light
# stage does well under a second of work but each job pays 1-2 s of start-up (Python,
# pandas, Snakemake's script preamble), and Snakemake about 3 ms per job to plan: so a
# trial's light stages are chained into one job. In the job every name is
# <stage>__<name>; the runner hands each script its own under their own names, an input
# that an earlier stage of the job writes being that stage's output.
class Stage:
    """`script`: scripts/<script>.py, the stage's name unless one script serves two
    stages (ID, and ID after residual reduction). Every stage records its wall and CPU
    time and the job's peak memory so far (`benchmark`: the trial's, unless given).
    `when(wildcards)`: whether the stage runs in that trial's job (a trial without EMG
    has no EMG stages); a stage left out writes nothing, so no file of it is exported."""

    def __init__(self, name, *, input, output, log, params=None, unpack=(), benchmark=None, script=None, when=None):
        self.name, self.input, self.output, self.log = name, input, output, log
        self.params, self.unpack = params or {}, tuple(unpack)
        self.benchmark = benchmark or trial_benchmark(name)
        self.script = script or name
        self.when = when

    def runs_for(self, wildcards):
        return self.when is None or bool(self.when(wildcards))

    def inputs(self, wildcards):
        named = {}
        for function in self.unpack:
            named.update(function(wildcards))
        named.update({key: _resolved(item, wildcards) for key, item in self.input.items()})
        return named


_CHAIN_INPUTS = {}
# The files a trial's chain writes, by their name in the trial's folder: {name: chain rule}.
# A job that reads some of them declares the chain's manifest instead (chain_output): a
# 1000-trial plan costs Snakemake about 1 ms per declared input, and trial_analysis read
# 14 files of trial_motion (docs/performance.md, "Planning a large study").
CHAIN_FILES = {}


def chain_manifest(rule_name, subject="{subject}", trial="{trial}"):
    """What one trial's chain job wrote (scripts/run_stages.py): dated as its newest output."""
    return trial_path(f".{rule_name}.manifest", subject, trial)


def _chain_file(path):
    """(chain rule, subject, trial) of the trial chain that writes `path`, None if none does."""
    path = str(path)
    prefix = f"{STUDY_DIR}/trials/"
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split("/", 2)
    if len(parts) < 3 or parts[2] not in CHAIN_FILES:
        return None
    return CHAIN_FILES[parts[2]], parts[0], parts[1]


def _chain_file_manifest(path):
    """The manifest of the trial chain that writes `path`, None if no chain writes it."""
    found = _chain_file(path)
    return chain_manifest(*found) if found else None


def _manifests_of(value):
    """The manifests of the trial chains that write `value` (a file or files), each once;
    None unless chains write them all."""
    paths = value if isinstance(value, (list, tuple)) else [value]
    manifests = [_chain_file_manifest(path) for path in paths]
    if not paths or None in manifests:
        return None
    return list(dict.fromkeys(manifests))


def declared_files(files):
    """The files a job reads ({name: file or files}) as it declares them: a chain's
    manifest for the files the chain writes, each once."""
    declared = []
    for value in files.values():
        declared += _manifests_of(value) or (value if isinstance(value, (list, tuple)) else [value])
    return list(dict.fromkeys(declared))


def _stages_for(stages, wildcards):
    return [stage for stage in stages if stage.runs_for(wildcards)]


def _chain_inputs(stages, wildcards):
    """({'<stage>__<input>': file} of the files the chain reads from other jobs, each
    declared once, {'<stage>__<input>': '<earlier stage>__<output>'} of those an earlier
    stage writes, {'<stage>__<input>': '<earlier stage>__<input>'} of those an earlier stage
    reads too, {'<stage>__<input>': file or files} of those another trial chain writes,
    declared by its manifest). Worked out once per job: its inputs and its params both
    ask (a 1000-trial plan asks thousands of times). Snakemake's plan costs per declared
    file."""
    key = (tuple(stage.name for stage in stages), tuple(sorted(wildcards.items())))
    if key not in _CHAIN_INPUTS:
        _CHAIN_INPUTS[key] = _chain_inputs_uncached(stages, wildcards)
    files, links, shared, via_manifest = _CHAIN_INPUTS[key]
    return dict(files), dict(links), dict(shared), dict(via_manifest)


def _chain_inputs_uncached(stages, wildcards):
    written, read, files, links, shared, via_manifest, manifests = {}, {}, {}, {}, {}, {}, []
    for stage in _stages_for(stages, wildcards):
        for key, value in stage.inputs(wildcards).items():
            name = f"{stage.name}__{key}"
            if isinstance(value, str) and value in written:
                links[name] = written[value]
            elif isinstance(value, list) and value and all(v in written for v in value):
                # SO's chunks, where the chunk is a stage of the same chain
                links[name] = [written[v] for v in value]
            elif isinstance(value, str) and value in read:
                shared[name] = read[value]
            elif (chains := _manifests_of(value)) is not None:
                via_manifest[name] = value
                manifests += chains
            else:
                files[name] = value
                if isinstance(value, str):
                    read[value] = name
        written |= {apply_wildcards(str(p), wildcards): f"{stage.name}__{k}" for k, p in stage.output.items()}
    if manifests:
        files["chain_manifests"] = list(dict.fromkeys(manifests))
    return files, links, shared, via_manifest


# Snakemake reruns a job whose script changed; a chain's script is the runner, so the
# content digest of each stage's own script is a param of the chain (`script_digests`): an
# edited stage script changes the params and reruns the chains that run it (Snakemake's
# default rerun triggers), as it reran the stage's own job. Not an input file: each file
# a job declares costs every plan (13 scripts per trial).
STAGE_SCRIPTS = Path(workflow.basedir, "scripts").resolve()
_SCRIPT_DIGESTS = {}


def stage_script_digest(script):
    if script not in _SCRIPT_DIGESTS:
        _SCRIPT_DIGESTS[script] = hashlib.sha256((STAGE_SCRIPTS / f"{script}.py").read_bytes()).hexdigest()
    return _SCRIPT_DIGESTS[script]


def chain_input(stages):
    return unpack(lambda wildcards: _chain_inputs(stages, wildcards)[0])


def chain_output(stages, rule_name):
    """The outputs of the stages that rules outside the chains read (CHAIN_EXPORTS), and
    the job's manifest (chain_manifest) of all the stages read and wrote."""
    folder = f"{trial_dir()}/"
    exported = {}
    for stage in stages:
        for key, path in stage.output.items():
            name = str(path)[len(folder) :] if str(path).startswith(folder) else None
            if name is not None:
                CHAIN_FILES[name] = rule_name
            if name is None or name in CHAIN_EXPORTS:
                if stage.when is not None:
                    # Snakemake would call the job failed where the stage does not run
                    raise ValueError(
                        f"{rule_name}: stage {stage.name} runs for some trials only: {path} cannot be exported"
                    )
                exported[f"{stage.name}__{key}"] = path
    return exported | {"manifest": chain_manifest(rule_name)}


def chain_log(rule_name):
    """The chain's log: each stage's outcome, and the end of the log of a stage that
    failed. Each stage writes its own log as its rule did (chain params)."""
    return log_path("chains", rule_name, "{subject}", "{trial}")


def chain_params(stages, overrides=None):
    """The chain for scripts/run_stages.py: the stages in order, the links, and each
    stage's params for the job's wildcards (`overrides`: {stage: {param: value}}, a
    sensitivity variant's)."""

    def value(item, wildcards):
        return item(wildcards) if callable(item) else item

    def chain(wildcards):
        params = {}
        run = _stages_for(stages, wildcards)
        for stage in run:
            given = stage.params | (overrides or {}).get(stage.name, {})
            params[stage.name] = {key: value(item, wildcards) for key, item in given.items()}
        _, links, shared, via_manifest = _chain_inputs(stages, wildcards)
        written = {
            stage.name: {
                "output": {key: str(path) for key, path in stage.output.items()},
                "log": str(stage.log),
                "benchmark": str(stage.benchmark),
            }
            for stage in run
        }
        if "variant" in wildcards.keys():
            # a sensitivity variant's copy writes in its folder, and reads its own copies of
            # the files of the chains it reruns
            written = _each_path(written, _in_variant_dir)
            via_manifest = _moved(via_manifest, wildcards.variant)
        return {
            "stages": [stage.name for stage in run],
            "scripts": {stage.name: stage.script for stage in run},
            "script_digests": {stage.script: stage_script_digest(stage.script) for stage in run},
            "written": _each_path(written, lambda pattern: apply_wildcards(pattern, wildcards)),
            "links": links,
            "shared": shared,
            "via_manifest": via_manifest,
            "params": params,
        }

    return chain


# One job per subject (SUBJECT_IN_ONE_JOB; scripts/run_subject.py): each of its trials'
# chains (trial_motion, trial_analysis) and its EMG normalisation is a part the job runs
# as the chain's own job would have (the same logs, benchmarks, manifests and reuse keys).
def job_wildcards(subject, trial=None):
    from snakemake.iocontainers import Wildcards

    return Wildcards(fromdict={"subject": subject} | ({"trial": trial} if trial else {}))


def _chain_part(stages, rule_name, wildcards, threads=1):
    trial = wildcards.get("trial")
    log = chain_log(rule_name) if trial else log_path("chains", rule_name, "{subject}")
    manifest = chain_manifest(rule_name) if trial else None
    return {
        "name": f"{rule_name} {wildcards.subject}" + (f" {trial}" if trial else ""),
        "wildcards": dict(wildcards.items()),
        "chain": chain_params(stages)(wildcards),
        "files": _chain_inputs(stages, wildcards)[0],
        "threads": threads,
        "log": apply_wildcards(log, wildcards),
        "manifest": apply_wildcards(manifest, wildcards) if manifest else None,
    }


_SUBJECT_PARTS = {}


def subject_job_parts(subject, scaling_stages, motion_stages, normalisation_stages, analysis_stages):
    """{phase: parts} of the subject's job, phases in the order they run: its scaling,
    every trial's motion chain, the EMG normalisation (where the subject has EMG), every
    trial's analysis."""
    if subject not in _SUBJECT_PARTS:
        trials = [job_wildcards(subject, t) for t in subject_trials(subject)]
        own = job_wildcards(subject)
        _SUBJECT_PARTS[subject] = {
            "scaling": [_chain_part(scaling_stages, "scale_model", own)],
            "motion": [_chain_part(motion_stages, "trial_motion", wc) for wc in trials],
            "normalisation": (
                [_chain_part(normalisation_stages, "emg_normalisation", own)]
                if _stages_for(normalisation_stages, own)
                else []
            ),
            "analysis": [_chain_part(analysis_stages, "trial_analysis", wc, so_threads(wc)) for wc in trials],
        }
    return _SUBJECT_PARTS[subject]


def _paths(value):
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def subject_job_written(parts):
    """Every file the parts write (each stage's outputs, the chains' manifests)."""
    written = set()
    for part in (part for phase in parts.values() for part in phase):
        for stage in part["chain"]["written"].values():
            written.update(p for value in stage["output"].values() for p in _paths(value))
        if part["manifest"]:
            written.add(part["manifest"])
    return written


def subject_job_inputs(parts):
    """The files the subject's job reads from other jobs: its parts' declared inputs but
    those an earlier part writes."""
    written = subject_job_written(parts)
    files = [p for phase in parts.values() for part in phase for value in part["files"].values() for p in _paths(value)]
    return [p for p in dict.fromkeys(files) if p not in written]


def subject_job_outputs(subject, exported):
    """What rules outside the subject's job read (`exported`, by chain: the chain's
    exported patterns and manifest, chain_output), for every trial. Worked out from the
    trials' names alone: every Snakemake process parses every subject's rule (a cluster
    job too), while the chains are worked out for the jobs planned (subject_job_parts)."""
    outputs = []
    for trial in subject_trials(subject):
        wildcards = job_wildcards(subject, trial)
        outputs += [apply_wildcards(str(p), wildcards) for patterns in exported.values() for p in patterns.values()]
    return list(dict.fromkeys(outputs))


def subject_job_threads(subject):
    """Cores of a subject's job: a trial's (MocoInverse's threads where SO uses them) times
    the trials it runs side by side, the machine's cores shared between the subjects
    (scripts/run_subject.py); one trial at a time on a cluster, where the job is a SLURM
    job of its own, and without --cores."""
    trials = subject_trials(subject)
    per_trial = max(so_threads(job_wildcards(subject, trial)) for trial in trials)
    try:
        cores = int(workflow.cores) if workflow.local_exec else per_trial
    except (WorkflowError, TypeError, ValueError):
        cores = per_trial
    side_by_side = -(-cores // (per_trial * max(1, len(SUBJECTS))))
    return per_trial * max(1, min(len(trials), side_by_side))


def subject_rule_names():
    """The name of each subject's job, by subject: subject_<name>, with _ for what a name
    cannot hold (and the subject's place in the sheet added where two would be one)."""
    names = {}
    for index, subject in enumerate(s.name for s in SUBJECTS):
        name = "subject_" + "".join(c if c.isalnum() or c == "_" else "_" for c in subject)
        names[subject] = name if name not in names.values() else f"{name}_{index + 1}"
    return names
