# Residual reduction between ID and SO (config residual_reduction): per subject, from
# all its trials' whole gait cycles. `none` keeps the scaled model and only records the
# residuals before SO; `mass_com` writes a model with the adjusted mass and COM; `rra`
# runs OpenSim's RRA per trial. With a method other than `none`, ID runs again on the
# reduced model and kinematics (id_after_reduction.*), and every stage after it (SO, the
# analysis's knee angle and moment, the reserve QC) reads them through the input
# functions (common.smk); only QC's *_before_reduction columns read the first ID.


rule reduce_residuals:
    input:
        model=lambda wc: subject_path("scaled_model.osim", reduction_scope(wc)[0]),
        id_forces=_scope_files("id_generalized_forces.csv"),
        coordinates=_scope_files("ik.mot"),
        # the cycles the analysis uses (stage plan_cycles) and the span SO runs on
        cycles=_scope_files("cycles.csv"),
        spans=_scope_files("analysis_span.json"),
    output:
        model=study_path("{scope}/residual_reduction/model.osim"),
        table=study_path("{scope}/residual_reduction/changes.csv"),
        bodies=study_path("{scope}/residual_reduction/body_masses.csv"),
    log:
        log_path("reduce_residuals", "{scope}"),
    benchmark:
        benchmark_path("reduce_residuals", "{scope}")
    wildcard_constraints:
        scope=r"subjects/[^/]+|trials/[^/]+/[^/]+",
    group:
        TRIAL_GROUP
    params:
        subject=lambda wc: reduction_scope(wc)[0],
        trials=lambda wc: reduction_scope(wc)[1],
        settings=REDUCTION,
    # resources: the profile's defaults (measured: 0.5-1 s of CPU per trial; a local rule under a cluster profile)
    script:
        "../../scripts/reduce_residuals.py"


rule residual_reduction_algorithm:
    input:
        model=subject_path("scaled_model.osim"),
        coordinates=trial_path("ik.mot"),
        external_loads=trial_path("external_loads.xml"),
        grf_mot=trial_path("grf.mot"),
        cycles=trial_path("cycles.csv"),
        span=trial_path("analysis_span.json"),
    output:
        model=trial_path("rra/model.osim"),
        coordinates=trial_path("rra_kinematics.mot"),
        coordinates_table=trial_path("rra_coordinates.csv"),
        changes=trial_path("rra/kinematic_changes.csv"),
        summary=trial_path("rra/summary.csv"),
    log:
        trial_log("residual_reduction_algorithm"),
    benchmark:
        trial_benchmark("residual_reduction_algorithm")
    group:
        TRIAL_GROUP
    resources:
        # measured: about 30 s of CPU for 1.1 s of Hamner running (37 coordinates)
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        trial_dir=trial_folder,
        settings=REDUCTION,
    script:
        "../../scripts/residual_reduction_algorithm.py"


rule inverse_dynamics_after_reduction:
    input:
        model=reduced_model,
        coordinates=reduced_coordinates,
        grf=trial_path("grf.mot"),
        external_loads=trial_path("external_loads.xml"),
    output:
        sto=trial_path("id_after_reduction.sto"),
        table=trial_path("id_after_reduction.csv"),
    log:
        trial_log("inverse_dynamics_after_reduction"),
    benchmark:
        trial_benchmark("inverse_dynamics_after_reduction")
    # requested only with a method other than none (dynamics_after_reduction)
    group:
        TRIAL_GROUP
    params:
        trial_dir=trial_folder,
        name="id_after_reduction",
    # as stage inverse_dynamics
    script:
        "../../scripts/inverse_dynamics.py"
