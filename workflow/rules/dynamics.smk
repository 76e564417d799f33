# Inverse dynamics with the filtered GRF applied to the feet.


rule inverse_dynamics:
    input:
        model=subject_path("scaled_model.osim"),
        coordinates=trial_path("ik.mot"),
        grf=trial_path("grf.mot"),
        external_loads=trial_path("external_loads.xml"),
    output:
        sto=trial_path("id.sto"),
        table=trial_path("id_generalized_forces.csv"),
    log:
        trial_log("inverse_dynamics"),
    benchmark:
        trial_benchmark("inverse_dynamics")
    group:
        TRIAL_GROUP
    params:
        trial_dir=trial_folder,
    # resources: the profile's defaults (measured (tools/stage_times.py): 210 MB max RSS, 2-8 s per trial; attempt 2 doubles)
    script:
        "../../scripts/inverse_dynamics.py"
