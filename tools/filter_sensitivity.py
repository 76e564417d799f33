"""How the study's outcomes move with the matched low-pass cut-off (filter_hz), on a
finished run: the evidence for the default in config/README.md.

    python tools/filter_sensitivity.py --configfile CONFIG --workdir DIR [--cutoffs 8 10 12 15 20]

DIR is where `snakemake --configfile CONFIG --directory DIR` ran (with residual_reduction
method none). For each cut-off, every trial's unfiltered IK coordinates
(trials/<subject>/<trial>/ik_unfiltered.mot) and raw GRF are filtered alike, exactly as
rules inverse_kinematics and prepare_grf do, and inverse dynamics, SO (the config's solver
settings, fast solver) and the trial analysis are rerun on the scaled model at the
pipeline's chosen cycles; scaling, IK and the events do not depend on the cut-off and are
reused. Cut-offs can run in parallel processes (--csv each), then --from-csv summarises them.
Prints per cut-off and condition the mean over subjects of each primary outcome
(knee extension peak, quadriceps and hamstrings mean stance activation, Q:H); for the
demo also the forward-backward difference and its error against the truth
(results/demo/truth/comparison.csv), as ground_truth.csv computes it. --csv writes the
long table.
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrorun import analysis, fast_so, filtering, formats, model_properties, opensim_tools, tables, templates  # noqa: E402
from retrorun import grf as grf_lib  # noqa: E402
from retrorun.config import is_c3d, load_config, load_study  # noqa: E402

OUTCOMES = [
    ("knee", "peak_extension_moment_nm_per_kg"),
    ("quadriceps", "mean_stance"),
    ("hamstrings", "mean_stance"),
    ("quadriceps_hamstrings", "ratio_mean_stance"),
]


def trial_metrics(*, study, config: dict, subject: str, trial: str, results: Path, cutoff_hz: float, work: Path):
    """One trial's cycle metrics (analysis.analyse_trial) with everything after IK rerun at ``cutoff_hz``."""
    row = study.trial(subject, trial)
    trial_dir = results / "trials" / subject / trial
    work.mkdir(parents=True, exist_ok=True)
    span = json.loads((trial_dir / "analysis_span.json").read_text())
    model = str(results / "subjects" / subject / "scaled_model.osim")
    raw, _ = formats.read_storage(trial_dir / "ik_unfiltered.mot")
    filtered = filtering.filter_table(raw, cutoff_hz=cutoff_hz)
    formats.write_storage(work / "ik.mot", filtered, in_degrees=True, name="ik")
    grf_source = (
        results / "inputs" / subject / f"{trial}.mot" if is_c3d(row.markers) else Path(row.grf)
    )  # import_c3d's output for C3D trials
    table, _ = formats.read_storage(grf_source)
    loads = str(row.external_loads or config["model"]["external_loads"])
    prepared, _ = grf_lib.prepare_grf(
        table,
        external_loads=loads,
        window={"start_s": span["ik_start_s"], "end_s": span["ik_end_s"]},
        margin_s=0.0,
        cutoff_hz=cutoff_hz,
        contact_threshold_n=config["grf"]["contact_threshold_n"],
        sides=config["sides"],
        subject=subject,
        trial=trial,
        source=str(grf_source),
    )
    formats.write_storage(work / "grf.mot", prepared, in_degrees=False, name="grf")
    templates.write_external_loads(loads, str(work / "external_loads.xml"), datafile=str(work / "grf.mot"))
    first = max(filtered["time"].iloc[0], prepared["time"].iloc[0])
    last = min(filtered["time"].iloc[-1], prepared["time"].iloc[-1])
    opensim_tools.inverse_dynamics(
        model_path=model,
        coordinates_mot=str(work / "ik.mot"),
        external_loads_xml=str(work / "external_loads.xml"),
        time_range=(first, last),
        out_sto=str(work / "id.sto"),
        work_dir=str(work),
        name="id",
        subject=subject,
        trial=trial,
    )
    id_forces = tables.generalized_forces_table(formats.read_storage(work / "id.sto")[0])
    settings = config["static_optimization"]
    subject_row = study.subject(subject)
    specs = opensim_tools.prepare_so_model(
        model_path=model,
        out_model=str(work / "so_model.osim"),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"],
        reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"],
        strength_scaling=settings["strength_scaling"],
        generic_model_path=config["model"]["osim"],
        mass_kg=subject_row.mass_kg,
        height_m=subject_row.height_m,
        reference_height_m=settings["reference_height_m"],
        subject=subject,
    )
    activation, _, _ = fast_so.static_optimization(
        so_model_path=str(work / "so_model.osim"),
        coordinates_mot=str(work / "ik.mot"),
        external_loads_xml=str(work / "external_loads.xml"),
        time_range=(span["so_start_s"], span["so_end_s"]),
        activation_exponent=settings["activation_exponent"],
        subject=subject,
        trial=trial,
    )
    actuators = {s.name for s in specs}
    activations = tables.activations_table(
        activation, muscles=[c for c in activation.columns[1:] if c not in actuators]
    )
    groups, sides = config["muscle_groups"], config["sides"]
    names = [f"{m}{suffix}" for muscles in groups.values() for m in muscles for suffix in sides.values()]
    properties = model_properties.muscle_properties(model, names)
    weights = None
    if config["analysis"]["weighting"] == "max_isometric_force":
        weights = {name: props["max_isometric_force_n"] for name, props in properties.items()}
    result = analysis.analyse_trial(
        cycles=pd.read_csv(trial_dir / "cycles.csv"),
        activations=activations,
        ik=tables.coordinates_table(
            filtered, rotational=opensim_tools.coordinate_motion_types(opensim_tools.load_model(model))
        ),
        id_forces=id_forces,
        groups=groups,
        sides=sides,
        settings=config["analysis"],
        mass_kg=float(subject_row.mass_kg),
        weights=weights,
        floors={name: props["min_control"] for name, props in properties.items()},
        knee_signs=model_properties.knee_extension_directions(
            model, analysis=config["analysis"], quadriceps=groups["quadriceps"], sides=sides
        ),
        subject=subject,
        trial=trial,
    )
    return result.metrics.assign(subject=subject, condition=row.condition, trial=trial)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--cutoffs", type=float, nargs="+", default=[8, 10, 12, 15, 20])
    parser.add_argument("--csv", type=Path, help="write the long table (cut-off, subject, condition, ... value) here")
    parser.add_argument(
        "--from-csv", type=Path, nargs="+", help="summarise these long tables (from --csv runs, e.g. one per cut-off)"
    )
    args = parser.parse_args()
    prepared = load_config(args.configfile)
    if "synthetic" in prepared.values and "subjects" not in prepared.values:
        from retrorun.demo.design import write_study_sheets

        # the demo's sheets, as workflow/rules/common.smk writes them
        inputs = (args.workdir / "results" / prepared.values["study"] / "inputs").resolve()
        sheets = write_study_sheets(prepared.values["synthetic"], inputs_dir=inputs)
        prepared.values["subjects"], prepared.values["trials"] = (str(p) for p in sheets)
    study = load_study(prepared)
    config = prepared.values
    results = args.workdir / "results" / config["study"]
    compare = list(config["analysis"]["compare"])
    frames = [pd.read_csv(path, keep_default_na=False, na_values=[""]) for path in args.from_csv or []]
    for cutoff in [] if args.from_csv else args.cutoffs:
        for trial in study.trials:
            work = args.workdir / "filter_sensitivity" / f"{cutoff:g}" / trial.subject / trial.name
            metrics = trial_metrics(
                study=study,
                config=config,
                subject=trial.subject,
                trial=trial.name,
                results=results,
                cutoff_hz=cutoff,
                work=work,
            )
            frames.append(metrics.assign(cutoff_hz=cutoff))
            print(f"  {cutoff:g} Hz {trial.subject} {trial.name}", file=sys.stderr)
    long = pd.concat(frames, ignore_index=True)
    long["note"] = long["note"].fillna("") if "note" in long else ""
    if args.csv:
        long.to_csv(args.csv, index=False)
    truth_file = results / "truth" / "comparison.csv"
    truth = pd.read_csv(truth_file) if truth_file.exists() else None
    lines = []
    for cutoff, own in long.groupby("cutoff_hz"):
        subjects = analysis.subject_means(own[[*analysis.KEYS, "side", "cycle", "group", "metric", "value", "note"]])
        for group, metric in OUTCOMES:
            means = subjects[(subjects["group"] == group) & (subjects["metric"] == metric)]
            row = {"cutoff_hz": cutoff, "outcome": f"{group}.{metric}"}
            for condition in sorted(set(means["condition"])):
                row[condition] = float(means[means["condition"] == condition]["mean"].mean())
            if truth is not None and len(set(means["condition"])) == 2:
                table = analysis.comparison(subjects, compare=compare, min_cycles=1, min_subjects=3)
                mine = table[(table["group"] == group) & (table["metric"] == metric)]["difference_mean"]
                true = truth[(truth["group"] == group) & (truth["metric"] == metric)]["difference_mean"]
                if len(mine) and len(true):
                    row["difference"] = float(mine.iloc[0])
                    row["true_difference"] = float(true.iloc[0])
                    row["difference_error_pct"] = (
                        100.0 * (row["difference"] - row["true_difference"]) / abs(row["true_difference"])
                    )
            lines.append(row)
    summary = pd.DataFrame(lines)
    if truth is not None:
        # the truth's condition means, for the relative error of each condition
        true_long = pd.concat(
            [
                pd.read_csv(results / "truth" / t.subject / f"{t.name}_cycle_metrics.csv").assign(
                    subject=t.subject, condition=t.condition, trial=t.name, note=""
                )
                for t in study.trials
            ]
        )
        true_subjects = analysis.subject_means(
            true_long[[*analysis.KEYS, "side", "cycle", "group", "metric", "value", "note"]]
        )
        for condition in compare:
            reference = {
                f"{g}.{m}": float(
                    true_subjects[
                        (true_subjects["group"] == g)
                        & (true_subjects["metric"] == m)
                        & (true_subjects["condition"] == condition)
                    ]["mean"].mean()
                )
                for g, m in OUTCOMES
            }
            summary[f"{condition}_error_pct"] = [
                100.0 * (value - reference[o]) / abs(reference[o])
                for value, o in zip(summary[condition], summary["outcome"])
            ]
    pd.set_option("display.width", 200)
    print(summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
