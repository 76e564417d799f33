# Scale the generic model to each subject from the static trial.


rule scale_model:
    input:
        unpack(lambda wc: model_inputs()),
        static=static_markers_path,
    output:
        model=subject_path("scaled_model.osim"),
        marker_errors=subject_path("scale_marker_errors.csv"),
        # which way the subject faces in the static trial (retrorun.heading)
        heading=subject_path("static_heading.json"),
    log:
        subject_log("scale_model"),
    benchmark:
        subject_benchmark("scale_model")
    params:
        mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        height_m=lambda wc: STUDY.subject(wc.subject).height_m,
        start_s=lambda wc: STUDY.subject(wc.subject).static_start_s,
        end_s=lambda wc: STUDY.subject(wc.subject).static_end_s,
        aliases=config["marker_aliases"],
        gaps=config["gaps"],
        landmarks=config["qc"]["scale_landmarks"],
        landmark_min_weight_share=config["qc"]["scale_landmark_min_weight_share"],
    # measured: 255 MB max RSS, 2-10 s per subject; a local rule under a cluster profile
    # (Snakefile), so it runs on the submitting machine and asks SLURM for nothing
    script:
        "../../scripts/scale_model.py"
