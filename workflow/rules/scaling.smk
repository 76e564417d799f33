# Scale the generic model to each subject from the static trial.

STAGE_SCALE_MODEL = Stage(
    "scale_model",
    unpack=[lambda wc: model_inputs()],
    input=dict(static=static_markers_path),
    output=dict(
        model=subject_path("scaled_model.osim"),
        marker_errors=subject_path("scale_marker_errors.csv"),
        # which way the subject faces in the static trial (retrorun.heading)
        heading=subject_path("static_heading.json"),
    ),
    log=subject_log("scale_model"),
    benchmark=subject_benchmark("scale_model"),
    params=dict(
        mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        height_m=lambda wc: STUDY.subject(wc.subject).height_m,
        start_s=lambda wc: STUDY.subject(wc.subject).static_start_s,
        end_s=lambda wc: STUDY.subject(wc.subject).static_end_s,
        aliases=config["marker_aliases"],
        gaps=config["gaps"],
        landmarks=config["qc"]["scale_landmarks"],
        landmark_min_weight_share=config["qc"]["scale_landmark_min_weight_share"],
    ),
)


# A subject that is one job (SUBJECT_IN_ONE_JOB, common.smk) is scaled first in that job
# (analysis.smk): a job of its own cost about a second of start-up for a second of work,
# and 8 such jobs between the demo's subjects left a core idle at the end. This rule
# scales the other subjects: every subject in the other layouts, and in this one a
# subject none of whose trials is left to run (its scaled model is still a target).
rule scale_model:
    input:
        unpack(STAGE_SCALE_MODEL.unpack[0]),
        **STAGE_SCALE_MODEL.input,
    output:
        **STAGE_SCALE_MODEL.output,
    log:
        STAGE_SCALE_MODEL.log,
    benchmark:
        STAGE_SCALE_MODEL.benchmark
    wildcard_constraints:
        subject=subjects_other_than(SUBJECTS_SCALED_IN_THEIR_JOB),
    params:
        **STAGE_SCALE_MODEL.params,
    # measured: 255 MB max RSS, 2-10 s per subject; a local rule under a cluster profile
    # (Snakefile), so it runs on the submitting machine and asks SLURM for nothing
    script:
        "../../scripts/scale_model.py"
