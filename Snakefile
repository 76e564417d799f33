# retrorun: scale -> inverse kinematics -> inverse dynamics -> static optimization
# -> gait cycles, quadriceps vs hamstrings metrics, paired statistics, figures, report.
# This file is the table of contents; each stage has its own rule file.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/imports.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/kinematics.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/muscles.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/analysis.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
