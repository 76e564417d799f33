# The study's claims (config `hypotheses`, issue 22): each tested on an outcome of the
# comparison and given a verdict; and the chains' anatomical premise, read from the
# scaled models (not from any trial).


rule model_chains:
    input:
        models=expand(subject_path("scaled_model.osim", "{subject}"), subject=[s.name for s in SUBJECTS]),
        # its total mass is the reference of static_optimization.strength_scaling
        generic_model=config["model"]["osim"],
    output:
        report(
            f"{TABLES_DIR}/model_chains.csv",
            caption="../report/model_chains.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        study_log("model_chains"),
    benchmark:
        study_benchmark("model_chains")
    params:
        subjects=[{"subject": s.name, "mass_kg": s.mass_kg, "height_m": s.height_m} for s in SUBJECTS],
        chains=config.get("chains") or {},
        sides=config["sides"],
        model_chains=config["model_chains"],
        # the knee's extension direction, as the analysis finds it (unless model_chains sets it)
        analysis={key: config["analysis"][key] for key in ("knee_coordinate", "knee_extension_sign")},
        quadriceps=config["muscle_groups"]["quadriceps"],
        strength=config["static_optimization"],
    script:
        "../../scripts/model_chains.py"


rule hypotheses:
    input:
        comparison=rules.analysis_tables.output.comparison,
        subjects=rules.analysis_tables.output.subjects,
    output:
        report(
            f"{TABLES_DIR}/hypotheses.csv",
            caption="../report/hypotheses.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        study_log("hypotheses"),
    benchmark:
        study_benchmark("hypotheses")
    params:
        hypotheses=config["hypotheses"],
        settings=ANALYSIS,
    script:
        "../../scripts/hypotheses.py"
