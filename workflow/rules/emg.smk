# Measured muscle activity (config emg): each trial's EMG to envelopes, one divisor per
# channel and subject (over all its trials, both conditions: normalising per trial
# would erase a forward-backward contrast), the normalised envelopes the analysis joins
# to its cycles, and SO's agreement with them.
EMG = config["emg"]


rule process_emg:
    input:
        emg=trial_emg_source,
        span=analysis_span,
    output:
        processed=trial_path("emg_processed.csv"),
    log:
        trial_log("process_emg"),
    benchmark:
        trial_benchmark("process_emg")
    group:
        TRIAL_GROUP
    params:
        settings=EMG,
        trial_dir=trial_folder,
    script:
        "../../scripts/process_emg.py"


rule emg_normalisation:
    input:
        processed=lambda wc: [trial_path("emg_processed.csv", s, t) for s, t in emg_trials(wc.subject)],
        cycles=lambda wc: [trial_path("cycles.csv", s, t) for s, t in emg_trials(wc.subject)],
        mvc=lambda wc: [str(STUDY.subject(wc.subject).emg_mvc)] if EMG["normalise"] == "mvc" else [],
    output:
        divisors=subject_path("emg_normalisation.csv"),
    log:
        subject_log("emg_normalisation"),
    benchmark:
        subject_benchmark("emg_normalisation")
    group:
        TRIAL_GROUP
    params:
        settings=EMG,
        sides=config["sides"],
        trials=lambda wc: emg_trial_info(wc.subject),
    script:
        "../../scripts/emg_normalisation.py"


rule emg_envelopes:
    input:
        processed=trial_path("emg_processed.csv"),
        divisors=subject_path("emg_normalisation.csv"),
    output:
        envelopes=trial_path("emg_envelopes.csv"),
    log:
        trial_log("emg_envelopes"),
    benchmark:
        trial_benchmark("emg_envelopes")
    group:
        TRIAL_GROUP
    params:
        trial_dir=trial_folder,
    script:
        "../../scripts/emg_envelopes.py"


rule emg_agreement:
    input:
        curves=lambda wc: [trial_path("cycle_curves.csv", s, t) for s, t in emg_trials()],
        cycles=lambda wc: [trial_path("cycles.csv", s, t) for s, t in emg_trials()],
    output:
        agreement=report(
            study_path("tables/emg_agreement.csv"),
            caption="../report/emg_agreement.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        study_log("emg_agreement"),
    benchmark:
        study_benchmark("emg_agreement")
    params:
        trials=lambda wc: emg_trial_info(),
        settings=EMG,
        groups=config["muscle_groups"],
        sides=config["sides"],
    script:
        "../../scripts/emg_agreement.py"


rule emg_figures:
    input:
        curves=lambda wc: [trial_path("cycle_curves.csv", s, t) for s, t in emg_trials()],
    output:
        **_figure("emg_vs_so", "fig_emg_vs_so"),
    log:
        study_log("emg_figures"),
    benchmark:
        study_benchmark("emg_figures")
    params:
        trials=lambda wc: emg_trial_info(),
        settings=EMG,
        sides=config["sides"],
        compare=config["analysis"]["compare"],
    script:
        "../../scripts/emg_figures.py"
