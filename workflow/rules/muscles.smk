# Static optimization: muscle activations and forces over the analysis window.


rule static_optimization:
    input:
        model=f"{STUDY_DIR}/subjects/{{subject}}/scaled_model.osim",
        coordinates=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/ik.mot",
        grf=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/grf.mot",
        external_loads=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/external_loads.xml",
    output:
        activations_sto=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_activations.sto",
        forces_sto=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_forces.sto",
        activations=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_activations.csv",
        forces=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_forces.csv",
        actuators=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_actuators.csv",
    params:
        window=trial_window,
        settings=config["static_optimization"],
    log:
        log_path("static_optimization", "{subject}", "{trial}"),
    benchmark:
        benchmark_path("static_optimization", "{subject}", "{trial}")
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    script:
        "../../scripts/static_optimization.py"
