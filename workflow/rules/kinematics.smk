# The runner's heading, ground reaction forces filtered with the kinematics' cutoff, then
# inverse kinematics, all over the span stage plan_cycles chose (analysis_span.json: the
# chosen cycles plus margins). Markers and GRF are turned into the model's facing frame
# by the heading (retrorun.heading) before either is used.


STAGE_ESTIMATE_HEADING = Stage(
    "estimate_heading",
    unpack=[lambda wc: model_inputs()],
    input=dict(markers=trial_markers_path, span=analysis_span),
    output=dict(heading=trial_path("heading.json")),
    log=trial_log("estimate_heading"),
    params=dict(trial_dir=trial_folder, aliases=config["marker_aliases"]),
)

STAGE_PREPARE_GRF = Stage(
    "prepare_grf",
    input=dict(
        grf=trial_grf_path,
        external_loads=external_loads_template,
        span=analysis_span,
        heading=trial_path("heading.json"),
    ),
    output=dict(
        mot=trial_path("grf.mot"),
        table=trial_path("grf.csv"),
        external_loads=trial_path("external_loads.xml"),
    ),
    log=trial_log("prepare_grf"),
    params=dict(
        trial_dir=trial_folder,
        filter_hz=config["filter_hz"],
        contact_threshold_n=config["grf"]["contact_threshold_n"],
        sides=config["sides"],
    ),
)

STAGE_INVERSE_KINEMATICS = Stage(
    "inverse_kinematics",
    input=dict(
        model=subject_path("scaled_model.osim"),
        markers=trial_markers_path,
        ik_tasks=config["model"]["ik_tasks"],
        span=analysis_span,
        heading=trial_path("heading.json"),
    ),
    output=dict(
        mot=trial_path("ik.mot"),
        # before the low-pass: the demo's error budget separates IK from filtering with it
        unfiltered=trial_path("ik_unfiltered.mot"),
        coordinates=trial_path("ik_coordinates.csv"),
        marker_errors=trial_path("ik_marker_errors.csv"),
        marker_errors_by_marker=trial_path("ik_marker_errors_by_marker.csv"),
    ),
    log=trial_log("inverse_kinematics"),
    params=dict(
        trial_dir=trial_folder,
        filter_hz=config["filter_hz"],
        aliases=config["marker_aliases"],
        gaps=config["gaps"],
        solver=config["ik"]["solver"],
    ),
)
