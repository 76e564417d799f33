"""Rule validate_ground_truth: the pipeline's outputs against the synthetic truth
(ground_truth.csv) and its forward-backward differences against the literature (literature.csv)."""

import pandas as pd

from retrorun import formats, jobs, model_properties
from retrorun.demo import checks, heading
from retrorun.demo.design import GRAVITY_M_S2
from retrorun.demo.subjects import outcome_paths

params = snakemake.params


def knee_extension_sign(truth_dir: str) -> float:
    """The extension direction of the knee coordinate: the config's override, else read
    from the true model's quadriceps (as stage analyse_trial reads the scaled model's)."""
    signs = model_properties.knee_extension_directions(
        f"{truth_dir}/true_model.osim",
        analysis=params.analysis,
        quadriceps=params.groups["quadriceps"],
        sides=params.sides,
    )
    if len(set(signs.values())) != 1:
        raise ValueError(f"the true model's knee extension direction differs between sides: {signs}")
    return next(iter(signs.values()))


analysis = params.analysis
compare = list(analysis["compare"])
with jobs.job(snakemake) as log:
    tables, true_metrics, per_trial, true_geometry = [], [], [], []
    for subject, paths in params.subjects.items():
        own = [row for row in params.trials if row["subject"] == subject]
        trials = {row["trial"]: row for row in own}
        tables.append(
            checks.ground_truth_rows(
                subject=subject,
                truth_dir=paths["truth_dir"],
                scaled_model=paths["scaled_model"],
                trials=trials,
                groups=params.groups,
                sides=params.sides,
                weighting=analysis["weighting"],
                knee_extension_sign=knee_extension_sign(paths["truth_dir"]),
                contact_threshold_n=params.contact_threshold_n,
            )
        )
        tables.append(heading.heading_rows(params.synthetic, subject=subject, trials=trials))
        for row in own:
            metrics = pd.read_csv(outcome_paths(row["truth_dir"], row["trial"])["metrics"])
            true_metrics.append(metrics.assign(subject=subject, condition=row["condition"], trial=row["trial"]))
            # gait geometry on the truth, by the same code (retrorun.gait_geometry)
            true_geometry.append(
                checks.true_geometry(
                    truth_dir=row["truth_dir"],
                    trial=row["trial"],
                    external_loads=snakemake.input.external_loads,
                    sides=params.sides,
                    start_s=row["start_s"],
                    end_s=row["end_s"],
                ).assign(subject=subject, condition=row["condition"], trial=row["trial"])
            )
            contacts = checks.pipeline_contacts(row["dir"])
            window = {"start_s": row["start_s"], "end_s": row["end_s"]}
            grf = pd.read_csv(f"{row['dir']}/grf.csv")
            per_trial.append(
                {"subject": subject, "condition": row["condition"]}
                | checks.trial_timing(contacts, **window)
                | checks.contact_forces(grf, contacts, **window, body_weight_n=paths["mass_kg"] * GRAVITY_M_S2)
            )
    truth_differences = checks.truth_differences(
        pd.concat(true_metrics, ignore_index=True), compare=compare, primary_outcomes=params.outcomes
    )
    formats.write_csv(snakemake.output.truth_comparison, truth_differences)
    tables.append(
        checks.difference_rows(
            checks.pipeline_differences(snakemake.input.comparison), truth_differences, compare=compare
        )
    )
    tables.append(
        checks.geometry_difference_rows(
            pd.concat(true_geometry, ignore_index=True), snakemake.input.comparison, compare=compare
        )
    )
    table = pd.concat(tables, ignore_index=True)
    formats.write_csv(snakemake.output.ground_truth, table)
    literature = checks.literature_rows(
        pd.DataFrame(per_trial), pd.read_csv(snakemake.input.subject_means), compare=compare
    )
    formats.write_csv(snakemake.output.literature, literature)
    failed = table[~table["pass"]]
    log.info("ground truth: %d of %d checks pass", len(table) - len(failed), len(table))
    for row in failed.itertuples(index=False):
        log.warning(
            "FAIL %s %s %s %s: %.3g %s > %.3g",
            row.subject,
            row.trial,
            row.check,
            row.quantity,
            row.value,
            row.unit,
            row.threshold,
        )
    for row in literature.to_dict("records"):
        log.info("literature %s: %s (%s)", "pass" if row["pass"] else "FAIL", row["fact"], row["measured"])
