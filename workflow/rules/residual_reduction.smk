# Residual reduction between ID and SO (config residual_reduction): per subject, from
# all its trials' whole gait cycles. `none` keeps the scaled model and only records the
# residuals before SO; `mass_com` writes a model with the adjusted mass and COM, which
# SO then runs on; `rra` runs OpenSim's RRA per trial, and SO runs on its model and
# kinematics (muscles.smk takes its inputs from the functions below).
REDUCTION = config["residual_reduction"]


def subject_trials(subject):
    return [t for s, t in all_trials() if s == subject]


def reduced_model(subject):
    return f"{subject_dir(subject)}/residual_reduction/model.osim"


def rra_dir(subject, trial):
    return f"{trial_dir(subject, trial)}/rra"


def so_model(wildcards):
    if REDUCTION["method"] == "none":
        return f"{subject_dir(wildcards.subject)}/scaled_model.osim"
    if REDUCTION["method"] == "rra":
        return f"{rra_dir(wildcards.subject, wildcards.trial)}/model.osim"
    return reduced_model(wildcards.subject)


def so_coordinates(wildcards):
    if REDUCTION["method"] == "rra":
        return f"{trial_dir(wildcards.subject, wildcards.trial)}/rra_kinematics.mot"
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/ik.mot"


def rra_qc_inputs(wildcards):
    if REDUCTION["method"] != "rra":
        return {}
    folder = rra_dir(wildcards.subject, wildcards.trial)
    return {"rra_changes": f"{folder}/kinematic_changes.csv", "rra_summary": f"{folder}/summary.csv"}


def reduction_table(wildcards):
    return f"{subject_dir(wildcards.subject)}/residual_reduction/changes.csv"


rule reduce_residuals:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        id_forces=lambda wc: [f"{trial_dir(wc.subject, t)}/id_generalized_forces.csv" for t in subject_trials(wc.subject)],
        coordinates=lambda wc: [f"{trial_dir(wc.subject, t)}/ik.mot" for t in subject_trials(wc.subject)],
        # the cycles the analysis uses (rule plan_cycles) and the span SO runs on
        cycles=lambda wc: [f"{trial_dir(wc.subject, t)}/cycles.csv" for t in subject_trials(wc.subject)],
        spans=lambda wc: [f"{trial_dir(wc.subject, t)}/analysis_span.json" for t in subject_trials(wc.subject)],
    output:
        model=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/model.osim",
        table=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/changes.csv",
        bodies=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/body_masses.csv",
    params:
        trials=lambda wc: subject_trials(wc.subject),
        settings=REDUCTION,
    log:
        log_path("reduce_residuals", "{subject}"),
    benchmark:
        benchmark_path("reduce_residuals", "{subject}")
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
