"""Rule analysis_tables: the study tables from every trial's cycle tables; failed trials,
and with analysis.qc_gate exclude the trials that failed QC, left out of the statistics
and listed in cycle_counts.csv."""

import json

import pandas as pd

from retrorun import analysis, emg, formats, gait_geometry, jobs, qc, speed
from retrorun.errors import AnalysisError

params = snakemake.params
out = snakemake.output
with jobs.job(snakemake) as log:
    settings = params.settings
    trials = params.trials
    # every trial's files, declared by the manifests of the chains that write them
    files = params.files
    cycles = [(t, pd.read_csv(path)) for t, path in zip(trials, files["cycles"])]
    metrics = [(t, pd.read_csv(path)) for t, path in zip(trials, files["metrics"])]
    if "geometry" in files:  # foot placement, COM over the hips, strike pattern
        metrics = [
            (t, pd.concat([table, gait_geometry.metric_rows(pd.read_csv(path))], ignore_index=True))
            for (t, table), path in zip(metrics, files["geometry"])
        ]
    variables = [analysis.activation_column(g) for g in params.groups] + analysis.CURVE_VARIABLES
    # EMG group curves (emg_<group>_activation) are read under the SO names, source emg
    emg_names = {emg.group_curve_column(g): analysis.activation_column(g) for g in params.groups}
    curves = [
        (t, pd.read_csv(path, usecols=lambda c: c in {"side", "cycle", "pct", *variables, *emg_names}))
        for t, path in zip(trials, files["curves"])
    ]
    stance_curves = [(t, pd.read_csv(path)) for t, path in zip(trials, files["stance_curves"])]
    failed = []
    for path in params.failed:
        record = jobs.read_error_record(path)
        failed.append(
            {
                "subject": record.get("subject", ""),
                "trial": record.get("trial", ""),
                "condition": params.conditions.get((record.get("subject"), record.get("trial")), ""),
                "stage": record.get("stage", ""),
            }
        )
        log.warning("left out: %s/%s failed at %s", record.get("subject"), record.get("trial"), record.get("stage"))

    excluded = analysis.qc_exclusions(pd.read_csv(snakemake.input.qc), gate=settings["qc_gate"])
    left_out = {(s, t): reason for s, t, reason in excluded[["subject", "trial", "reason"]].itertuples(index=False)}
    for (subject, trial), reason in left_out.items():
        log.warning("left out of the statistics (analysis.qc_gate exclude): %s/%s, %s", subject, trial, reason)

    def kept(pairs):
        return [(t, table) for t, table in pairs if (t["subject"], t["trial"]) not in left_out]

    warnings = {
        (t["subject"], t["trial"]): json.loads(open(path).read())["warning"] for t, path in zip(trials, files["spans"])
    }
    empty = analysis.empty_comparison(cycles, warnings, compare=settings["compare"]) or qc.gate_left_empty(
        pd.read_csv(snakemake.input.qc), cycles, compare=settings["compare"], gate=settings["qc_gate"]
    )
    if empty and not settings["allow_empty"]:
        raise AnalysisError(
            empty,
            fix="change what each line says, or set analysis.allow_empty: true to write the "
            "empty tables with a warning",
        )
    if empty:
        log.warning("analysis.allow_empty: %s", empty)
    long = analysis.long_cycles(metrics, excluded=left_out)
    subjects = analysis.per_source(
        analysis.subject_means,
        long[~long["qc_excluded"]].drop(columns="qc_excluded"),
        shared_groups=[analysis.CYCLE_GROUP],
    )
    mismatched = speed.speed_mismatches(
        subjects[subjects["source"] == analysis.SOURCE_SO],
        compare=settings["compare"],
        max_difference=settings["max_speed_difference"],
    )
    for note in mismatched["note"]:
        log.warning("%s", note)
    compared = analysis.per_source(
        analysis.comparison,
        subjects,
        compare=settings["compare"],
        min_cycles=settings["min_cycles"],
        min_subjects=settings["min_subjects"],
        alpha=settings["alpha"],
        primary_outcomes=settings["primary_outcomes"],
        test=settings["test"],
        notes={("cycle", speed.SPEED): "; ".join(mismatched["note"])},
    )
    so_curves = [(t, table.drop(columns=[c for c in emg_names if c in table])) for t, table in kept(curves)]
    emg_curves = [
        (t, table[["side", "cycle", "pct"]].join(table.reindex(columns=list(emg_names)).rename(columns=emg_names)))
        for t, table in kept(curves)
        if any(c in table for c in emg_names)
    ]
    emg_means = analysis.mean_curves(emg_curves, variables=list(emg_names.values()))
    mean_curves = pd.concat(
        [
            analysis.mean_curves(so_curves, variables=variables).assign(source=analysis.SOURCE_SO),
            emg_means[emg_means["n_cycles"] > 0].assign(source=analysis.SOURCE_EMG),
        ],
        ignore_index=True,
    )
    mean_curves = mean_curves[["source", *[c for c in mean_curves.columns if c != "source"]]]

    def spm_of(source_curves, normalised_to):
        # SPM on activation curves and the knee moment; knee angle is only drawn
        present = set(source_curves["variable"])
        return analysis.spm_table(
            source_curves,
            variables=[v for v in variables[:-1] if v in present] or variables[:1],
            compare=settings["compare"],
            alpha=settings["alpha"],
            min_subjects=settings["min_subjects"],
            min_cycles=settings["min_cycles"],
            normalised_to=normalised_to,
        )

    # over the cycle and, for cycle units, over stance as well (toe off moves between
    # conditions); the stance-normalised curves are the model's (source so)
    if settings["unit"] == "stance":
        spm = analysis.per_source(spm_of, mean_curves, normalised_to="stance")
    else:
        stance_means = analysis.mean_curves(kept(stance_curves), variables=variables).assign(source=analysis.SOURCE_SO)
        spm = pd.concat(
            [
                analysis.per_source(spm_of, mean_curves, normalised_to="cycle"),
                analysis.per_source(spm_of, stance_means, normalised_to="stance"),
            ],
            ignore_index=True,
        )
    formats.write_csv(out.cycles, long)
    formats.write_csv(out.subjects, subjects)
    formats.write_csv(out.comparison, compared)
    formats.write_csv(out.spm, spm)
    formats.write_csv(out.counts, analysis.cycle_counts(cycles, failed, sides=list(params.sides), excluded=left_out))
    formats.write_csv(out.curves, mean_curves)
    log.info(
        "%d used cycles from %d trials (%d failed, %d left out by QC); comparison n = %s",
        len(long.drop_duplicates(["subject", "trial", "side", "cycle"])),
        len(trials),
        len(failed),
        len(left_out),
        sorted(set(compared["n_subjects"].dropna().astype(int))),
    )
