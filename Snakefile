# retrorun: scale -> inverse kinematics -> inverse dynamics -> residual reduction -> static optimization
# -> gait cycles, quadriceps vs hamstrings metrics, paired statistics, figures, report.
# This file is the table of contents; each stage has its own rule file.
from snakemake.utils import min_version

min_version("9.0")

# No `configfile:` here: the study is the --configfile the user gives, or the demo
# (config/config.yaml) without one; workflow/rules/common.smk loads it.


include: "workflow/rules/common.smk"


# The report's front page states the study's answer, written from its tables by rule
# report_front_page; before that has run, the generic description.
FRONT_PAGE = Path(study_path("report/front_page.rst"))


report: str(FRONT_PAGE.resolve()) if FRONT_PAGE.exists() else "workflow/report/workflow.rst"


include: "workflow/rules/model.smk"
include: "workflow/rules/imports.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/cycles.smk"
include: "workflow/rules/kinematics.smk"
# residual reduction and EMG before ID: their stages are in a trial's chains
include: "workflow/rules/residual_reduction.smk"
include: "workflow/rules/emg.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/muscles.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/hypotheses.smk"
include: "workflow/rules/report.smk"
# after every rule it reruns for a variant (config `sensitivity`)
include: "workflow/rules/sensitivity.smk"


# Light study-level jobs (QC table, tables, figures: seconds each) run on the machine
# Snakemake runs on, also under a cluster profile: a SLURM job costs about 15 s of
# scheduling and start-up. So does scaling (2-10 s of CPU per subject): as SLURM jobs the
# scalings were a round of queueing, start-up and status checks before any trial could
# start; run here, every trial's group job is submitted as soon as its subject is scaled.
# Where a subject is one job (SUBJECT_IN_ONE_JOB) that job scales it (scaling.smk).
# A trial's light jobs run inside its group job (TRIAL_GROUP in workflow/rules/common.smk):
# a local job inside a group would make the whole group local.
localrules:
    build_demo_model,
    scale_model,
    sensitivity_scale_model,
    aggregate_qc,
    analysis_tables,
    emg_agreement,
    emg_figures,
    analysis_figures,
    model_chains,
    hypotheses,
    report_front_page,
    sensitivity_aggregate_qc,
    sensitivity_analysis_tables,
    sensitivity_table,
    sensitivity_figure,
    sensitivity_emg_agreement,
    emg_agreement_sensitivity,
    methods_text,


# rules that exist only for the demo's synthetic study. Its synthesis stands for a lab's
# recordings, which exist before a study is run: it runs where Snakemake runs (about 3 s
# per subject), so the demo's cluster run queues only the pipeline's own jobs and waits
# for one SLURM round trip fewer (docs/performance.md, "On a cluster").
if "synthetic" in config:

    localrules:
        synthesize_study,
        validate_ground_truth,
        validate_emg_truth,
        error_budget,


rule all:
    default_target: True
    input:
        get_final_output(),


onsuccess:
    print_cycle_summary()


onerror:
    print_cycle_summary()
