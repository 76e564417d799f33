"""How the study's outcomes move with the matched low-pass cut-off (filter_hz), on a
finished run: the evidence for the default in config/README.md.

    python tools/filter_sensitivity.py --configfile CONFIG --workdir DIR [--cutoffs 8 10 12 15 20]

DIR is where `snakemake --configfile CONFIG --directory DIR` ran (with residual_reduction
method none). For each cut-off, every trial's unfiltered IK coordinates
(trials/<subject>/<trial>/ik_unfiltered.mot) and raw GRF are filtered alike, exactly as
rules inverse_kinematics and prepare_grf do, and inverse dynamics, SO (the config's solver
settings, fast solver) and the trial analysis are rerun on the scaled model at the
pipeline's chosen cycles; scaling, IK and the events do not depend on the cut-off and are
reused. --filter-alone (the demo only) measures the filter alone instead: the truth's chain
(true model, true coordinates, noise-free GRF, designed contacts; the pipeline's SO
solver) with only the matched low-pass swapped in, as error_budget.csv's filter row, at
each cut-off; it needs only the demo's synthesis and truth (the first stages of each
trial's motion job) to have run.
Cut-offs can run in parallel processes (--csv each), then --from-csv summarises them.
Prints per cut-off and condition the mean over subjects of each primary outcome
(the config's analysis.primary_outcomes: by default the quadriceps share of stance
activation, quadriceps and hamstrings mean stance activation, knee extension peak); for the
demo also the forward-backward difference and its error against the truth
(results/demo/truth/comparison.csv), as ground_truth.csv computes it. --csv writes the
long table.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrorun import analysis, fast_so, filtering, formats, model_properties, opensim_tools, tables, templates  # noqa: E402
from retrorun import grf as grf_lib  # noqa: E402
from retrorun.config import is_c3d, load_config, load_study  # noqa: E402
from retrorun.demo import checks  # noqa: E402


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


def filter_alone_metrics(*, study, config: dict, subject: str, trial: str, results: Path, cutoffs, work: Path):
    """The demo's truth chain (baseline, cut-off inf) and its filter row at each cut-off."""
    from retrorun.demo import error_budget

    row = study.trial(subject, trial)
    person = study.subject(subject)
    params = {
        "settings": config["static_optimization"],
        "groups": config["muscle_groups"],
        "sides": config["sides"],
        "analysis": config["analysis"],
        "contact_threshold_n": config["grf"]["contact_threshold_n"],
        "generic_model": config["model"]["osim"],
        "mass_kg": person.mass_kg,
        "height_m": person.height_m,
    }
    window = (row.start_s, row.end_s)
    chain = error_budget.TrialChain(subject=subject, trial=trial, window=window, params=params, work_dir=work)
    truth_dir = results / "truth" / subject
    true_model = str(truth_dir / "true_model.osim")
    baseline = chain.metrics(
        model=true_model,
        cycles=pd.read_csv(truth_dir / f"{trial}_cycles.csv"),
        activations=chain.static_optimization(
            "baseline",
            model=true_model,
            coordinates_mot=str(truth_dir / f"{trial}_coordinates_marker_rate.mot"),
            grf_mot=str(truth_dir / f"{trial}_grf.mot"),
        ),
        id_forces=pd.read_csv(truth_dir / f"{trial}_id_generalized_forces.csv"),
    )
    frames = [baseline.assign(cutoff_hz=float("inf"))]
    for cutoff in cutoffs:
        metrics, _ = error_budget.filter_stage(
            chain, truth_dir=truth_dir, trial=trial, cutoff_hz=cutoff, name=f"{cutoff:g}"
        )
        frames.append(metrics.assign(cutoff_hz=cutoff))
    return pd.concat(frames).assign(subject=subject, condition=row.condition, trial=trial, note="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--cutoffs", type=float, nargs="+", default=[8, 10, 12, 15, 20])
    parser.add_argument("--csv", type=Path, help="write the long table (cut-off, subject, condition, ... value) here")
    parser.add_argument("--subjects", nargs="+", help="only these subjects (default: all)")
    parser.add_argument("--filter-alone", action="store_true", help="the demo: the filter alone on the truth's chain")
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
    outcomes = checks.outcome_keys(config["analysis"]["primary_outcomes"])
    frames = [pd.read_csv(path, keep_default_na=False, na_values=[""]) for path in args.from_csv or []]
    trials = [t for t in study.trials if not args.subjects or t.subject in args.subjects]
    for trial in trials if args.filter_alone and not args.from_csv else []:
        if not (results / "truth" / trial.subject / f"{trial.name}_cycles.csv").exists():
            print(f"  no truth yet for {trial.subject} {trial.name}: left out", file=sys.stderr)
            continue
        work = args.workdir / "filter_sensitivity" / "filter_alone" / trial.subject / trial.name
        frames.append(
            filter_alone_metrics(
                study=study,
                config=config,
                subject=trial.subject,
                trial=trial.name,
                results=results,
                cutoffs=args.cutoffs,
                work=work,
            )
        )
        print(f"  filter alone {trial.subject} {trial.name}", file=sys.stderr)
    for cutoff in [] if args.from_csv or args.filter_alone else args.cutoffs:
        for trial in trials:
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
    lines = []
    for cutoff, own in long.groupby("cutoff_hz"):
        subjects = analysis.subject_means(own[[*analysis.KEYS, "side", "cycle", "group", "metric", "value", "note"]])
        table = None
        if set(compare) <= set(subjects["condition"]):
            table = analysis.comparison(subjects, compare=compare, min_cycles=1, min_subjects=3)
        for group, metric in outcomes:
            means = subjects[(subjects["group"] == group) & (subjects["metric"] == metric)]
            row = {"cutoff_hz": cutoff, "outcome": f"{group}.{metric}"}
            for condition in sorted(set(means["condition"])):
                row[condition] = float(means[means["condition"] == condition]["mean"].mean())
            if table is not None:
                mine = table[(table["group"] == group) & (table["metric"] == metric)]["difference_mean"]
                row["difference"] = float(mine.iloc[0]) if len(mine) else float("nan")
            lines.append(row)
    summary = pd.DataFrame(lines)
    # the reference: the truth's chain without the filter (--filter-alone), else the truth
    truth_file = results / "truth" / "comparison.csv"
    reference = None
    if args.filter_alone or (args.from_csv and np.isinf(summary["cutoff_hz"]).any()):
        reference = summary[np.isinf(summary["cutoff_hz"])].set_index("outcome")
    elif truth_file.exists():
        truth = pd.read_csv(truth_file)
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
        rows = []
        for g, m in outcomes:
            own = true_subjects[(true_subjects["group"] == g) & (true_subjects["metric"] == m)]
            row = {"outcome": f"{g}.{m}"} | {c: float(own[own["condition"] == c]["mean"].mean()) for c in compare}
            match = truth[(truth["group"] == g) & (truth["metric"] == m)]["difference_mean"]
            row["difference"] = float(match.iloc[0]) if len(match) else float("nan")
            rows.append(row)
        reference = pd.DataFrame(rows).set_index("outcome")
    if reference is not None:
        for column in [*compare, "difference"]:
            if column in summary and column in reference:
                true = reference.loc[summary["outcome"], column].to_numpy()
                summary[f"{column}_error_pct"] = 100.0 * (summary[column].to_numpy() - true) / true
    pd.set_option("display.width", 200)
    print(summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
