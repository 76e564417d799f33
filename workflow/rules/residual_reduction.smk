# Residual reduction between ID and SO (config residual_reduction): per subject, from
# all its trials' whole gait cycles. `none` keeps the scaled model and only records the
# residuals before SO; `mass_com` writes a model with the adjusted mass and COM; `rra`
# runs OpenSim's RRA per trial. With a method other than `none`, ID runs again on the
# reduced model and kinematics (id_after_reduction.*), and every stage after it (SO, the
# analysis's knee angle and moment, the reserve QC) reads them through the input
# functions below; only QC's *_before_reduction columns read the first ID.

REDUCTION = config["residual_reduction"]


def subject_trials(subject):
    return [t for s, t in all_trials() if s == subject]


def mass_com_model(subject):
    return f"{subject_dir(subject)}/residual_reduction/model.osim"


def rra_dir(subject, trial):
    return f"{trial_dir(subject, trial)}/rra"


def reduced_model(wildcards):
    """The model every stage after residual reduction runs on."""
    if REDUCTION["method"] == "none":
        return f"{subject_dir(wildcards.subject)}/scaled_model.osim"
    if REDUCTION["method"] == "rra":
        return f"{rra_dir(wildcards.subject, wildcards.trial)}/model.osim"
    return mass_com_model(wildcards.subject)


def reduced_coordinates(wildcards):
    """The coordinates (.mot) ID after reduction and SO read: RRA's, or IK's."""
    if REDUCTION["method"] == "rra":
        return f"{trial_dir(wildcards.subject, wildcards.trial)}/rra_kinematics.mot"
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/ik.mot"


def reduced_coordinates_table(wildcards):
    """The same coordinates as a table (deg, m), for the analysis's joint angles."""
    if REDUCTION["method"] == "rra":
        return f"{trial_dir(wildcards.subject, wildcards.trial)}/rra_coordinates.csv"
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/ik_coordinates.csv"


def dynamics_before_reduction(wildcards):
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/id_generalized_forces.csv"


def dynamics_after_reduction(wildcards):
    """ID generalized forces on the reduced model and kinematics (the first ID with `none`)."""
    if REDUCTION["method"] == "none":
        return dynamics_before_reduction(wildcards)
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/id_after_reduction.csv"


def rra_qc_inputs(wildcards):
    if REDUCTION["method"] != "rra":
        return {}
    folder = rra_dir(wildcards.subject, wildcards.trial)
    return {"rra_changes": f"{folder}/kinematic_changes.csv", "rra_summary": f"{folder}/summary.csv"}


def reduction_table(wildcards):
    """The change table QC reads. mass_com adjusts one model from all of a subject's
    trials, so its table is the subject's; otherwise nothing is shared between trials and
    each trial has its own, so a trial that fails does not hold back the others."""
    if REDUCTION["method"] == "mass_com":
        return f"{subject_dir(wildcards.subject)}/residual_reduction/changes.csv"
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/residual_reduction/changes.csv"


def reduction_scope(wildcards):
    """(subject, trials) of a reduce_residuals job: 'subjects/<s>' is every trial of the
    subject, 'trials/<s>/<t>' that one trial."""
    parts = wildcards.scope.split("/")
    return parts[1], (parts[2:] if parts[0] == "trials" else subject_trials(parts[1]))


def _scope_files(name):
    return lambda wc: [f"{trial_dir(reduction_scope(wc)[0], t)}/{name}" for t in reduction_scope(wc)[1]]


rule reduce_residuals:
    input:
        model=lambda wc: f"{subject_dir(reduction_scope(wc)[0])}/scaled_model.osim",
        id_forces=_scope_files("id_generalized_forces.csv"),
        coordinates=_scope_files("ik.mot"),
        # the cycles the analysis uses (rule plan_cycles) and the span SO runs on
        cycles=_scope_files("cycles.csv"),
        spans=_scope_files("analysis_span.json"),
    output:
        model=f"{STUDY_DIR}/{{scope}}/residual_reduction/model.osim",
        table=f"{STUDY_DIR}/{{scope}}/residual_reduction/changes.csv",
        bodies=f"{STUDY_DIR}/{{scope}}/residual_reduction/body_masses.csv",
    wildcard_constraints:
        scope=r"subjects/[^/]+|trials/[^/]+/[^/]+",
    params:
        subject=lambda wc: reduction_scope(wc)[0],
        trials=lambda wc: reduction_scope(wc)[1],
        settings=REDUCTION,
    log:
        log_path("reduce_residuals", "{scope}"),
    benchmark:
        benchmark_path("reduce_residuals", "{scope}")
    resources:
        # measured: 0.5-1 s of CPU per trial (a local rule under a cluster profile)
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/reduce_residuals.py"


rule residual_reduction_algorithm:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        coordinates=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik.mot",
        external_loads=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/external_loads.xml",
        grf_mot=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.mot",
        cycles=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycles.csv",
        span=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/analysis_span.json",
    output:
        model=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/rra/model.osim",
        coordinates=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/rra_kinematics.mot",
        coordinates_table=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/rra_coordinates.csv",
        changes=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/rra/kinematic_changes.csv",
        summary=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/rra/summary.csv",
    params:
        settings=REDUCTION,
    log:
        log_path("residual_reduction_algorithm", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("residual_reduction_algorithm", "{subject}", "{trial}")
    resources:
        # measured: about 30 s of CPU for 1.1 s of Hamner running (37 coordinates)
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    script:
        "../../scripts/residual_reduction_algorithm.py"


rule inverse_dynamics_after_reduction:
    # requested only with a method other than none (dynamics_after_reduction)
    input:
        model=reduced_model,
        coordinates=reduced_coordinates,
        grf=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.mot",
        external_loads=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/external_loads.xml",
    output:
        sto=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/id_after_reduction.sto",
        table=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/id_after_reduction.csv",
    params:
        name="id_after_reduction",
    log:
        log_path("inverse_dynamics_after_reduction", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("inverse_dynamics_after_reduction", "{subject}", "{trial}")
    resources:
        # as rule inverse_dynamics
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/inverse_dynamics.py"
