"""Rule analysis_figures: group activations, quadriceps share and Q:H ratio per subject,
knee moment, QC overview, the muscle chains and the foot's placement over stance."""

import pandas as pd

from retrorun import analysis, figures, jobs

inp = snakemake.input
out = snakemake.output
params = snakemake.params
with jobs.job(snakemake):
    compare = params.compare
    # the model's answer (source so); EMG has its own figure (rule emg_figures)
    curves, subjects, spm = (
        table[table["source"] == analysis.SOURCE_SO] for table in map(pd.read_csv, (inp.curves, inp.subjects, inp.spm))
    )
    # the curves drawn are over the cycle (over stance with analysis.unit stance): their clusters
    spm = spm[spm["normalised_to"] == ("stance" if params.unit == "stance" else "cycle")]
    groups = {analysis.activation_column(g): f"{g} activation (0-1)" for g in params.groups}
    figures.save(
        figures.mean_sd_curves(
            curves,
            variables=groups,
            compare=compare,
            title="Group activation over the gait cycle (mean ± SD over subjects)",
            spm=spm,
        ),
        png=out.group_activation_png,
        svg=out.group_activation_svg,
    )
    figures.save(
        figures.paired_ratio(
            subjects,
            compare=compare,
            group=analysis.PAIR_GROUP,
            metrics={
                "quadriceps_share_stance": "quadriceps share Q/(Q+H), stance",
                "ratio_mean_cycle": "Q:H ratio, mean over the cycle",
                "ratio_mean_stance": "Q:H ratio, mean over stance",
            },
        ),
        png=out.qh_ratio_png,
        svg=out.qh_ratio_svg,
    )
    figures.save(
        figures.mean_sd_curves(
            curves,
            variables={
                analysis.KNEE_MOMENT: "knee extension moment (N·m/kg)",
                analysis.KNEE_ANGLE: "knee angle (deg, the model's sign)",
            },
            compare=compare,
            title="Knee over the gait cycle (mean ± SD over subjects)",
            spm=spm,
        ),
        png=out.knee_moment_png,
        svg=out.knee_moment_svg,
    )
    figures.save(
        figures.qc_overview(pd.read_csv(inp.counts), pd.read_csv(inp.qc)),
        png=out.qc_overview_png,
        svg=out.qc_overview_svg,
    )
    stance = subjects[(subjects["group"] == analysis.CYCLE_GROUP) & (subjects["metric"] == "stance_pct")]
    figures.save(
        figures.chains(
            curves,
            subjects,
            compare=compare,
            stance_pct=stance.groupby("condition")["mean"].mean().to_dict() if params.unit != "stance" else {},
        ),
        png=out.chains_png,
        svg=out.chains_svg,
    )
    figures.save(
        figures.foot_placement(subjects, compare=compare),
        png=out.foot_placement_png,
        svg=out.foot_placement_svg,
    )
