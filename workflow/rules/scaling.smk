# Scale the generic model to each subject from the static trial.


rule scale_model:
    input:
        unpack(lambda wc: model_inputs()),
        static=static_markers_path,
    output:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        marker_errors=f"{STUDY_DIR}/subjects/{{subject}}/scale_marker_errors.csv",
    params:
        mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        height_m=lambda wc: STUDY.subject(wc.subject).height_m,
        start_s=lambda wc: STUDY.subject(wc.subject).static_start_s,
        end_s=lambda wc: STUDY.subject(wc.subject).static_end_s,
        aliases=config["marker_aliases"],
        gaps=config["gaps"],
    log:
        log_path("scale_model", "{subject}"),
    benchmark:
        benchmark_path("scale_model", "{subject}")
    resources:
        # measured: 255 MB max RSS, 2-10 s per subject; attempt 2 doubles
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/scale_model.py"
