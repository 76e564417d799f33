# Residual reduction between ID and SO (config residual_reduction): per subject, from
# all its trials' whole gait cycles. `none` keeps the scaled model and only records the
# residuals before SO; `mass_com` writes a model with the adjusted mass and COM, which
# SO then runs on (muscles.smk takes its inputs from the functions below).
from types import SimpleNamespace

REDUCTION = config["residual_reduction"]


def subject_trials(subject):
    return [t for s, t in all_trials() if s == subject]


def reduced_model(subject):
    return f"{subject_dir(subject)}/residual_reduction/model.osim"


def so_model(wildcards):
    if REDUCTION["method"] == "none":
        return f"{subject_dir(wildcards.subject)}/scaled_model.osim"
    return reduced_model(wildcards.subject)


def so_coordinates(wildcards):
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/ik.mot"


def trial_window_bounds(subject, trial):
    window = trial_window(SimpleNamespace(subject=subject, trial=trial))
    return window["start_s"], window["end_s"]


def reduction_table(wildcards):
    return f"{subject_dir(wildcards.subject)}/residual_reduction/changes.csv"


rule reduce_residuals:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        id_forces=lambda wc: [f"{trial_dir(wc.subject, t)}/id_generalized_forces.csv" for t in subject_trials(wc.subject)],
        coordinates=lambda wc: [f"{trial_dir(wc.subject, t)}/ik.mot" for t in subject_trials(wc.subject)],
        grf=lambda wc: [f"{trial_dir(wc.subject, t)}/grf.csv" for t in subject_trials(wc.subject)],
    output:
        model=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/model.osim",
        table=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/changes.csv",
        bodies=f"{STUDY_DIR}/subjects/{{subject}}/residual_reduction/body_masses.csv",
    params:
        trials=lambda wc: subject_trials(wc.subject),
        windows=lambda wc: {t: trial_window_bounds(wc.subject, t) for t in subject_trials(wc.subject)},
        settings=REDUCTION,
        sides=config["sides"],
        cycle_settings={key: config["analysis"][key] for key in ("contact_threshold_n", "min_contact_s", "min_cycle_s",
                                                                 "max_cycle_s")},
    log:
        log_path("reduce_residuals", "{subject}"),
    benchmark:
        benchmark_path("reduce_residuals", "{subject}")
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/reduce_residuals.py"
