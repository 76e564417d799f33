# Quadriceps vs hamstrings metrics per chosen cycle (stage plan_cycles), then the study
# tables (paired forward/backward statistics, SPM) and figures, all in the report.
TABLES_DIR = study_path("tables")
ANALYSIS = config["analysis"]


STAGE_ANALYSE_TRIAL = Stage(
    "analyse_trial",
    unpack=[emg_analysis_inputs],
    input=dict(
        # the model SO ran on gives each muscle's activation floor (min_control), the knee
        # extension direction and, with weighting max_isometric_force, the weights (a
        # uniform strength scale in SO does not change them)
        model=reduced_model,
        cycles=trial_path("cycles.csv"),
        activations=trial_path("so_activations.csv"),
        ik=reduced_coordinates_table,
        id_forces=dynamics_after_reduction,
    ),
    output=dict(
        metrics=trial_path("cycle_metrics.csv"),
        curves=trial_path("cycle_curves.csv"),
        stance_curves=trial_path("stance_curves.csv"),
    ),
    log=trial_log("analyse_trial"),
    params=dict(
        settings=TRIAL_ANALYSIS,
        # muscle groups and, with config chains, the chains (analysed as groups)
        groups=analysis_groups(config),
        sides=config["sides"],
        mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        # a treadmill's belt speed from the trials sheet, else the pelvis's (retrorun/speed.py)
        speed_m_s=lambda wc: STUDY.trial(wc.subject, wc.trial).speed_m_s,
        emg=config["emg"],
        trial_dir=trial_folder,
    ),
)

# foot placement, the COM over the hips and the strike pattern per used cycle
# (retrorun/gait_geometry.py), from the model and coordinates the analysis reads
STAGE_GAIT_GEOMETRY = Stage(
    "gait_geometry",
    input=dict(
        model=reduced_model,
        coordinates=reduced_coordinates_table,
        cycles=trial_path("cycles.csv"),
        grf=trial_path("grf.csv"),
    ),
    output=dict(geometry=trial_path("gait_geometry.csv")),
    log=trial_log("gait_geometry"),
    params=dict(
        sides=config["sides"],
        # the centre of pressure at contact: the first sample loaded at the event threshold
        threshold_n=ANALYSIS["contact_threshold_n"],
        trial_dir=trial_folder,
    ),
)

# A trial's stages after its motion in one job (Stage, common.smk): its EMG envelopes
# normalised (EMG_IN_CHAINS, where it has EMG), its residual step
# where no run uses mass_com (REDUCTION_IN_ANALYSIS), SO where it is one chunk
# (SO_IN_ANALYSIS), merging SO's chunks, the metrics per cycle, the gait geometry and QC
TRIAL_ANALYSIS_STAGES = [STAGE_EMG_ENVELOPES] if EMG_IN_CHAINS else []
TRIAL_ANALYSIS_STAGES += [STAGE_REDUCE_RESIDUALS] if REDUCTION_IN_ANALYSIS else []
TRIAL_ANALYSIS_STAGES += [STAGE_STATIC_OPTIMIZATION_CHUNK] if SO_IN_ANALYSIS else []
TRIAL_ANALYSIS_STAGES += [STAGE_STATIC_OPTIMIZATION, STAGE_ANALYSE_TRIAL, STAGE_GAIT_GEOMETRY, STAGE_TRIAL_QC]
# the demo's error budget of the trial last (synthetic.smk)
TRIAL_ANALYSIS_STAGES += [STAGE_ERROR_BUDGET_TRIAL] if DEMO_IN_CHAINS else []


# every stage of a trial, its motion (dynamics.smk) then its analysis: one job where
# nothing runs between them (TRIAL_IN_ONE_JOB, common.smk)
TRIAL_STAGES = TRIAL_MOTION_STAGES + TRIAL_ANALYSIS_STAGES


if TRIAL_IN_ONE_JOB:

    rule trial:
        input:
            chain_input(TRIAL_STAGES),
        output:
            **chain_output(TRIAL_STAGES, "trial"),
        log:
            chain_log("trial"),
        group:
            TRIAL_GROUP
        threads: so_threads
        resources:
            runtime=lambda wc, attempt: trial_motion_runtime_min(wc, attempt) + trial_analysis_runtime_min(wc, attempt),
        params:
            chain=chain_params(TRIAL_STAGES),
        script:
            "../../scripts/run_stages.py"

elif SUBJECT_IN_ONE_JOB:
    # the chains' exported files (rules outside read them) and the files they write
    # (CHAIN_FILES: a reader declares their manifests), as rules trial_motion and
    # trial_analysis would have declared them, and the subject's scaled model (scaling.smk)
    SUBJECT_JOB_EXPORTS = {
        "scale_model": STAGE_SCALE_MODEL.output,
        "trial_motion": chain_output(TRIAL_MOTION_STAGES, "trial_motion"),
        "trial_analysis": chain_output(TRIAL_ANALYSIS_STAGES, "trial_analysis"),
    }
    SUBJECT_JOB_STAGES = ([STAGE_SCALE_MODEL], TRIAL_MOTION_STAGES, [STAGE_EMG_NORMALISATION], TRIAL_ANALYSIS_STAGES)
    _RULE_NAMES = subject_rule_names()
    for _subject in SUBJECTS_SCALED_IN_THEIR_JOB:
        _rule_name = _RULE_NAMES[_subject]

        # its chains are worked out when its job is planned (every process parses this)
        rule:
            name:
                _rule_name
            input:
                lambda wc, subject=_subject: subject_job_inputs(subject_job_parts(subject, *SUBJECT_JOB_STAGES)),
            output:
                subject_job_outputs(_subject, SUBJECT_JOB_EXPORTS),
            log:
                subject_log("subject").format(subject=_subject),
            group:
                TRIAL_GROUP
            threads: subject_job_threads(_subject)
            resources:
                runtime=lambda wc, attempt, trials=len(subject_trials(_subject)): trials
                * (trial_motion_runtime_min(wc, attempt) + trial_analysis_runtime_min(wc, attempt)),
            params:
                parts=lambda wc, subject=_subject: subject_job_parts(subject, *SUBJECT_JOB_STAGES),
                subject=_subject,
            script:
                "../../scripts/run_subject.py"

else:

    rule trial_analysis:
        input:
            chain_input(TRIAL_ANALYSIS_STAGES),
        output:
            **chain_output(TRIAL_ANALYSIS_STAGES, "trial_analysis"),
        log:
            chain_log("trial_analysis"),
        group:
            TRIAL_GROUP
        # where SO is a stage here (muscles.smk): MocoInverse's threads, SO's minutes on top of
        # the profile's default 5
        threads: so_threads if SO_IN_ANALYSIS else 1
        resources:
            runtime=trial_analysis_runtime_min,
        params:
            chain=chain_params(TRIAL_ANALYSIS_STAGES),
        script:
            "../../scripts/run_stages.py"


rule analysis_tables:
    input:
        trial_files=analysis_table_inputs,
        qc=study_path("qc.csv"),
    output:
        cycles=report(
            f"{TABLES_DIR}/cycles.csv", caption="../report/cycles.rst", category="Results", subcategory="Tables"
        ),
        subjects=report(
            f"{TABLES_DIR}/subjects.csv", caption="../report/subjects.rst", category="Results", subcategory="Tables"
        ),
        comparison=report(
            f"{TABLES_DIR}/comparison.csv",
            caption="../report/comparison.rst",
            category="Results",
            subcategory="Tables",
        ),
        spm=report(f"{TABLES_DIR}/spm.csv", caption="../report/spm.rst", category="Results", subcategory="Tables"),
        counts=report(f"{TABLES_DIR}/cycle_counts.csv", caption="../report/cycle_counts.rst", category="Quality checks"),
        curves=f"{TABLES_DIR}/curves.csv",
    log:
        study_log("analysis_tables"),
    benchmark:
        study_benchmark("analysis_tables")
    params:
        trials=lambda wc: analysis_trial_info(),
        files=lambda wc: analysis_table_files(wc.get("variant")),
        failed=failed_trial_records,
        conditions={(t.subject, t.name): t.condition for t in TRIALS},
        settings=ANALYSIS,
        groups=analysis_groups(config),
        sides=config["sides"],
    script:
        "../../scripts/analysis_tables.py"


rule analysis_figures:
    input:
        curves=rules.analysis_tables.output.curves,
        subjects=rules.analysis_tables.output.subjects,
        spm=rules.analysis_tables.output.spm,
        counts=rules.analysis_tables.output.counts,
        qc=study_path("qc.csv"),
    output:
        **_figure("group_activation", "fig_group_activation"),
        **_figure("qh_ratio", "fig_qh_ratio"),
        **_figure("knee_moment", "fig_knee_moment"),
        **_figure("chains", "fig_chains"),
        **_figure("foot_placement", "fig_foot_placement"),
        **_figure("qc_overview", "fig_qc_overview", category="Quality checks"),
    log:
        study_log("analysis_figures"),
    benchmark:
        study_benchmark("analysis_figures")
    params:
        compare=ANALYSIS["compare"],
        unit=ANALYSIS["unit"],
        groups=config["muscle_groups"],
    script:
        "../../scripts/analysis_figures.py"


rule report_front_page:
    # the report's landing text (Snakefile `report:`), written from the tables
    input:
        unpack(sensitivity_table_input),
        unpack(emg_front_page_inputs),
        unpack(hypotheses_front_page_inputs),
        comparison=rules.analysis_tables.output.comparison,
        counts=rules.analysis_tables.output.counts,
        subjects=rules.analysis_tables.output.subjects,
        qc=study_path("qc.csv"),
    output:
        study_path("report/front_page.rst"),
    log:
        study_log("report_front_page"),
    benchmark:
        study_benchmark("report_front_page")
    params:
        study=config["study"],
        qc_gate=ANALYSIS["qc_gate"],
        alpha=ANALYSIS["alpha"],
        min_cycles=ANALYSIS["min_cycles"],
        max_speed_difference=ANALYSIS["max_speed_difference"],
        qc_thresholds=config["qc"],
    script:
        "../../scripts/report_front_page.py"
