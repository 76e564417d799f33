# The built-in demo: a synthetic forward/backward running study with known truth.
# Generation writes the inputs the sheets name (results/<study>/inputs/; the sheets are
# written there by common.smk) and keeps the truth apart (results/<study>/truth/<subject>/).
# demo_truth computes the study's outcomes on the truth (OpenSim ID and SO on the true
# coordinates, true model and noise-free GRF); validate_ground_truth compares the
# pipeline's outputs with it and with the published forward-backward facts;
# error_budget_trial and error_budget measure each stage's share of the error
# (retrorun/demo/error_budget.py).
from retrorun.demo.design import judged_outcomes, trial_names
from retrorun.emg import enabled as emg_enabled

if "synthetic" in config:
    SYNTHETIC_TRIALS = trial_names(config["synthetic"])
    # the sheets name absolute paths (config.load_study), so the outputs must too
    SYNTHETIC_INPUTS = Path(study_path("inputs")).resolve()
    VALIDATION_DIR = study_path("validation")

    # Every subject in one job, in worker processes forked after the imports
    # (retrorun/demo/study.py): a job per subject cost about a second of CPU importing for
    # about a second of work. A local rule (Snakefile); measured: 1.1 s of CPU per subject
    # and 1.2 s for the job's imports.
    rule synthesize_study:
        input:
            model=config["model"]["osim"],
        output:
            static=[f"{SYNTHETIC_INPUTS}/{s.name}_static.trc" for s in SUBJECTS],
            markers=[f"{SYNTHETIC_INPUTS}/{s.name}_{t}.trc" for s in SUBJECTS for t in SYNTHETIC_TRIALS],
            grf=[f"{SYNTHETIC_INPUTS}/{s.name}_{t}.mot" for s in SUBJECTS for t in SYNTHETIC_TRIALS],
            truth=[f for s in SUBJECTS for f in synthetic_truth(s.name)],
        log:
            study_log("synthesize_study"),
        benchmark:
            study_benchmark("synthesize_study")
        # Snakemake gives it at most --cores (--local-cores on a cluster)
        threads: len(SUBJECTS)
        params:
            synthetic=config["synthetic"],
            inputs_dir=lambda wc, output: str(Path(output.static[0]).parent),
            truth_dirs={s.name: truth_dir(s.name) for s in SUBJECTS},
        script:
            "../../scripts/synthesize_study.py"

    STAGE_DEMO_TRUTH = Stage(
        "demo_truth",
        input=dict(
            model=truth_path("true_model.osim"),
            coordinates=truth_path("{trial}_coordinates.mot"),
            coordinates_sampled=truth_path("{trial}_coordinates_marker_rate.mot"),
            grf=truth_path("{trial}_grf.mot"),
            contacts=truth_path("{trial}_contacts.csv"),
            # the reference of static_optimization.strength_scaling, as in rule static_optimization_chunk
            generic_model=config["model"]["osim"],
        ),
        output={
            key: truth_path(f"{{trial}}_{name}")
            for key, name in (
                ("id", "id_generalized_forces.csv"),
                ("activations", "so_activations.csv"),
                ("cycles", "cycles.csv"),
                ("metrics", "cycle_metrics.csv"),
            )
        },
        log=trial_log("demo_truth"),
        params=dict(
            window=trial_region,
            settings=config["static_optimization"],
            analysis=TRIAL_ANALYSIS,
            groups=analysis_groups(config),
            sides=config["sides"],
            mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
            height_m=lambda wc: STUDY.subject(wc.subject).height_m,
        ),
    )
    # raw EMG from the truth's activations (retrorun/demo/emg.py), where the study has EMG
    STAGE_SYNTHESIZE_EMG = Stage(
        "synthesize_emg",
        input=dict(activations=truth_path("{trial}_so_activations.csv")),
        output=dict(
            emg=f"{SYNTHETIC_INPUTS}/emg/{{subject}}/{{trial}}.csv",
            parameters=truth_path("{trial}_emg_parameters.csv"),
        ),
        log=trial_log("synthesize_emg"),
        params=dict(
            channels=config["emg"]["channels"],
            seed=config["synthetic"]["seed"],
            subject_index=lambda wc: [s.name for s in SUBJECTS].index(wc.subject),
            trial_index=lambda wc: SYNTHETIC_TRIALS.index(wc.trial),
            condition=lambda wc: STUDY.trial(wc.subject, wc.trial).condition,
        ),
    )
    # A trial's truth and the EMG synthesized from it in one job (Stage, common.smk): the
    # EMG's own job cost about a second of start-up for a tenth of a second of work.
    DEMO_TRUTH_STAGES = [STAGE_DEMO_TRUTH] + ([STAGE_SYNTHESIZE_EMG] if emg_enabled(config) else [])
    # measured: about 3 s of CPU per demo trial (OpenSim's SO on the truth)
    DEMO_TRUTH_RUNTIME_MIN = 10
    # Without variants (DEMO_IN_CHAINS, common.smk) a trial's truth is the first stages of
    # its trial_motion job (dynamics.smk), its error budget the last of its trial_analysis
    # (analysis.smk): each job of its own cost about 2 s of CPU to start, most of a
    # truth's or an error budget's 3 s of work.
    if not DEMO_IN_CHAINS:

        rule demo_truth:
            input:
                chain_input(DEMO_TRUTH_STAGES),
            output:
                **chain_output(DEMO_TRUTH_STAGES, "demo_truth"),
            log:
                chain_log("demo_truth"),
            # on a cluster the truth runs in the group job of the trial it stands beside (its
            # EMG and error budget read it): a SLURM job of its own cost about 6 s of start-up
            # (two Snakemake starts, sbatch's and srun's) for about 5 s of work
            group:
                TRIAL_GROUP
            resources:
                runtime=lambda wc, attempt: DEMO_TRUTH_RUNTIME_MIN * attempt,
            params:
                chain=chain_params(DEMO_TRUTH_STAGES),
            script:
                "../../scripts/run_stages.py"

    rule validate_ground_truth:
        input:
            truth=lambda wc: [f for s in SUBJECTS for f in synthetic_truth(s.name)],
            outcomes=lambda wc: [f for s, t in all_trials() for f in truth_outcomes(s, t).values()],
            models=lambda wc: [subject_path("scaled_model.osim", s.name) for s in SUBJECTS],
            trial_files=lambda wc: [
                trial_path(name, s, t)
                for s, t in all_trials()
                for name in (
                    "ik_coordinates.csv",
                    "id_generalized_forces.csv",
                    "grf.csv",
                    "so_activations.csv",
                    "contacts.csv",
                    "cycles.csv",
                    "cycle_metrics.csv",
                    "heading.json",
                )
            ],
            comparison=study_path("tables/comparison.csv"),
            subject_means=study_path("tables/subjects.csv"),
            # the true forces' plates and sides, for the truth's gait geometry
            external_loads=config["model"]["external_loads"],
        output:
            ground_truth=report(f"{VALIDATION_DIR}/ground_truth.csv", category="Quality checks"),
            literature=report(f"{VALIDATION_DIR}/literature.csv", category="Quality checks"),
            truth_comparison=study_path("truth/comparison.csv"),
        log:
            study_log("validate_ground_truth"),
        benchmark:
            study_benchmark("validate_ground_truth")
        params:
            trials=lambda wc: [
                {
                    "subject": s,
                    "trial": t,
                    "condition": STUDY.trial(s, t).condition,
                    "dir": trial_dir(s, t),
                    "truth_dir": truth_dir(s),
                    **STUDY.trial(s, t).region,
                }
                for s, t in all_trials()
            ],
            subjects=lambda wc: {
                s.name: {
                    "scaled_model": subject_path("scaled_model.osim", s.name),
                    "truth_dir": truth_dir(s.name),
                    "mass_kg": s.mass_kg,
                }
                for s in SUBJECTS
            },
            contact_threshold_n=config["grf"]["contact_threshold_n"],
            analysis=config["analysis"],
            groups=analysis_groups(config),
            sides=config["sides"],
            synthetic=config["synthetic"],
            outcomes=judged_outcomes(config),
        script:
            "../../scripts/validate_ground_truth.py"

    # one trial's outcomes with the truth's chain and each pipeline stage swapped in alone
    STAGE_ERROR_BUDGET_TRIAL = Stage(
        "error_budget_trial",
        unpack=[lambda wc: truth_outcomes(wc.subject, wc.trial)],
        input=dict(
            truth=lambda wc: synthetic_truth(wc.subject),
            contacts=trial_path("contacts.csv"),
            ik_unfiltered=trial_path("ik_unfiltered.mot"),
            heading=trial_path("heading.json"),
            scaled_model=subject_path("scaled_model.osim"),
            generic_model=config["model"]["osim"],
        ),
        output=dict(table=study_path("validation/error_budget/{subject}/{trial}.csv")),
        log=trial_log("error_budget_trial"),
        params=dict(
            window=trial_region,
            truth_dir=lambda wc: truth_dir(wc.subject),
            trial_dir=lambda wc: trial_dir(wc.subject, wc.trial),
            budget={
                "settings": config["static_optimization"],
                "groups": analysis_groups(config),
                "sides": config["sides"],
                "analysis": TRIAL_ANALYSIS,
                "filter_hz": config["filter_hz"],
                "contact_threshold_n": config["grf"]["contact_threshold_n"],
                "residual_reduction_method": config["residual_reduction"]["method"],
            },
            mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
            height_m=lambda wc: STUDY.subject(wc.subject).height_m,
        ),
    )
    if not DEMO_IN_CHAINS:

        rule error_budget_trial:
            input:
                unpack(STAGE_ERROR_BUDGET_TRIAL.unpack[0]),
                **STAGE_ERROR_BUDGET_TRIAL.input,
            output:
                **STAGE_ERROR_BUDGET_TRIAL.output,
            log:
                STAGE_ERROR_BUDGET_TRIAL.log,
            benchmark:
                STAGE_ERROR_BUDGET_TRIAL.benchmark
            group:
                TRIAL_GROUP
            params:
                **STAGE_ERROR_BUDGET_TRIAL.params,
            script:
                "../../scripts/error_budget_trial.py"

    rule error_budget:
        input:
            stages=lambda wc: [study_path(f"validation/error_budget/{s}/{t}.csv") for s, t in all_trials()],
            outcomes=lambda wc: [truth_outcomes(s, t)["metrics"] for s, t in all_trials()],
            pipeline=lambda wc: [
                trial_path(n, s, t) for s, t in all_trials() for n in ("cycle_metrics.csv", "cycles.csv")
            ],
            comparison=study_path("tables/comparison.csv"),
            truth_comparison=study_path("truth/comparison.csv"),
        output:
            table=report(f"{VALIDATION_DIR}/error_budget.csv", category="Quality checks"),
            figure=report(f"{VALIDATION_DIR}/error_budget.png", category="Quality checks"),
        log:
            study_log("error_budget"),
        benchmark:
            study_benchmark("error_budget")
        params:
            trials=lambda wc: [
                {
                    "subject": s,
                    "trial": t,
                    "condition": STUDY.trial(s, t).condition,
                    "dir": trial_dir(s, t),
                    "truth_dir": truth_dir(s),
                    "stages": study_path(f"validation/error_budget/{s}/{t}.csv"),
                }
                for s, t in all_trials()
            ],
            compare=config["analysis"]["compare"],
            # the primary outcomes and the hypotheses' measures (retrorun/demo/checks.py)
            primary_outcomes=judged_outcomes(config),
            residual_reduction_method=config["residual_reduction"]["method"],
        script:
            "../../scripts/error_budget.py"

    rule validate_emg_truth:
        input:
            # the trial chains' manifests where the envelopes are their stage's (declared_files)
            envelopes=lambda wc: declared_files({"envelopes": emg_envelope_files()}),
            activations=lambda wc: [truth_outcomes(s, t)["activations"] for s, t in emg_trials()],
            cycles=lambda wc: [truth_outcomes(s, t)["cycles"] for s, t in emg_trials()],
            metrics=lambda wc: [truth_outcomes(s, t)["metrics"] for s, t in emg_trials()],
            subjects=study_path("tables/subjects.csv"),
        output:
            emg_truth=report(f"{VALIDATION_DIR}/emg_truth.csv", category="Quality checks"),
        log:
            study_log("validate_emg_truth"),
        benchmark:
            study_benchmark("validate_emg_truth")
        params:
            trials=lambda wc: emg_trial_info(),
            envelopes=lambda wc: emg_envelope_files(),
            settings=config["emg"],
            outcomes=config["analysis"]["primary_outcomes"],
            compare=config["analysis"]["compare"],
        script:
            "../../scripts/validate_emg_truth.py"
