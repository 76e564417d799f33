# Inverse dynamics with the filtered GRF applied to the feet.


rule inverse_dynamics:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        coordinates=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik.mot",
        grf=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.mot",
        external_loads=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/external_loads.xml",
    output:
        sto=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/id.sto",
        table=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/id_generalized_forces.csv",
    log:
        log_path("inverse_dynamics", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("inverse_dynamics", "{subject}", "{trial}")
    resources:
        # measured (tools/stage_times.py): 210 MB max RSS, 2-8 s per trial; attempt 2 doubles
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/inverse_dynamics.py"
