# Quadriceps vs hamstrings metrics per chosen cycle (rule plan_cycles), then the study
# tables (paired forward/backward statistics, SPM) and figures, all in the report.
TABLES_DIR = f"{STUDY_DIR}/tables"
FIGURES_DIR = f"{STUDY_DIR}/figures"
ANALYSIS = config["analysis"]
# the keys one trial's cycles depend on: changing the statistics (compare, alpha,
# min_subjects, min_cycles) reruns only the study tables
TRIAL_ANALYSIS = {key: ANALYSIS[key] for key in ("unit", "weighting", "knee_coordinate", "knee_extension_sign")}


def analysis_trial_info():
    return [{"subject": s, "trial": t, "condition": STUDY.trial(s, t).condition} for s, t in all_trials()]


def trial_cycle_files(name):
    return lambda wc: [f"{trial_dir(s, t)}/{name}" for s, t in all_trials()]


rule analyse_trial:
    input:
        # the model SO ran on gives each muscle's activation floor (min_control), the knee
        # extension direction and, with weighting max_isometric_force, the weights (a
        # uniform strength scale in SO does not change them)
        model=reduced_model,
        cycles=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycles.csv",
        activations=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/so_activations.csv",
        ik=reduced_coordinates_table,
        id_forces=dynamics_after_reduction,
    output:
        metrics=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycle_metrics.csv",
        curves=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycle_curves.csv",
    params:
        settings=TRIAL_ANALYSIS,
        groups=config["muscle_groups"],
        sides=config["sides"],
        mass_kg=lambda wc: STUDY.subject(wc.subject).mass_kg,
        trial_dir=lambda wc: trial_dir(wc.subject, wc.trial),
    log:
        log_path("analyse_trial", "{subject}", "{trial}"),
    script:
        "../../scripts/analyse_trial.py"


rule analysis_tables:
    input:
        cycles=trial_cycle_files("cycles.csv"),
        metrics=trial_cycle_files("cycle_metrics.csv"),
        curves=trial_cycle_files("cycle_curves.csv"),
        spans=trial_cycle_files("analysis_span.json"),
        qc=f"{STUDY_DIR}/qc.csv",
    output:
        cycles=report(f"{TABLES_DIR}/cycles.csv", caption="../report/cycles.rst", category="Results", subcategory="Tables"),
        subjects=report(f"{TABLES_DIR}/subjects.csv", caption="../report/subjects.rst", category="Results", subcategory="Tables"),
        comparison=report(f"{TABLES_DIR}/comparison.csv", caption="../report/comparison.rst", category="Results", subcategory="Tables"),
        spm=report(f"{TABLES_DIR}/spm.csv", caption="../report/spm.rst", category="Results", subcategory="Tables"),
        counts=report(f"{TABLES_DIR}/cycle_counts.csv", caption="../report/cycle_counts.rst", category="Quality checks"),
        curves=f"{TABLES_DIR}/curves.csv",
    params:
        trials=lambda wc: analysis_trial_info(),
        failed=lambda wc: [f"{trial_dir(s, t)}/error.json" for s, t in failed_trials()],
        conditions={(t.subject, t.name): t.condition for t in TRIALS},
        settings=ANALYSIS,
        groups=config["muscle_groups"],
        sides=config["sides"],
    log:
        log_path("analysis_tables", "all"),
    script:
        "../../scripts/analysis_tables.py"


def _figure(name, caption, category="Results"):
    return {f"{name}_{ext}": report(f"{FIGURES_DIR}/{name}.{ext}", caption=f"../report/{caption}.rst",
                                    category=category, subcategory="Figures" if ext == "png" else "Figures (SVG)")
            for ext in ("png", "svg")}


rule analysis_figures:
    input:
        curves=f"{TABLES_DIR}/curves.csv",
        subjects=f"{TABLES_DIR}/subjects.csv",
        spm=f"{TABLES_DIR}/spm.csv",
        counts=f"{TABLES_DIR}/cycle_counts.csv",
        qc=f"{STUDY_DIR}/qc.csv",
    output:
        **_figure("group_activation", "fig_group_activation"),
        **_figure("qh_ratio", "fig_qh_ratio"),
        **_figure("knee_moment", "fig_knee_moment"),
        **_figure("qc_overview", "fig_qc_overview", category="Quality checks"),
    params:
        compare=ANALYSIS["compare"],
        groups=config["muscle_groups"],
    log:
        log_path("analysis_figures", "all"),
    script:
        "../../scripts/analysis_figures.py"


_EXTRA_FINAL_OUTPUTS.extend(str(f) for f in rules.analysis_tables.output)
_EXTRA_FINAL_OUTPUTS.extend(str(f) for f in rules.analysis_figures.output)


rule report_front_page:
    # the report's landing text (Snakefile `report:`), written from the tables
    input:
        comparison=f"{TABLES_DIR}/comparison.csv",
        counts=f"{TABLES_DIR}/cycle_counts.csv",
        qc=f"{STUDY_DIR}/qc.csv",
    output:
        f"{STUDY_DIR}/report/front_page.rst",
    params:
        study=config["study"],
        qc_gate=ANALYSIS["qc_gate"],
        alpha=ANALYSIS["alpha"],
    log:
        log_path("report_front_page", "all"),
    script:
        "../../scripts/report_front_page.py"


_EXTRA_FINAL_OUTPUTS.append(f"{STUDY_DIR}/report/front_page.rst")
