# The built-in demo: a synthetic forward/backward running study with known truth.
# Generation writes the inputs the sheets name (results/<study>/inputs/) and keeps the
# truth apart (results/<study>/truth/<subject>/); validation compares the pipeline's
# outputs with that truth.
from retrorun.config import finite_or_none
from retrorun.synthetic import trial_names, truth_paths

if "synthetic" in config:
    SYNTHETIC_TRIALS = trial_names(config["synthetic"])
    # the sheets name absolute paths (config.load_study), so the outputs must too
    SYNTHETIC_INPUTS = Path(STUDY_DIR, "inputs").resolve()
    SYNTHETIC_TRUTH = f"{STUDY_DIR}/truth"

    def synthetic_truth(subject):
        return [str(p) for p in truth_paths(f"{SYNTHETIC_TRUTH}/{subject}", SYNTHETIC_TRIALS).values()]

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
            # measured: 360 MB max RSS, 55 s per subject; attempt 2 doubles
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, attempt: 5 * attempt,
        script:
            "../../scripts/synthesize_study.py"

    rule validate_ground_truth:
        input:
            truth=lambda wc: [f for s in SUBJECTS["subject"] for f in synthetic_truth(s)],
            models=lambda wc: [f"{subject_dir(s)}/scaled_model.osim" for s in SUBJECTS["subject"]],
            ik=lambda wc: [f"{trial_dir(s, t)}/ik_coordinates.csv" for s, t in all_trials()],
            id_forces=lambda wc: [f"{trial_dir(s, t)}/id_generalized_forces.csv" for s, t in all_trials()],
            grf=lambda wc: [f"{trial_dir(s, t)}/grf.csv" for s, t in all_trials()],
        output:
            report(f"{STUDY_DIR}/validation/ground_truth.csv", category="Quality checks"),
        params:
            trials=lambda wc: [{"subject": s, "trial": t, "dir": trial_dir(s, t),
                                "start_s": finite_or_none(trial_row(s, t)["start_s"]),
                                "end_s": finite_or_none(trial_row(s, t)["end_s"])} for s, t in all_trials()],
            subjects=lambda wc: {s: {"scaled_model": f"{subject_dir(s)}/scaled_model.osim",
                                     "truth_dir": f"{SYNTHETIC_TRUTH}/{s}"} for s in SUBJECTS["subject"]},
            contact_threshold_n=config["grf"]["contact_threshold_n"],
        log:
            log_path("validate_ground_truth", "all"),
        script:
            "../../scripts/validate_ground_truth.py"

    _EXTRA_FINAL_OUTPUTS.append(f"{STUDY_DIR}/validation/ground_truth.csv")
