"""Residual reduction measured: one study run once per residual_reduction.method.

    python tools/residual_reduction_report.py none=DIR mass_com=DIR rra=DIR

Each DIR is a finished results/<study> folder (same study, one method each). Prints per
trial and method: peak residual force and moment after reduction (SO's residual
actuators) as shares of peak GRF and of COM height x peak GRF (Hicks et al. 2015 limits
5 % and 1 %), the same before reduction (root ID forces), RRA's largest RMS kinematic
change, the mass change and COM shift, and the CPU time (s) of the reduction and of SO
per trial from Snakemake's benchmark files; and what the analysis and QC read from the
dynamics: the knee extension moment peak (N·m/kg, mean over the trial's used cycles, from
the ID after reduction with a method other than none) and the reserve share of QC (peak
reserve / peak ID generalized force), with the share against the first ID (on the
unreduced model and IK) beside it, the figure QC gave before ID ran again after
reduction. For a synthetic study (a truth/ folder), the
total mass and the adjusted body's COM of the model SO ran on, and the kinematics SO
ran on, are compared with the truth, and the knee moments of the first ID and of the ID
after reduction with the true knee moments (ID on the true model, coordinates and GRF).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = [
    "residual_force_share_of_peak_grf",
    "residual_moment_share_of_com_height_x_peak_grf",
    "residual_force_share_of_peak_grf_before_reduction",
    "residual_moment_share_of_com_height_x_peak_grf_before_reduction",
    "residual_force_peak_n",
    "residual_moment_peak_nm",
    "kinematic_change_rms_max_deg",
    "kinematic_change_rms_max_cm",
    "kinematic_change_worst_coordinate",
    "mass_change_applied_kg",
    "com_shift_m",
    "saturated_frame_share",
    "reserve_peak_share",
    "reserve_worst_coordinate",
]


def cpu_s(study: Path, rule: str, *parts: str) -> float:
    path = study / "benchmarks" / rule / ("/".join(parts) + ".tsv")
    return float(pd.read_csv(path, sep="\t")["cpu_time"].iloc[0]) if path.is_file() else np.nan


def measurements(method: str, study: Path) -> pd.DataFrame:
    qc = pd.read_csv(study / "qc.csv")
    rows = []
    for row in qc.itertuples(index=False):
        subject, trial = row.subject, row.trial
        trials_of_subject = int((qc["subject"] == subject).sum())
        # mass_com runs once per subject, the other methods once per trial
        per_subject = cpu_s(study, "reduce_residuals", "subjects", subject) / trials_of_subject
        per_trial = cpu_s(study, "reduce_residuals", "trials", subject, trial)
        reduction = (
            np.nan_to_num(per_subject)
            + np.nan_to_num(per_trial)
            + np.nan_to_num(cpu_s(study, "residual_reduction_algorithm", subject, trial))
        )
        so = sum(
            float(pd.read_csv(p, sep="\t")["cpu_time"].iloc[0])
            for p in (study / "benchmarks" / "static_optimization_chunk" / subject / trial).glob("*.tsv")
        )
        rows.append(
            {
                "method": method,
                "subject": subject,
                "trial": trial,
                **{c: getattr(row, c, np.nan) for c in COLUMNS},
                **dynamics_read_downstream(study / "trials" / subject / trial),
                "reduction_cpu_s_per_trial": reduction,
                "so_cpu_s": so,
            }
        )
    return pd.DataFrame(rows)


def dynamics_read_downstream(trial: Path) -> dict:
    from retrorun import qc, tables

    metrics = pd.read_csv(trial / "cycle_metrics.csv")
    peaks = metrics[(metrics["group"] == "knee") & (metrics["metric"] == "peak_extension_moment_nm_per_kg")]["value"]
    forces, actuators = pd.read_csv(trial / "so_forces.csv"), pd.read_csv(trial / "so_actuators.csv")
    first_id = tables.window(
        pd.read_csv(trial / "id_generalized_forces.csv"), forces["time_s"].iloc[0], forces["time_s"].iloc[-1]
    )
    return {
        "knee_extension_peak_nm_per_kg": float(peaks.mean()),
        "knee_peak_cycles": int(peaks.notna().sum()),
        "id_after_reduction": (trial / "id_after_reduction.csv").is_file(),
        "reserve_peak_share_vs_first_id": qc.reserves(forces, actuators, first_id)["reserve_peak_share"],
    }


def kinematics_vs_truth(study: Path) -> pd.DataFrame:
    """RMS error (deg, cm) of IK and, when present, of RRA's kinematics against the true
    coordinates, over each trial's SO window, worst coordinate of each kind."""
    from retrorun import formats

    qc = pd.read_csv(study / "qc.csv")
    rows = []
    for row in qc.itertuples(index=False):
        truth = pd.read_csv(study / "truth" / row.subject / f"{row.trial}_coordinates.csv")
        trial = study / "trials" / row.subject / row.trial
        ik, _ = formats.read_storage(trial / "ik.mot")
        sources = {"ik": ik}
        if (trial / "rra_kinematics.mot").is_file():
            sources["rra"] = formats.read_storage(trial / "rra_kinematics.mot")[0]
        times = truth["time_s"][(truth["time_s"] >= row.window_start_s) & (truth["time_s"] <= row.window_end_s)]
        for label, table in sources.items():
            errors = {"deg": [], "cm": []}
            for column in truth.columns[1:]:
                name, unit = column.rsplit("_", 1)
                if name in table:
                    error = np.interp(times, table["time"], table[name]) - truth.loc[times.index, column]
                    errors["deg" if unit == "deg" else "cm"].append(
                        np.sqrt(np.mean(error**2)) * (1 if unit == "deg" else 100)
                    )
            rows.append(
                {
                    "subject": row.subject,
                    "trial": row.trial,
                    "kinematics": label,
                    "worst_rotation_rms_error_deg": max(errors["deg"]),
                    "worst_translation_rms_error_cm": max(errors["cm"]),
                }
            )
    return pd.DataFrame(rows)


def truth_comparison(method: str, study: Path, body: str = "torso") -> pd.DataFrame:
    import opensim as osim

    def mass_and_com(path):
        model = osim.Model(str(path))
        centre = model.getBodySet().get(body).getMassCenter()
        return sum(b.getMass() for b in model.getBodySet()), np.array([centre.get(i) for i in range(3)])

    rows = []
    for truth in sorted((study / "truth").glob("*/true_model.osim")):
        subject = truth.parent.name
        true_mass, true_com = mass_and_com(truth)
        models = [("scaled", study / "subjects" / subject / "scaled_model.osim")]
        if method == "rra":  # one model per trial
            models += [
                (f"rra {p.parent.parent.name}", p)
                for p in sorted((study / "trials" / subject).glob("*/rra/model.osim"))
            ]
        else:
            models.append((method, study / "subjects" / subject / "residual_reduction" / "model.osim"))
        for label, path in models:
            if path.is_file():
                mass, com = mass_and_com(path)
                rows.append(
                    {
                        "subject": subject,
                        "model": label,
                        "mass_error_kg": mass - true_mass,
                        f"{body}_com_error_mm": 1000 * float(np.linalg.norm(com - true_com)),
                    }
                )
    return pd.DataFrame(rows)


def knee_moment_vs_truth(study: Path) -> pd.DataFrame:
    """RMS error (N·m) over each trial's SO window of the knee moments of the first ID (scaled
    model, IK) and of the ID after reduction, against ID on the true model, coordinates and
    GRF (a copy of the trial's external loads reading the true GRF, in a scratch folder)."""
    import tempfile

    from retrorun import formats, opensim_tools

    qc = pd.read_csv(study / "qc.csv")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for row in qc.itertuples(index=False):
            truth, trial = study / "truth" / row.subject, study / "trials" / row.subject / row.trial
            work = Path(scratch) / row.subject / row.trial
            work.mkdir(parents=True)
            loads = (
                (trial / "external_loads.xml")
                .read_text()
                .replace(str((trial / "grf.mot").resolve()), str((truth / f"{row.trial}_grf.mot").resolve()))
            )
            (work / "external_loads.xml").write_text(loads)
            opensim_tools.inverse_dynamics(
                model_path=str(truth / "true_model.osim"),
                coordinates_mot=str(truth / f"{row.trial}_coordinates.mot"),
                external_loads_xml=str(work / "external_loads.xml"),
                time_range=(row.window_start_s, row.window_end_s),
                out_sto=str(work / "true_id.sto"),
                work_dir=str(work),
                name="true_id",
                subject=row.subject,
                trial=row.trial,
            )
            true_id, _ = formats.read_storage(work / "true_id.sto")
            for label, name in (
                ("first_id", "id_generalized_forces.csv"),
                ("id_after_reduction", "id_after_reduction.csv"),
            ):
                if not (trial / name).is_file():
                    continue
                table = pd.read_csv(trial / name)
                errors = {
                    side: float(
                        np.sqrt(
                            np.mean(
                                (
                                    np.interp(true_id["time"], table["time_s"], table[f"knee_angle_{side}_moment_nm"])
                                    - true_id[f"knee_angle_{side}_moment"]
                                )
                                ** 2
                            )
                        )
                    )
                    for side in ("r", "l")
                }
                rows.append(
                    {
                        "subject": row.subject,
                        "trial": row.trial,
                        "dynamics": label,
                        **{f"knee_{side}_moment_rms_error_nm": e for side, e in errors.items()},
                        "true_knee_moment_peak_nm": float(
                            true_id[["knee_angle_r_moment", "knee_angle_l_moment"]].abs().max().max()
                        ),
                    }
                )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    runs = dict(arg.split("=", 1) for arg in sys.argv[1:])
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    table = pd.concat([measurements(m, Path(d)) for m, d in runs.items()], ignore_index=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for method, folder in runs.items():
        if (Path(folder) / "truth").is_dir():
            print(f"\n{method}: model SO ran on vs the true subject model")
            print(truth_comparison(method, Path(folder)).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            print(f"\n{method}: kinematics vs the true coordinates over the SO window")
            print(kinematics_vs_truth(Path(folder)).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
            print(f"\n{method}: knee moments vs the true ones over the SO window")
            print(knee_moment_vs_truth(Path(folder)).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
