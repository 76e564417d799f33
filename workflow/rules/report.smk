# The study's methods section, written from its own config, sheets, model and run.


rule methods_text:
    input:
        model=config["model"]["osim"],
        subjects=config["subjects"],
        trials=config["trials"],
        qc=study_path("qc.csv"),
        counts=rules.analysis_tables.output.counts,
        comparison=rules.analysis_tables.output.comparison,
    output:
        methods=report(study_path("methods.md"), caption="../report/methods.rst", category="Methods"),
    log:
        study_log("methods_text"),
    benchmark:
        study_benchmark("methods_text")
    params:
        # the whole config: any setting the text states reruns it
        config=config,
    script:
        "../../scripts/methods_text.py"
