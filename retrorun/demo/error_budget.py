"""The demo's error budget: how much of each primary outcome's error, and of its
forward-backward difference, each stage of the pipeline contributes.

Each stage is measured alone: the truth's chain (true model, true coordinates, noise-free
GRF, designed contacts; ID and SO as rule demo_truth runs them) with that one stage's
pipeline output or processing swapped in. The whole chain is the pipeline itself, read
from the same tables ground_truth.csv reads, so its row reproduces ground_truth.csv.

Stages (STAGES): filter (the matched low-pass at filter_hz on the true coordinates and
GRF), events (the pipeline's detected contacts cut the true curves into cycles), scaling
(ID and SO on the pipeline's scaled model), IK (the pipeline's IK coordinates on the true
model, low-passed with the GRF and compared with the filter row: unfiltered, their
marker noise would swamp the accelerations), ID (inverse dynamics on coordinates at the
marker rate, as the pipeline's ID sees them, instead of the force rate), residual
reduction (the pipeline's
method; 'none' changes nothing), SO (the pipeline's SO solver instead of OpenSim's
StaticOptimization, which the truth uses). All but SO are run with the pipeline's SO
solver and compared with the truth run through that same solver, so the solver's own
share is the SO row alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import fast_so, model_properties, tables
from ..filtering import filter_plate, filter_table
from ..formats import read_storage, write_storage
from ..heading import read_heading, rotation_about_vertical
from . import checks, subjects, truth
from .design import SIDES
from .subjects import GRF_SIDE_COLUMNS

STAGES = ["filter", "events", "scaling", "ik", "id", "residual_reduction", "so"]
WHOLE_CHAIN = "whole_chain"
# what the truth's chain takes from the pipeline in each row
STAGE_NOTES = {
    "filter": "true coordinates and noise-free GRF low-pass filtered at filter_hz (as applied: -3 dB there)",
    "events": "the pipeline's detected contacts (raw vertical GRF at the contact threshold) instead of the designed",
    "scaling": "ID and SO on the pipeline's scaled model (its strength law on it) instead of the true model",
    "ik": "the pipeline's IK coordinates (skin-marker mismatch, noise, scaled-model fit) on the true model, both "
    "they and the GRF low-passed; against the filter row",
    "id": "inverse dynamics on the coordinates at the marker rate (as the pipeline's) instead of the force rate",
    "residual_reduction": "the pipeline's residual_reduction.method",
    "so": "the pipeline's SO solver instead of OpenSim's StaticOptimization (the truth's)",
    WHOLE_CHAIN: "the pipeline's outputs (validation/ground_truth.csv)",
}
COLUMNS = [
    "outcome",
    "stage",
    "truth_forward",
    "truth_backward",
    "truth_difference",
    "forward_error_pct",
    "backward_error_pct",
    "difference_error_pct",
    "note",
]


# ------------------------------------------------------------------ one trial's rows


def _storage_table(path: str | Path) -> pd.DataFrame:
    return read_storage(path)[0]


def filtered_grf(grf: pd.DataFrame, *, cutoff_hz: float, contact_threshold_n: float) -> pd.DataFrame:
    """A demo GRF table (ground_force_<side>_v/p, ground_torque_<side>_) filtered per
    plate as the pipeline's GRF stage filters it (filtering.filter_plate)."""
    out = grf.copy()
    rate = (len(grf) - 1) / float(grf["time"].iloc[-1] - grf["time"].iloc[0])
    for side in SIDES:
        columns = {
            kind: [GRF_SIDE_COLUMNS[kind].format(side=side, axis=a) for a in "xyz"]
            for kind in ("force", "point", "torque")
        }
        force, point, torque = filter_plate(
            grf[columns["force"]].to_numpy(dtype=float),
            grf[columns["point"]].to_numpy(dtype=float),
            grf[columns["torque"]].to_numpy(dtype=float),
            rate_hz=rate,
            cutoff_hz=cutoff_hz,
            contact_threshold_n=contact_threshold_n,
        )
        for kind, values in (("force", force), ("point", point), ("torque", torque)):
            out[columns[kind]] = values
    return out


class TrialChain:
    """ID, SO and the study's cycle metrics of one trial for any model, coordinates and GRF.
    ``so_models``: the SO model written for each model path (shared by the chains of one
    trial: three of its rows run SO on the true model)."""

    def __init__(
        self,
        *,
        subject: str,
        trial: str,
        window: tuple[float, float],
        params: dict,
        work_dir: Path,
        so_models: dict | None = None,
    ):
        self.subject, self.trial, self.window, self.params, self.work = subject, trial, window, params, work_dir
        self.so_models = {} if so_models is None else so_models

    def so_model(self, common: dict) -> tuple[Path, list]:
        """(path, actuator specs) of the SO model of ``common["model_path"]`` (truth.so_model's
        arguments), written on first use."""
        model = str(common["model_path"])
        if model not in self.so_models:
            path = self.work / "so_models" / f"{len(self.so_models)}.osim"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.so_models[model] = (path, truth.so_model(out_model=path, **common))
        return self.so_models[model]

    def inverse_dynamics(self, name: str, *, model: str, coordinates_mot: str, grf_mot: str) -> pd.DataFrame:
        return truth.inverse_dynamics(
            model_path=model,
            coordinates_mot=coordinates_mot,
            grf_mot=grf_mot,
            work_dir=self.work / name / "id",
            time_range=self.window,
        )

    def static_optimization(self, name: str, *, model: str, coordinates_mot: str, grf_mot: str) -> pd.DataFrame:
        """SO with the pipeline's solver and settings (strength law included)."""
        settings, work = self.params["settings"], self.work / name / "so"
        body = {"mass_kg": self.params["mass_kg"], "height_m": self.params["height_m"]}
        common = {"model_path": model, "settings": settings, "generic_model": self.params["generic_model"], **body}
        if settings["solver"] != "fast":
            return truth.static_optimization(
                **common, coordinates_mot=coordinates_mot, grf_mot=grf_mot, work_dir=work, time_range=self.window
            )
        work.mkdir(parents=True, exist_ok=True)
        truth.write_external_loads(work / "external_loads.xml", grf_mot=grf_mot)
        so_model, specs = self.so_model(common)
        activation, _, _ = fast_so.static_optimization(
            so_model_path=str(so_model),
            coordinates_mot=str(coordinates_mot),
            external_loads_xml=str(work / "external_loads.xml"),
            time_range=self.window,
            activation_exponent=settings["activation_exponent"],
            subject=self.subject,
            trial=self.trial,
        )
        actuators = {s.name for s in specs}
        return tables.activations_table(activation, muscles=[c for c in activation.columns[1:] if c not in actuators])

    def metrics(self, *, model: str, cycles: pd.DataFrame, activations: pd.DataFrame, id_forces: pd.DataFrame):
        """The study's per-cycle outcomes, with the floors, weights and knee direction of
        ``model`` (as rules demo_truth and analyse_trial read them from their model)."""
        p = self.params
        names = [f"{m}{suffix}" for muscles in p["groups"].values() for m in muscles for suffix in p["sides"].values()]
        properties = model_properties.muscle_properties(str(model), names)
        weights = None
        if p["analysis"]["weighting"] == "max_isometric_force":
            weights = {name: props["max_isometric_force_n"] for name, props in properties.items()}
        knee_signs = model_properties.knee_extension_directions(
            str(model), analysis=p["analysis"], quadriceps=p["groups"]["quadriceps"], sides=p["sides"]
        )
        return truth.cycle_metrics(
            cycles,
            activations=activations,
            id_forces=id_forces,
            groups=p["groups"],
            sides=p["sides"],
            weights=weights,
            mass_kg=float(p["mass_kg"]),
            knee_coordinate=p["analysis"]["knee_coordinate"],
            knee_signs=knee_signs,
            floors={name: props["min_control"] for name, props in properties.items()},
        )


def filter_stage(chain: TrialChain, *, truth_dir: Path, trial: str, cutoff_hz: float, name: str):
    """The truth's chain with its coordinates (marker rate) and noise-free GRF low-passed
    alike at ``cutoff_hz``: (cycle metrics at the designed contacts, the filtered GRF file)."""
    truth_dir, work = Path(truth_dir), chain.work / name
    work.mkdir(parents=True, exist_ok=True)
    true_model = str(truth_dir / "true_model.osim")
    coords = work / "coordinates_filtered.mot"
    sampled = _storage_table(truth_dir / f"{trial}_coordinates_marker_rate.mot")
    write_storage(coords, filter_table(sampled, cutoff_hz=cutoff_hz), in_degrees=True, name="filtered")
    grf = work / "grf_filtered.mot"
    write_storage(
        grf,
        filtered_grf(
            _storage_table(truth_dir / f"{trial}_grf.mot"),
            cutoff_hz=cutoff_hz,
            contact_threshold_n=float(chain.params["contact_threshold_n"]),
        ),
        in_degrees=False,
        name="grf_filtered",
    )
    inputs = {"model": true_model, "coordinates_mot": str(coords), "grf_mot": str(grf)}
    metrics = chain.metrics(
        model=true_model,
        cycles=pd.read_csv(subjects.outcome_paths(truth_dir, trial)["cycles"]),
        activations=chain.static_optimization(name, **inputs),
        id_forces=chain.inverse_dynamics(name, **inputs),
    )
    return metrics, grf


def pipeline_frame_shift_m(heading_json: str | Path) -> np.ndarray:
    """What a point of the truth (the runner's facing frame, the lab's origin) gains, x y z
    in m, in the frame of the pipeline's IK coordinates and moved forces: minus the trial's
    origin (its pelvis markers' mean, retrorun.heading) turned by minus its heading."""
    heading = read_heading(heading_json)
    return -rotation_about_vertical(-heading.heading_deg) @ np.asarray(heading.origin_m, dtype=float)


def in_pipeline_frame(grf: pd.DataFrame, heading_json: str | Path) -> pd.DataFrame:
    """A truth GRF table (the runner's facing frame, the lab's origin) moved into the frame
    the pipeline's IK coordinates are in: its heading.json turned the recorded trial about
    its pelvis markers' mean position (retrorun.heading), so the truth's points move by
    minus that origin, turned by minus the heading. The turn itself cancels the demo's
    designed one (0 or 180 deg, found within heading_error's tolerance: validation/
    ground_truth.csv), so forces and torques stay as they are."""
    shift = pipeline_frame_shift_m(heading_json)
    out = grf.copy()
    for side in SIDES:
        columns = [GRF_SIDE_COLUMNS["point"].format(side=side, axis=a) for a in "xyz"]
        out[columns] = grf[columns].to_numpy(dtype=float) + shift
    return out


def trial_stage_metrics(
    *,
    subject: str,
    trial: str,
    truth_dir: str | Path,
    pipeline_dir: str | Path,
    scaled_model: str | Path,
    window: tuple[float, float],
    params: dict,
    work_dir: str | Path,
) -> pd.DataFrame:
    """Per-cycle outcomes of one trial for the truth through the pipeline's SO solver
    (stage 'baseline') and for every stage swapped in alone (STAGES but 'so', whose row
    compares the baseline with the truth): stage, side, cycle, strike_s, group, metric, value.

    ``params``: settings (static_optimization), generic_model, mass_kg, height_m, groups,
    sides, analysis, filter_hz, contact_threshold_n, residual_reduction_method."""
    truth_dir, pipeline_dir, work = Path(truth_dir), Path(pipeline_dir), Path(work_dir)
    files = {**subjects.outcome_paths(truth_dir, trial)}
    true_model = str(truth_dir / "true_model.osim")
    coords_fine = str(truth_dir / f"{trial}_coordinates.mot")  # force rate: the truth's ID
    coords_sampled = str(truth_dir / f"{trial}_coordinates_marker_rate.mot")  # marker rate: the truth's SO
    grf_true = str(truth_dir / f"{trial}_grf.mot")
    chain = TrialChain(subject=subject, trial=trial, window=window, params=params, work_dir=work)
    true_cycles = pd.read_csv(files["cycles"])
    true_id = pd.read_csv(files["id"])
    baseline_so = chain.static_optimization(
        "baseline", model=true_model, coordinates_mot=coords_sampled, grf_mot=grf_true
    )
    rows = {"baseline": chain.metrics(model=true_model, cycles=true_cycles, activations=baseline_so, id_forces=true_id)}

    # filter: coordinates and GRF low-passed alike, as the pipeline does
    cutoff = float(params["filter_hz"])
    rows["filter"], grf_f = filter_stage(chain, truth_dir=truth_dir, trial=trial, cutoff_hz=cutoff, name="filter")

    # events: the pipeline's detected contacts cut the same curves
    detected = truth.true_cycles(
        checks.pipeline_contacts(pipeline_dir), window_start_s=window[0], window_end_s=window[1]
    )
    rows["events"] = chain.metrics(model=true_model, cycles=detected, activations=baseline_so, id_forces=true_id)

    # scaling: the scaled model
    scaled = str(scaled_model)
    rows["scaling"] = chain.metrics(
        model=scaled,
        cycles=true_cycles,
        activations=chain.static_optimization(
            "scaling", model=scaled, coordinates_mot=coords_sampled, grf_mot=grf_true
        ),
        id_forces=chain.inverse_dynamics("scaling", model=scaled, coordinates_mot=coords_fine, grf_mot=grf_true),
    )

    # IK: the pipeline's IK coordinates on the true model, low-passed like the truth's in the
    # filter row (unfiltered, their marker noise would dominate the accelerations ID needs)
    ik_raw = _storage_table(pipeline_dir / "ik_unfiltered.mot")
    ik = str(work / "ik_filtered.mot")
    write_storage(ik, filter_table(ik_raw, cutoff_hz=cutoff), in_degrees=True, name="ik_filtered")
    ik_times = ik_raw["time"]
    ik_window = (max(window[0], float(ik_times.iloc[0])), min(window[1], float(ik_times.iloc[-1])))
    ik_chain = TrialChain(
        subject=subject, trial=trial, window=ik_window, params=params, work_dir=work, so_models=chain.so_models
    )
    # the pipeline's coordinates are in its facing frame (heading.json): the GRF goes there too
    grf_ik = work / "grf_filtered_pipeline_frame.mot"
    write_storage(
        grf_ik,
        in_pipeline_frame(_storage_table(grf_f), pipeline_dir / "heading.json"),
        in_degrees=False,
        name="grf_filtered_pipeline_frame",
    )
    inputs = {"model": true_model, "coordinates_mot": ik, "grf_mot": str(grf_ik)}
    rows["ik"] = chain.metrics(
        model=true_model,
        cycles=true_cycles,
        activations=ik_chain.static_optimization("ik", **inputs),
        id_forces=ik_chain.inverse_dynamics("ik", **inputs),
    )

    # ID: on the coordinates at the marker rate
    rows["id"] = chain.metrics(
        model=true_model,
        cycles=true_cycles,
        activations=baseline_so,
        id_forces=chain.inverse_dynamics("id", model=true_model, coordinates_mot=coords_sampled, grf_mot=grf_true),
    )

    # residual reduction: only 'none' is measured here
    if params["residual_reduction_method"] == "none":
        rows["residual_reduction"] = rows["baseline"]
    frames = [table.assign(stage=stage) for stage, table in rows.items()]
    return pd.concat(frames, ignore_index=True)[["stage", "side", "cycle", "strike_s", "group", "metric", "value"]]


# ------------------------------------------------------------------ the study's table


def _study_values(long: pd.DataFrame, *, compare: list[str], primary_outcomes: list[str]) -> pd.DataFrame:
    """Per primary outcome: the mean over subjects of each condition's subject mean and the
    mean paired difference, by the pipeline's own study-level definitions."""
    subject_means, table = checks.judged_comparison(
        long.assign(note=""), compare=compare, primary_outcomes=primary_outcomes
    )
    rows = []
    for group, metric in checks.outcome_keys(primary_outcomes):
        match = table[(table["group"] == group) & (table["metric"] == metric)]
        row = {"outcome": f"{group}.{metric}"}
        means = subject_means[(subject_means["group"] == group) & (subject_means["metric"] == metric)]
        for condition in compare:
            row[condition] = float(means[means["condition"] == condition]["mean"].mean())
        row["difference"] = float(match["difference_mean"].iloc[0]) if len(match) else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("outcome")


def _difference(table: pd.DataFrame, outcome: str) -> float:
    group, metric = outcome.split(".", 1)
    match = table[(table["group"] == group) & (table["metric"] == metric)]["difference_mean"]
    return float(match.iloc[0]) if len(match) else np.nan


def _errors(value: pd.Series, reference: pd.Series, true: pd.Series, compare: list[str]) -> dict:
    """Signed errors, % of the true value: (value - reference) / true for each condition's
    mean and the difference; negative = towards zero (a difference that shrank)."""
    names = {compare[0]: "forward_error_pct", compare[1]: "backward_error_pct", "difference": "difference_error_pct"}
    return {column: 100.0 * (value[key] - reference[key]) / true[key] for key, column in names.items()}


def budget_table(
    stage_metrics: pd.DataFrame,
    truth_metrics: pd.DataFrame,
    pipeline_metrics: pd.DataFrame,
    *,
    pipeline_differences: pd.DataFrame,
    truth_differences: pd.DataFrame,
    compare: list[str],
    primary_outcomes: list[str],
    residual_reduction_method: str,
) -> pd.DataFrame:
    """error_budget.csv: per primary outcome and stage, the signed error (% of the true
    value; negative = towards zero) of each condition's mean and of the forward-backward
    difference.

    ``stage_metrics``: trial_stage_metrics of every trial with subject, condition, trial;
    ``truth_metrics`` / ``pipeline_metrics``: the truth's and the pipeline's cycle
    metrics (subject, condition, trial, side, cycle, group, metric, value);
    ``pipeline_differences`` / ``truth_differences``: what ground_truth.csv compares
    (the pipeline's comparison.csv and truth/comparison.csv), so the whole chain's
    difference errors are ground_truth.csv's, with their sign. Stage rows are against
    the truth through the pipeline's SO solver (the 'baseline'); the SO row is that
    baseline against the truth."""
    forward, backward = compare
    # the outcomes the truth computes (a hypothesis may measure what it does not)
    computed = set(zip(truth_metrics["group"], truth_metrics["metric"]))
    primary_outcomes = [name for name in primary_outcomes if tuple(name.split(".", 1)) in computed]
    true = _study_values(truth_metrics, compare=compare, primary_outcomes=primary_outcomes)
    true["difference"] = [_difference(truth_differences, outcome) for outcome in true.index]
    pipeline = _study_values(pipeline_metrics, compare=compare, primary_outcomes=primary_outcomes)
    pipeline["difference"] = [_difference(pipeline_differences, outcome) for outcome in pipeline.index]
    by_stage = {
        stage: _study_values(own, compare=compare, primary_outcomes=primary_outcomes)
        for stage, own in stage_metrics.groupby("stage")
    }
    rows = []
    for outcome, t in true.iterrows():
        base = {
            "outcome": outcome,
            "truth_forward": t[forward],
            "truth_backward": t[backward],
            "truth_difference": t["difference"],
        }
        baseline = by_stage["baseline"].loc[outcome]
        for stage in STAGES:
            note = STAGE_NOTES[stage]
            if stage == "so":
                errors = _errors(baseline, t, t, compare)
            elif stage == "residual_reduction" and residual_reduction_method != "none":
                errors = dict.fromkeys(("forward_error_pct", "backward_error_pct", "difference_error_pct"), np.nan)
                note = f"method {residual_reduction_method}: not measured by the budget"
            else:
                # IK is measured on top of the filter: its raw coordinates carry marker noise
                reference = by_stage["filter"].loc[outcome] if stage == "ik" else baseline
                errors = _errors(by_stage[stage].loc[outcome], reference, t, compare)
                if stage == "residual_reduction":
                    note = "residual_reduction.method none: the pipeline runs SO on the scaled model as it is"
            rows.append(base | {"stage": stage} | errors | {"note": note})
        whole = _errors(pipeline.loc[outcome], t, t, compare)
        rows.append(base | {"stage": WHOLE_CHAIN} | whole | {"note": STAGE_NOTES[WHOLE_CHAIN]})
    return pd.DataFrame(rows, columns=COLUMNS)


def budget_figure(table: pd.DataFrame, path: str | Path) -> None:
    """One panel per primary outcome: each stage's error of the forward, backward and
    difference values (% of the true value), the whole chain last."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 4.2), sharey=True, squeeze=False)
    kinds = [
        ("forward_error_pct", "forward"),
        ("backward_error_pct", "backward"),
        ("difference_error_pct", "difference"),
    ]
    for ax, outcome in zip(axes[0], outcomes):
        own = table[table["outcome"] == outcome].reset_index(drop=True)
        y = np.arange(len(own))
        for k, (column, label) in enumerate(kinds):
            ax.barh(y + (k - 1) * 0.27, own[column].fillna(0.0), height=0.27, label=label)
        ax.axvline(0, color="black", lw=0.8)
        for limit in (-10, 10):
            ax.axvline(limit, color="grey", lw=0.6, ls="--")
        ax.set_yticks(y, own["stage"].str.replace("_", " "))
        ax.invert_yaxis()
        ax.set_title(outcome.replace("_", " "), fontsize=9)
        ax.set_xlabel("error, % of the true value")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Error budget: the truth's chain with one pipeline stage swapped in (whole chain = the pipeline)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
