"""Rule validate_ground_truth: the pipeline's scaling, IK and ID against the synthetic truth."""
import pandas as pd

from retrorun import formats, jobs, synthetic

with jobs.job(snakemake, stage="validate_ground_truth") as log:
    tables = []
    for subject, paths in snakemake.params.subjects.items():
        trials = {row["trial"]: {"ik_coordinates": f"{row['dir']}/ik_coordinates.csv",
                                 "id_forces": f"{row['dir']}/id_generalized_forces.csv",
                                 "grf": f"{row['dir']}/grf.csv",
                                 "start_s": row["start_s"], "end_s": row["end_s"]}
                  for row in snakemake.params.trials if row["subject"] == subject}
        tables.append(synthetic.ground_truth_rows(subject=subject, truth_dir=paths["truth_dir"],
                                                  scaled_model=paths["scaled_model"], trials=trials,
                                                  contact_threshold_n=snakemake.params.contact_threshold_n))
    table = pd.concat(tables, ignore_index=True)
    formats.write_csv(snakemake.output[0], table)
    failed = table[~table["pass"]]
    log.info("%d of %d checks pass", len(table) - len(failed), len(table))
    for row in failed.itertuples(index=False):
        log.warning("FAIL %s %s %s %s: %.3g %s > %.3g", row.subject, row.trial, row.check, row.quantity,
                    row.value, row.unit, row.threshold)
