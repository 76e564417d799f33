# Quality checks per trial against the thresholds in config `qc`, and the study table.


# a stage of rule trial_analysis (analysis.smk)
STAGE_TRIAL_QC = Stage(
    "trial_qc",
    unpack=[rra_qc_inputs],
    input=dict(
        scale_errors=subject_path("scale_marker_errors.csv"),
        ik_errors=trial_path("ik_marker_errors.csv"),
        grf=trial_path("grf.csv"),
        id_forces=dynamics_after_reduction,
        id_forces_before_reduction=dynamics_before_reduction,
        activations=trial_path("so_activations.csv"),
        forces=trial_path("so_forces.csv"),
        actuators=trial_path("so_actuators.csv"),
        cycle_metrics=trial_path("cycle_metrics.csv"),
        cycles=trial_path("cycles.csv"),
        span=trial_path("analysis_span.json"),
        heading=trial_path("heading.json"),
        reduction=reduction_table,
    ),
    output=dict(qc=trial_path("qc.json")),
    log=trial_log("trial_qc"),
    params=dict(
        condition=lambda wc: STUDY.trial(wc.subject, wc.trial).condition,
        filter_hz=config["filter_hz"],
        thresholds=config["qc"],
        max_mass_change_kg=config["residual_reduction"]["max_mass_change_kg"],
    ),
)


rule aggregate_qc:
    input:
        lambda wc: [trial_path("qc.json", s, t) for s, t in all_trials()],
    output:
        report(study_path("qc.csv"), caption="../report/qc.rst", category="Quality checks"),
    log:
        study_log("aggregate_qc"),
    benchmark:
        study_benchmark("aggregate_qc")
    params:
        failed=failed_trial_records,
        conditions={(t.subject, t.name): t.condition for t in TRIALS},
    script:
        "../../scripts/aggregate_qc.py"
