# Quality checks per trial against the thresholds in config `qc`, and the study table.


rule trial_qc:
    input:
        unpack(rra_qc_inputs),
        scale_errors=f"{STUDY_DIR}/subjects/{{subject}}/scale_marker_errors.csv",
        ik_errors=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik_marker_errors.csv",
        grf=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.csv",
        id_forces=dynamics_after_reduction,
        id_forces_before_reduction=dynamics_before_reduction,
        activations=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_activations.csv",
        forces=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_forces.csv",
        actuators=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_actuators.csv",
        cycle_metrics=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycle_metrics.csv",
        cycles=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycles.csv",
        span=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/analysis_span.json",
        reduction=reduction_table,
    output:
        f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/qc.json",
    params:
        condition=lambda wc: STUDY.trial(wc.subject, wc.trial).condition,
        thresholds=config["qc"],
        max_mass_change_kg=config["residual_reduction"]["max_mass_change_kg"],
    log:
        log_path("trial_qc", "{subject}", "{trial}"),
    script:
        "../../scripts/trial_qc.py"


rule aggregate_qc:
    input:
        lambda wc: [f"{trial_dir(s, t)}/qc.json" for s, t in all_trials()],
    output:
        report(f"{STUDY_DIR}/qc.csv", caption="../report/qc.rst", category="Quality checks"),
    params:
        failed=lambda wc: [f"{trial_dir(s, t)}/error.json" for s, t in failed_trials()],
        conditions={(t.subject, t.name): t.condition for t in TRIALS},
    log:
        log_path("aggregate_qc", "all"),
    script:
        "../../scripts/aggregate_qc.py"
