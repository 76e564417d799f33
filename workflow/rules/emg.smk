# Measured muscle activity (config emg): each trial's EMG to envelopes, one divisor per
# channel and subject (over all its trials, both conditions: normalising per trial
# would erase a forward-backward contrast), the normalised envelopes the analysis joins
# to its cycles, and SO's agreement with them. A trial's EMG processing ends its
# trial_motion job and its envelopes' normalisation begins its trial_analysis job
# (EMG_IN_CHAINS, common.smk): included before dynamics.smk and analysis.smk for that.
EMG = config["emg"]


# The trial's EMG processed to envelopes (not yet normalised) over the span SO runs on
STAGE_PROCESS_EMG = Stage(
    "process_emg",
    input=dict(emg=trial_emg_source, span=analysis_span),
    output=dict(processed=trial_path("emg_processed.csv")),
    log=trial_log("process_emg"),
    params=dict(settings=EMG, trial_dir=trial_folder),
    when=has_emg,
)
# The trial's envelopes divided by its subject's divisors (rule emg_normalisation)
STAGE_EMG_ENVELOPES = Stage(
    "emg_envelopes",
    input=dict(processed=trial_path("emg_processed.csv"), divisors=subject_path("emg_normalisation.csv")),
    output=dict(envelopes=trial_path("emg_envelopes.csv")),
    log=trial_log("emg_envelopes"),
    params=dict(trial_dir=trial_folder),
    when=has_emg,
)


# Without EMG_IN_CHAINS (common.smk) the two stages are jobs of their own, as the main
# run's EMG that every sensitivity variant reads
if not EMG_IN_CHAINS:

    rule process_emg:
        input:
            **STAGE_PROCESS_EMG.input,
        output:
            **STAGE_PROCESS_EMG.output,
        log:
            STAGE_PROCESS_EMG.log,
        benchmark:
            STAGE_PROCESS_EMG.benchmark
        group:
            TRIAL_GROUP
        params:
            **STAGE_PROCESS_EMG.params,
        script:
            "../../scripts/process_emg.py"

    rule emg_envelopes:
        input:
            **STAGE_EMG_ENVELOPES.input,
        output:
            **STAGE_EMG_ENVELOPES.output,
        log:
            STAGE_EMG_ENVELOPES.log,
        benchmark:
            STAGE_EMG_ENVELOPES.benchmark
        group:
            TRIAL_GROUP
        params:
            **STAGE_EMG_ENVELOPES.params,
        script:
            "../../scripts/emg_envelopes.py"


# One divisor per channel of the subject, over its trials' processed envelopes and
# analysed cycles (or its MVC trial): a rule of its own, or a part of the subject's job
# (SUBJECT_IN_ONE_JOB, common.smk). As a stage it reads the trials' files themselves (its
# reuse key is their content); as a rule it declares the chains' manifests that list them.
STAGE_EMG_NORMALISATION = Stage(
    "emg_normalisation",
    input=dict(
        processed=lambda wc: emg_normalisation_files(wc.subject)["processed"],
        cycles=lambda wc: emg_normalisation_files(wc.subject)["cycles"],
        mvc=lambda wc: [str(STUDY.subject(wc.subject).emg_mvc)] if EMG["normalise"] == "mvc" else [],
    ),
    output=dict(divisors=subject_path("emg_normalisation.csv")),
    log=subject_log("emg_normalisation"),
    benchmark=subject_benchmark("emg_normalisation"),
    params=dict(
        settings=EMG,
        sides=config["sides"],
        trials=lambda wc: emg_trial_info(wc.subject),
        files=lambda wc: emg_normalisation_files(wc.subject),
    ),
    when=lambda wc: bool(emg_trials(wc.subject)),
)


if not SUBJECT_IN_ONE_JOB:

    rule emg_normalisation:
        input:
            # the trial chains' manifests where the files are their stages' (declared_files)
            trial_files=lambda wc: declared_files(emg_normalisation_files(wc.subject)),
            mvc=STAGE_EMG_NORMALISATION.input["mvc"],
        output:
            **STAGE_EMG_NORMALISATION.output,
        log:
            STAGE_EMG_NORMALISATION.log,
        benchmark:
            STAGE_EMG_NORMALISATION.benchmark
        group:
            TRIAL_GROUP
        params:
            **STAGE_EMG_NORMALISATION.params,
        script:
            "../../scripts/emg_normalisation.py"


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
