# The built-in demo: a synthetic forward/backward running study with known truth.
# Generation writes the inputs the sheets name (results/<study>/inputs/; the sheets are
# written there by common.smk) and keeps the truth apart (results/<study>/truth/<subject>/).
# demo_truth computes the study's outcomes on the truth (OpenSim ID and SO on the true
# coordinates, true model and noise-free GRF); validate_ground_truth compares the
# pipeline's outputs with it and with the published forward-backward facts.
from retrorun.demo.design import trial_names
from retrorun.demo.subjects import truth_paths
from retrorun.demo.truth import outcome_paths

if "synthetic" in config:
    SYNTHETIC_TRIALS = trial_names(config["synthetic"])
    # the sheets name absolute paths (config.load_study), so the outputs must too
    SYNTHETIC_INPUTS = Path(STUDY_DIR, "inputs").resolve()
    SYNTHETIC_TRUTH = f"{STUDY_DIR}/truth"
    VALIDATION_DIR = f"{STUDY_DIR}/validation"

    def synthetic_truth(subject):
        return [str(p) for p in truth_paths(f"{SYNTHETIC_TRUTH}/{subject}", SYNTHETIC_TRIALS).values()]

    def truth_outcomes(subject, trial):
        return {k: str(v) for k, v in outcome_paths(f"{SYNTHETIC_TRUTH}/{subject}", trial).items()}

    rule synthesize_study:
        input:
            model=config["model"]["osim"],
        output:
            static=f"{SYNTHETIC_INPUTS}/{{subject}}_static.trc",
            markers=[f"{SYNTHETIC_INPUTS}/{{subject}}_{t}.trc" for t in SYNTHETIC_TRIALS],
            grf=[f"{SYNTHETIC_INPUTS}/{{subject}}_{t}.mot" for t in SYNTHETIC_TRIALS],
            truth=synthetic_truth("{subject}"),
        params:
            synthetic=config["synthetic"],
            inputs_dir=str(SYNTHETIC_INPUTS),
            truth_dir=lambda wc: f"{SYNTHETIC_TRUTH}/{wc.subject}",
        log:
            log_path("synthesize_study", "{subject}"),
        benchmark:
            benchmark_path("synthesize_study", "{subject}")
        resources:
            # measured: 370 MB max RSS, about 15 s of CPU per subject; attempt 2 doubles
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, attempt: 5 * attempt,
        script:
            "../../scripts/synthesize_study.py"

    rule demo_truth:
        input:
            model=f"{SYNTHETIC_TRUTH}/{{subject}}/true_model.osim",
            coordinates=f"{SYNTHETIC_TRUTH}/{{subject}}/{{trial}}_coordinates.mot",
            coordinates_sampled=f"{SYNTHETIC_TRUTH}/{{subject}}/{{trial}}_coordinates_marker_rate.mot",
            grf=f"{SYNTHETIC_TRUTH}/{{subject}}/{{trial}}_grf.mot",
            contacts=f"{SYNTHETIC_TRUTH}/{{subject}}/{{trial}}_contacts.csv",
        output:
            **{key: f"{SYNTHETIC_TRUTH}/{{subject}}/{{trial}}_{name}"
               for key, name in (("id", "id_generalized_forces.csv"), ("activations", "so_activations.csv"),
                                 ("cycles", "cycles.csv"), ("metrics", "cycle_metrics.csv"))},
        params:
            window=trial_region,
            settings=config["static_optimization"],
            analysis=config["analysis"],
            groups=config["muscle_groups"],
            sides=config["sides"],
            mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        log:
            log_path("demo_truth", "{subject}", "{trial}"),
        benchmark:
            benchmark_path("demo_truth", "{subject}", "{trial}")
        resources:
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, attempt: 10 * attempt,
        script:
            "../../scripts/demo_truth.py"

    rule validate_ground_truth:
        input:
            truth=lambda wc: [f for s in SUBJECTS for f in synthetic_truth(s.name)],
            outcomes=lambda wc: [f for s, t in all_trials() for f in truth_outcomes(s, t).values()],
            models=lambda wc: [f"{subject_dir(s.name)}/scaled_model.osim" for s in SUBJECTS],
            trial_files=lambda wc: [f"{trial_dir(s, t)}/{name}" for s, t in all_trials()
                                    for name in ("ik_coordinates.csv", "id_generalized_forces.csv", "grf.csv",
                                                 "so_activations.csv", "contacts.csv", "cycles.csv",
                                                 "cycle_metrics.csv")],
            comparison=f"{STUDY_DIR}/tables/comparison.csv",
            subject_means=f"{STUDY_DIR}/tables/subjects.csv",
        output:
            ground_truth=report(f"{VALIDATION_DIR}/ground_truth.csv", category="Quality checks"),
            literature=report(f"{VALIDATION_DIR}/literature.csv", category="Quality checks"),
            truth_comparison=f"{SYNTHETIC_TRUTH}/comparison.csv",
        params:
            trials=lambda wc: [{"subject": s, "trial": t, "condition": STUDY.trial(s, t).condition,
                                "dir": trial_dir(s, t), "truth_dir": f"{SYNTHETIC_TRUTH}/{s}",
                                **STUDY.trial(s, t).region} for s, t in all_trials()],
            subjects=lambda wc: {s.name: {"scaled_model": f"{subject_dir(s.name)}/scaled_model.osim",
                                          "truth_dir": f"{SYNTHETIC_TRUTH}/{s.name}",
                                          "mass_kg": s.mass_kg} for s in SUBJECTS},
            contact_threshold_n=config["grf"]["contact_threshold_n"],
            analysis=config["analysis"],
            groups=config["muscle_groups"],
            sides=config["sides"],
        log:
            log_path("validate_ground_truth", "all"),
        script:
            "../../scripts/validate_ground_truth.py"

    _EXTRA_FINAL_OUTPUTS.extend([f"{VALIDATION_DIR}/ground_truth.csv", f"{VALIDATION_DIR}/literature.csv"])
