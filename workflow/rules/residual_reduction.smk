# Residual reduction between ID and SO (config residual_reduction): per subject, from
# all its trials' whole gait cycles. `none` keeps the scaled model and only records the
# residuals before SO; `mass_com` writes a model with the adjusted mass and COM; `rra`
# runs OpenSim's RRA per trial. With a method other than `none`, ID runs again on the
# reduced model and kinematics (id_after_reduction.*), and every stage after it (SO, the
# analysis's knee angle and moment, the reserve QC) reads them through the input
# functions (common.smk); only QC's *_before_reduction columns read the first ID.
# Where no run of the study uses mass_com, one trial's residual step is the first stage
# of its trial_analysis chain (REDUCTION_IN_ANALYSIS, common.smk); where every run uses
# rra, RRA and the ID after it are the last stages of its trial_motion chain
# (RRA_IN_MOTION, dynamics.smk).

REDUCE_RESIDUALS_INPUT = dict(
    model=lambda wc: subject_path("scaled_model.osim", reduction_scope(wc)[0]),
    id_forces=_scope_files("id_generalized_forces.csv"),
    coordinates=_scope_files("ik.mot"),
    # the cycles the analysis uses (stage plan_cycles) and the span SO runs on
    cycles=_scope_files("cycles.csv"),
    spans=_scope_files("analysis_span.json"),
)
REDUCE_RESIDUALS_OUTPUT = dict(
    model=study_path("{scope}/residual_reduction/model.osim"),
    table=study_path("{scope}/residual_reduction/changes.csv"),
    bodies=study_path("{scope}/residual_reduction/body_masses.csv"),
)
TRIAL_SCOPE = "trials/{subject}/{trial}"


# one trial's residual step as a stage of its trial_analysis chain (analysis.smk): the
# rule's files with the scope of that one trial
STAGE_REDUCE_RESIDUALS = Stage(
    "reduce_residuals",
    input=dict(
        model=subject_path("scaled_model.osim"),
        id_forces=lambda wc: [trial_path("id_generalized_forces.csv", wc.subject, wc.trial)],
        coordinates=lambda wc: [trial_path("ik.mot", wc.subject, wc.trial)],
        cycles=lambda wc: [trial_path("cycles.csv", wc.subject, wc.trial)],
        spans=lambda wc: [trial_path("analysis_span.json", wc.subject, wc.trial)],
    ),
    output={key: path.replace("{scope}", TRIAL_SCOPE) for key, path in REDUCE_RESIDUALS_OUTPUT.items()},
    log=log_path("reduce_residuals", TRIAL_SCOPE),
    benchmark=benchmark_path("reduce_residuals", TRIAL_SCOPE),
    params=dict(
        subject=lambda wc: wc.subject,
        trials=lambda wc: [wc.trial],
        settings=REDUCTION,
        trial_dir=trial_folder,
    ),
)


rule reduce_residuals:
    input:
        **REDUCE_RESIDUALS_INPUT,
    output:
        **REDUCE_RESIDUALS_OUTPUT,
    log:
        log_path("reduce_residuals", "{scope}"),
    benchmark:
        benchmark_path("reduce_residuals", "{scope}")
    wildcard_constraints:
        # a trial's own scope is a stage of its analysis where no run uses mass_com
        scope=r"subjects/[^/]+" if REDUCTION_IN_ANALYSIS else r"subjects/[^/]+|trials/[^/]+/[^/]+",
    group:
        TRIAL_GROUP
    params:
        subject=lambda wc: reduction_scope(wc)[0],
        trials=lambda wc: reduction_scope(wc)[1],
        settings=REDUCTION,
    # resources: the profile's defaults (measured: 0.5-1 s of CPU per trial)
    script:
        "../../scripts/reduce_residuals.py"


STAGE_RESIDUAL_REDUCTION_ALGORITHM = Stage(
    "residual_reduction_algorithm",
    input=dict(
        model=subject_path("scaled_model.osim"),
        coordinates=trial_path("ik.mot"),
        external_loads=trial_path("external_loads.xml"),
        grf_mot=trial_path("grf.mot"),
        cycles=trial_path("cycles.csv"),
        span=trial_path("analysis_span.json"),
    ),
    output=dict(
        model=trial_path("rra/model.osim"),
        coordinates=trial_path("rra_kinematics.mot"),
        coordinates_table=trial_path("rra_coordinates.csv"),
        changes=trial_path("rra/kinematic_changes.csv"),
        summary=trial_path("rra/summary.csv"),
    ),
    log=trial_log("residual_reduction_algorithm"),
    params=dict(trial_dir=trial_folder, settings=REDUCTION),
)

# requested only with a method other than none (dynamics_after_reduction)
STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION = Stage(
    "inverse_dynamics_after_reduction",
    script="inverse_dynamics",
    input=dict(
        model=reduced_model,
        coordinates=reduced_coordinates,
        grf=trial_path("grf.mot"),
        external_loads=trial_path("external_loads.xml"),
    ),
    output=dict(sto=trial_path("id_after_reduction.sto"), table=trial_path("id_after_reduction.csv")),
    log=trial_log("inverse_dynamics_after_reduction"),
    params=dict(trial_dir=trial_folder, name="id_after_reduction"),
)
TRIAL_REDUCTION_STAGES = [STAGE_RESIDUAL_REDUCTION_ALGORITHM, STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION]
# measured: about 30 s of CPU for 1.1 s of Hamner running (37 coordinates); ID about a second
RRA_RUNTIME_MIN = 30


if not RRA_IN_MOTION:

    rule residual_reduction_algorithm:
        input:
            **STAGE_RESIDUAL_REDUCTION_ALGORITHM.input,
        output:
            **STAGE_RESIDUAL_REDUCTION_ALGORITHM.output,
        log:
            STAGE_RESIDUAL_REDUCTION_ALGORITHM.log,
        benchmark:
            STAGE_RESIDUAL_REDUCTION_ALGORITHM.benchmark
        group:
            TRIAL_GROUP
        resources:
            runtime=lambda wc, attempt: RRA_RUNTIME_MIN * attempt,
        params:
            **STAGE_RESIDUAL_REDUCTION_ALGORITHM.params,
        script:
            "../../scripts/residual_reduction_algorithm.py"

    rule inverse_dynamics_after_reduction:
        input:
            **STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION.input,
        output:
            **STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION.output,
        log:
            STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION.log,
        benchmark:
            STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION.benchmark
        group:
            TRIAL_GROUP
        params:
            **STAGE_INVERSE_DYNAMICS_AFTER_REDUCTION.params,
        # as stage inverse_dynamics
        script:
            "../../scripts/inverse_dynamics.py"
