# Sensitivity variants (config `sensitivity`, retrorun/sensitivity.py): the study processed
# again with some keys overridden, under results/<study>/sensitivity/<variant>/. Each rule
# below is a main rule (`use rule`) whose outputs, logs and benchmarks move into the
# variant's folder (wildcard `variant`). Its inputs are the main rule's, each read from the
# variant's folder when the variant reruns the rule that writes it (a stage at or after
# the variant's first affected stage), else from the main run: a filter variant plans no
# scaling job, an SO variant no IK or ID job. The input functions of common.smk that
# choose a file by a config key read the variant's value (run_config). Params that come
# from the config are restated here from the variant's config (variant_setting). The
# helpers are in common.smk.
import re

from retrorun.sensitivity import MAIN


wildcard_constraints:
    variant="|".join(re.escape(name) for name in VARIANTS) or "[^/]+",


# --- scaling, gait events, GRF and IK, ID


use rule scale_model as sensitivity_scale_model with:
    input:
        variant_input("scale_model"),
    output:
        **variant_output("scale_model"),
    log:
        variant_log("scale_model"),
    benchmark:
        variant_benchmark("scale_model")
    params:
        gaps=variant_setting("gaps"),


# a trial's events, heading, GRF, IK and ID: one job (dynamics.smk). A study with variants
# always has it, never rule trial (TRIAL_IN_ONE_JOB, common.smk). Copied only where there
# are variants: without, a trial's chains also hold steps only the main run has (its EMG,
# the demo's truth and error budget: EMG_IN_CHAINS, DEMO_IN_CHAINS), whose files a copy
# could not move into a variant's folder.
if VARIANTS:

    use rule trial_motion as sensitivity_trial_motion with:
        input:
            variant_input("trial_motion"),
        output:
            **variant_output("trial_motion"),
        log:
            variant_log("trial_motion"),
        params:
            chain=chain_params(
                TRIAL_MOTION_STAGES,
                overrides={
                    "detect_contacts": {
                        "threshold_n": variant_setting("analysis.contact_threshold_n"),
                        "min_contact_s": variant_setting("analysis.min_contact_s"),
                        "trial_dir": variant_trial_folder,
                    },
                    "plan_cycles": {
                        "unit": variant_setting("analysis.unit"),
                        "cycles": variant_setting("analysis.cycles"),
                        "min_cycle_s": variant_setting("analysis.min_cycle_s"),
                        "max_cycle_s": variant_setting("analysis.max_cycle_s"),
                        "margin_s": variant_setting("ik_margin_s"),
                        "trial_dir": variant_trial_folder,
                    },
                    "estimate_heading": {"trial_dir": variant_trial_folder},
                    "prepare_grf": {
                        "filter_hz": variant_setting("filter_hz"),
                        "contact_threshold_n": variant_setting("grf.contact_threshold_n"),
                        "trial_dir": variant_trial_folder,
                    },
                    "inverse_kinematics": {
                        "filter_hz": variant_setting("filter_hz"),
                        "gaps": variant_setting("gaps"),
                        "trial_dir": variant_trial_folder,
                    },
                    "inverse_dynamics": {"trial_dir": variant_trial_folder},
                    # where the chain ends with RRA and the ID after it (RRA_IN_MOTION)
                    "residual_reduction_algorithm": {
                        "settings": variant_setting("residual_reduction"),
                        "trial_dir": variant_trial_folder,
                    },
                    "inverse_dynamics_after_reduction": {"trial_dir": variant_trial_folder},
                },
            ),


# --- residual reduction, static optimization


use rule reduce_residuals as sensitivity_reduce_residuals with:
    input:
        variant_input("reduce_residuals"),
    output:
        **variant_output("reduce_residuals"),
    log:
        variant_log("reduce_residuals"),
    benchmark:
        variant_benchmark("reduce_residuals")
    params:
        settings=variant_setting("residual_reduction"),


# where the chain trial_motion does not end with them (dynamics.smk)
if not RRA_IN_MOTION:

    use rule residual_reduction_algorithm as sensitivity_residual_reduction_algorithm with:
        input:
            variant_input("residual_reduction_algorithm"),
        output:
            **variant_output("residual_reduction_algorithm"),
        log:
            variant_log("residual_reduction_algorithm"),
        benchmark:
            variant_benchmark("residual_reduction_algorithm")
        params:
            settings=variant_setting("residual_reduction"),
            trial_dir=variant_trial_folder,

    use rule inverse_dynamics_after_reduction as sensitivity_inverse_dynamics_after_reduction with:
        input:
            variant_input("inverse_dynamics_after_reduction"),
        output:
            **variant_output("inverse_dynamics_after_reduction"),
        log:
            variant_log("inverse_dynamics_after_reduction"),
        benchmark:
            variant_benchmark("inverse_dynamics_after_reduction")
        params:
            trial_dir=variant_trial_folder,


# where SO is not a stage of trial_analysis (SO_IN_ANALYSIS, common.smk)
if not SO_IN_ANALYSIS:

    use rule static_optimization_chunk as sensitivity_static_optimization_chunk with:
        input:
            variant_input("static_optimization_chunk"),
        output:
            **variant_output("static_optimization_chunk"),
        log:
            variant_log("static_optimization_chunk"),
        benchmark:
            variant_benchmark("static_optimization_chunk")
        params:
            settings=variant_setting("static_optimization"),
            trial_dir=variant_trial_folder,


# --- the variant's analysis of each trial


# (a study with variants always has rule trial_analysis; copied only then, as above)
if VARIANTS:

    use rule trial_analysis as sensitivity_trial_analysis with:
        input:
            variant_input("trial_analysis"),
        output:
            **variant_output("trial_analysis"),
        log:
            variant_log("trial_analysis"),
        params:
            chain=chain_params(
                TRIAL_ANALYSIS_STAGES,
                overrides={
                    "reduce_residuals": {
                        "settings": variant_setting("residual_reduction"),
                        "trial_dir": variant_trial_folder,
                    },
                    "static_optimization_chunk": {
                        "settings": variant_setting("static_optimization"),
                        "trial_dir": variant_trial_folder,
                    },
                    "static_optimization": {"trial_dir": variant_trial_folder},
                    "analyse_trial": {"settings": variant_trial_analysis, "trial_dir": variant_trial_folder},
                    "gait_geometry": {
                        "threshold_n": variant_setting("analysis.contact_threshold_n"),
                        "trial_dir": variant_trial_folder,
                    },
                    "trial_qc": {
                        "thresholds": variant_setting("qc"),
                        "max_mass_change_kg": variant_setting("residual_reduction.max_mass_change_kg"),
                    },
                },
            ),


use rule aggregate_qc as sensitivity_aggregate_qc with:
    input:
        variant_input("aggregate_qc"),
    output:
        variant_output("aggregate_qc"),
    log:
        variant_log("aggregate_qc"),
    benchmark:
        variant_benchmark("aggregate_qc")


use rule analysis_tables as sensitivity_analysis_tables with:
    input:
        variant_input("analysis_tables"),
    output:
        **variant_output("analysis_tables"),
    log:
        variant_log("analysis_tables"),
    benchmark:
        variant_benchmark("analysis_tables")
    params:
        settings=variant_setting("analysis"),


use rule emg_agreement as sensitivity_emg_agreement with:
    input:
        variant_input("emg_agreement"),
    output:
        **variant_output("emg_agreement"),
    log:
        variant_log("emg_agreement"),
    benchmark:
        variant_benchmark("emg_agreement")
    params:
        trials=lambda wc: emg_trial_info(),
        settings=EMG,
        groups=variant_setting("muscle_groups"),
        sides=config["sides"],


# --- the study's sensitivity tables and forest plot


rule sensitivity_table:
    input:
        main=rules.analysis_tables.output.comparison,
        variants=lambda wc: list(sensitivity_comparisons().values()),
    output:
        report(
            study_path("tables/sensitivity.csv"),
            caption="../report/sensitivity.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        study_log("sensitivity_table"),
    benchmark:
        study_benchmark("sensitivity_table")
    params:
        variants=list(VARIANTS),
        described={name: variant.description for name, variant in VARIANTS.items()},
        primary_outcomes=config["analysis"]["primary_outcomes"],
        alphas={MAIN: config["analysis"]["alpha"]}
        | {name: variant.config["analysis"]["alpha"] for name, variant in VARIANTS.items()},
    script:
        "../../scripts/sensitivity_table.py"


rule sensitivity_figure:
    input:
        table=rules.sensitivity_table.output[0],
    output:
        **_figure("sensitivity", "fig_sensitivity"),
    log:
        study_log("sensitivity_figure"),
    benchmark:
        study_benchmark("sensitivity_figure")
    script:
        "../../scripts/sensitivity_figure.py"


rule emg_agreement_sensitivity:
    input:
        main=rules.emg_agreement.output.agreement,
        variants=lambda wc: [f"{sensitivity_dir(name)}/tables/emg_agreement.csv" for name in VARIANTS],
    output:
        report(
            study_path("tables/emg_agreement_sensitivity.csv"),
            caption="../report/emg_agreement_sensitivity.rst",
            category="Results",
            subcategory="Tables",
        ),
    log:
        study_log("emg_agreement_sensitivity"),
    benchmark:
        study_benchmark("emg_agreement_sensitivity")
    params:
        variants=list(VARIANTS),
    script:
        "../../scripts/emg_agreement_sensitivity.py"
