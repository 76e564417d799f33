# Static optimization over the chosen cycles (analysis_span.json), split into config
# static_optimization.chunks parallel jobs (each sees the whole filtered IK, so every
# chunk has the IK margin around it), then merged into one table per trial. In one chunk
# (the default) SO is a stage of the trial's trial_analysis chain where every run allows
# it (SO_IN_ANALYSIS, common.smk).


SO_CHUNK_INPUT = dict(
    model=reduced_model,
    coordinates=reduced_coordinates,
    grf=trial_path("grf.mot"),
    external_loads=trial_path("external_loads.xml"),
    # its total mass is the reference of static_optimization.strength_scaling
    generic_model=config["model"]["osim"],
    span=analysis_span,
)
SO_CHUNK_PARAMS = dict(
    trial_dir=trial_folder,
    settings=config["static_optimization"],
    mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
    height_m=lambda wc: STUDY.subject(wc.subject).height_m,
    sides=config["sides"],
)


if SO_IN_ANALYSIS:
    # the one chunk, a stage of rule trial_analysis (analysis.smk)
    STAGE_STATIC_OPTIMIZATION_CHUNK = Stage(
        "static_optimization_chunk",
        input=SO_CHUNK_INPUT,
        output=so_chunk_output(0, 1),
        log=log_path("static_optimization_chunk", "{subject}", "{trial}", "0-of-1"),
        benchmark=benchmark_path("static_optimization_chunk", "{subject}", "{trial}", "0-of-1"),
        params=SO_CHUNK_PARAMS | dict(chunk=0, chunks=1),
    )
else:

    rule static_optimization_chunk:
        input:
            **SO_CHUNK_INPUT,
        output:
            **so_chunk_output(),
        log:
            log_path("static_optimization_chunk", "{subject}", "{trial}", "{chunk}-of-{chunks}"),
        benchmark:
            benchmark_path("static_optimization_chunk", "{subject}", "{trial}", "{chunk}-of-{chunks}")
        wildcard_constraints:
            chunk=r"\d+",
            chunks=r"\d+",
        group:
            TRIAL_GROUP
        # solver moco_inverse: static_optimization.moco_inverse.threads; the others run on one
        threads: so_threads
        resources:
            # solver opensim: 370 MB max RSS (Hamner, 92 muscles); moco_inverse: 320 MB (demo,
            # 26 muscles) to 670 MB (Rajagopal, 80 muscles; tools/benchmark_moco_inverse.py), in
            # the profile's default 1000 MB. Minutes: so_runtime_min (common.smk).
            runtime=so_runtime_min,
        params:
            **SO_CHUNK_PARAMS,
            chunk=lambda wc: int(wc.chunk),
            chunks=lambda wc: int(wc.chunks),
        script:
            "../../scripts/static_optimization_chunk.py"


# merging the chunks: a stage of rule trial_analysis (analysis.smk)
STAGE_STATIC_OPTIMIZATION = Stage(
    "static_optimization",
    input=dict(chunks=so_chunks, actuators=so_chunk_actuators, model=reduced_model),
    output=dict(
        activations_sto=trial_path("so_activations.sto"),
        forces_sto=trial_path("so_forces.sto"),
        activations=trial_path("so_activations.csv"),
        forces=trial_path("so_forces.csv"),
        actuators=trial_path("so_actuators.csv"),
    ),
    log=trial_log("static_optimization"),
    params=dict(trial_dir=trial_folder),
)
