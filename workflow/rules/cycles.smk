# Gait events from the raw GRF, then the cycles (or stances) to analyse: they decide
# where IK, ID and SO run (analysis_span.json), before any of them starts.


STAGE_DETECT_CONTACTS = Stage(
    "detect_contacts",
    input=dict(grf=trial_grf_path, external_loads=external_loads_template),
    output=dict(contacts=trial_path("contacts.csv")),
    log=trial_log("detect_contacts"),
    # events on the raw force at its own rate over the whole record, not on the
    # filter_hz force ID and SO read
    params=dict(
        threshold_n=config["analysis"]["contact_threshold_n"],
        min_contact_s=config["analysis"]["min_contact_s"],
        sides=config["sides"],
        trial_dir=trial_folder,
    ),
)

STAGE_PLAN_CYCLES = Stage(
    "plan_cycles",
    input=dict(contacts=trial_path("contacts.csv"), markers=trial_markers_path, grf=trial_grf_path),
    output=dict(cycles=trial_path("cycles.csv"), span=trial_path("analysis_span.json")),
    log=trial_log("plan_cycles"),
    params=dict(
        region=trial_region,
        unit=config["analysis"]["unit"],
        cycles=config["analysis"]["cycles"],
        min_cycle_s=config["analysis"]["min_cycle_s"],
        max_cycle_s=config["analysis"]["max_cycle_s"],
        duration_tolerance=config["analysis"]["cycle_duration_tolerance"],
        edge_frames=config["analysis"]["edge_margin_frames"],
        margin_s=config["ik_margin_s"],
        trial_dir=trial_folder,
    ),
)
