# Inverse dynamics with the filtered GRF applied to the feet.


STAGE_INVERSE_DYNAMICS = Stage(
    "inverse_dynamics",
    input=dict(
        model=subject_path("scaled_model.osim"),
        coordinates=trial_path("ik.mot"),
        grf=trial_path("grf.mot"),
        external_loads=trial_path("external_loads.xml"),
    ),
    output=dict(sto=trial_path("id.sto"), table=trial_path("id_generalized_forces.csv")),
    log=trial_log("inverse_dynamics"),
    params=dict(trial_dir=trial_folder),
)

# A trial's stages up to ID in one job (Stage, common.smk): gait events and the cycles
# to analyse (cycles.smk), the heading, GRF and IK (kinematics.smk), then ID; where every
# run of the study uses rra (RRA_IN_MOTION), RRA and the ID after it too
# (residual_reduction.smk). An RRA setting then also reruns the few seconds before RRA;
# a job of RRA's own would cost every trial another job to start and to plan.
TRIAL_MOTION_STAGES = [
    STAGE_DETECT_CONTACTS,
    STAGE_PLAN_CYCLES,
    STAGE_ESTIMATE_HEADING,
    STAGE_PREPARE_GRF,
    STAGE_INVERSE_KINEMATICS,
    STAGE_INVERSE_DYNAMICS,
]
if RRA_IN_MOTION:
    TRIAL_MOTION_STAGES += TRIAL_REDUCTION_STAGES
# a trial's EMG processing, where it has EMG (emg.smk)
if EMG_IN_CHAINS:
    TRIAL_MOTION_STAGES += [STAGE_PROCESS_EMG]
# the demo's truth of the trial (synthetic.smk) first: it synthesizes the EMG process_emg reads
if DEMO_IN_CHAINS:
    TRIAL_MOTION_STAGES = DEMO_TRUTH_STAGES + TRIAL_MOTION_STAGES
# measured (tools/stage_times.py): IK 11-18 s per trial with OpenSim's IK on the Hamner
# 92-muscle model, the other stages 1-3 s each; RRA's own allowance on top where it is here
TRIAL_MOTION_RUNTIME_MIN = 15 + (RRA_RUNTIME_MIN if RRA_IN_MOTION else 0)


# where the trial's analysis is a job of its own; else rule trial runs these stages first
# (TRIAL_IN_ONE_JOB, common.smk; analysis.smk), or the subject's job (SUBJECT_IN_ONE_JOB)
if not TRIAL_IN_ONE_JOB and not SUBJECT_IN_ONE_JOB:

    rule trial_motion:
        input:
            chain_input(TRIAL_MOTION_STAGES),
        output:
            **chain_output(TRIAL_MOTION_STAGES, "trial_motion"),
        log:
            chain_log("trial_motion"),
        group:
            TRIAL_GROUP
        resources:
            # 280 MB max RSS measured
            runtime=trial_motion_runtime_min,
        params:
            chain=chain_params(TRIAL_MOTION_STAGES),
        script:
            "../../scripts/run_stages.py"
