# Ground reaction forces filtered with the kinematics' cutoff, then inverse kinematics, both
# over the span rule plan_cycles chose (analysis_span.json: the chosen cycles plus margins).


rule prepare_grf:
    input:
        grf=trial_grf_path,
        external_loads=external_loads_template,
        span=analysis_span,
    output:
        mot=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.mot",
        table=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.csv",
        external_loads=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/external_loads.xml",
    params:
        filter_hz=config["filter_hz"],
        contact_threshold_n=config["grf"]["contact_threshold_n"],
        sides=config["sides"],
    log:
        log_path("prepare_grf", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("prepare_grf", "{subject}", "{trial}")
    resources:
        # measured: 265 MB max RSS, 3-15 s per trial; attempt 2 doubles
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/prepare_grf.py"


rule inverse_kinematics:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        markers=trial_markers_path,
        ik_tasks=config["model"]["ik_tasks"],
        span=analysis_span,
    output:
        mot=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik.mot",
        coordinates=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik_coordinates.csv",
        marker_errors=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik_marker_errors.csv",
        marker_errors_by_marker=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik_marker_errors_by_marker.csv",
    params:
        filter_hz=config["filter_hz"],
        aliases=config["marker_aliases"],
        gaps=config["gaps"],
    log:
        log_path("inverse_kinematics", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("inverse_kinematics", "{subject}", "{trial}")
    resources:
        # measured: 280 MB max RSS, 11-18 s per trial (Hamner 92-muscle model, 4.5 s of IK)
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../../scripts/inverse_kinematics.py"
