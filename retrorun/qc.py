"""Quality checks of one trial against published thresholds.

Defaults (config ``qc``) follow "Simulation with OpenSim - Best Practices" (Hicks et
al. 2015, J Biomech Eng 137:020905): scaling marker error of the bony landmarks RMS about
1 cm, max < 2 cm (cluster and technical markers reported apart, not checked);
IK marker error RMS about 2 cm, max < 4 cm; residual force < 5% of peak external
force (the normalised target AddBiomechanics uses after Hicks et al. 2015); residual
moment < 75 N·m. Residuals are one definition everywhere: the magnitude of the residual
force vector (the root joint's translational residual actuators, per frame) and of the
residual moment vector (its rotational ones), at their peak over the window; peak
reserve < 10% of the peak joint moment. Saturation (activation >= 0.95) is reported
because running models at published strength saturate in SO.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cycle_plan import USED

QC_COLUMNS = [
    "subject",
    "trial",
    "condition",
    "status",
    "failed_stage",
    "n_frames",
    # -3 dB point of the zero-lag low-pass applied to IK coordinates and GRF (retrorun/filtering.py)
    "filter_cutoff_hz",
    "scale_marker_rms_m",
    "scale_marker_max_m",
    "scale_landmark_count",
    "scale_other_marker_rms_m",
    "scale_other_marker_max_m",
    "scale_other_marker_count",
    "ik_marker_rms_m",
    "ik_marker_max_m",
    "peak_grf_n",
    "residual_force_peak_n",
    "residual_force_share_of_peak_grf",
    "residual_moment_peak_nm",
    "reserve_peak_share",
    "reserve_worst_coordinate",
    "saturated_frame_share",
    "knee_extension_peak_missing_cycles",
    # residual reduction (retrorun/residual_reduction.py): the residuals above are after it
    "residual_reduction_method",
    "com_height_m",
    "residual_moment_share_of_com_height_x_peak_grf",
    "residual_force_peak_n_before_reduction",
    "residual_force_share_of_peak_grf_before_reduction",
    "residual_moment_peak_nm_before_reduction",
    "residual_moment_share_of_com_height_x_peak_grf_before_reduction",
    "mass_change_recommended_kg",
    "mass_change_applied_kg",
    "com_shift_m",
    "com_shift_capped",
    "kinematic_change_rms_max_deg",
    "kinematic_change_rms_max_cm",
    "kinematic_change_worst_coordinate",
    "n_cycles_used",
    "speed_m_s",  # over the analysed cycles (retrorun/speed.py): not a check, for matching conditions
    "pass",
    "flags",
]


def scale_landmarks(weights: dict[str, float], *, named: list[str], min_weight_share: float) -> set[str]:
    """The static-pose markers Hicks et al. 2015's scaling limits speak of (bony landmarks):
    those named in qc.scale_landmarks or, with none named, those the scale setup weights at
    least ``min_weight_share`` of its largest weight (setups weight the landmarks they trust
    highest and cluster or technical markers low)."""
    if named:
        return set(named) & set(weights)
    largest = max(weights.values(), default=0.0)
    return {name for name, weight in weights.items() if largest > 0 and weight >= min_weight_share * largest}


def _rms_max(values: np.ndarray) -> tuple[float, float]:
    if len(values) == 0:
        return np.nan, np.nan
    return float(np.sqrt(np.mean(values**2))), float(values.max())


def scale_errors(errors: pd.DataFrame) -> dict:
    """RMS and max static-pose error of the landmarks (checked), and of the other weighted
    markers (reported only). A table without a ``landmark`` column counts every marker."""
    landmark = errors["landmark"].astype(bool) if "landmark" in errors else pd.Series(True, index=errors.index)
    values = errors["error_m"].to_numpy(dtype=float)
    rms, largest = _rms_max(values[landmark.to_numpy()])
    other_rms, other_max = _rms_max(values[~landmark.to_numpy()])
    return {
        "scale_marker_rms_m": rms,
        "scale_marker_max_m": largest,
        "scale_landmark_count": int(landmark.sum()),
        "scale_other_marker_rms_m": other_rms,
        "scale_other_marker_max_m": other_max,
        "scale_other_marker_count": int((~landmark).sum()),
    }


def ik_errors(errors: pd.DataFrame) -> dict:
    """RMS over frames of the per-frame marker RMS, and the largest single marker error."""
    return {
        "ik_marker_rms_m": float(np.sqrt(np.mean(errors["marker_rms_m"].to_numpy() ** 2))),
        "ik_marker_max_m": float(errors["marker_max_m"].max()),
    }


def vector_magnitude_peak(table: pd.DataFrame, columns: list[str]) -> float:
    """Largest per-frame magnitude of the vector whose components are ``columns``."""
    if not columns or table.empty:
        return 0.0
    return float(np.linalg.norm(table[columns].to_numpy(dtype=float), axis=1).max())


def residuals(forces: pd.DataFrame, actuators: pd.DataFrame, grf: pd.DataFrame) -> dict:
    """Peak magnitude of the residual force and moment vectors (SO's root actuators), and
    the force relative to peak GRF magnitude."""
    root = actuators[actuators["kind"] == "residual"]
    force_cols = [f"{n}_n" for n, rot in zip(root["name"], root["rotational"]) if not rot]
    moment_cols = [f"{n}_nm" for n, rot in zip(root["name"], root["rotational"]) if rot]
    force_peak = vector_magnitude_peak(forces, force_cols)
    moment_peak = vector_magnitude_peak(forces, moment_cols)
    peak_grf = float(total_grf_magnitude(grf).max()) if len(grf) else np.nan
    return {
        "peak_grf_n": peak_grf,
        "residual_force_peak_n": force_peak,
        "residual_force_share_of_peak_grf": force_peak / peak_grf if peak_grf and peak_grf > 0 else np.nan,
        "residual_moment_peak_nm": moment_peak,
    }


def residuals_before_reduction(id_forces: pd.DataFrame, actuators: pd.DataFrame, grf: pd.DataFrame) -> dict:
    """The same residual metrics from the ID generalized forces of the root coordinates
    (what SO's residual actuators carry when the model is not adjusted), suffixed
    ``_before_reduction``."""
    root = actuators[actuators["kind"] == "residual"]
    columns = {}
    for name, coordinate, rotational in root[["name", "coordinate", "rotational"]].itertuples(index=False):
        source = f"{coordinate}_moment_nm" if rotational else f"{coordinate}_force_n"
        columns[f"{name}_nm" if rotational else f"{name}_n"] = id_forces[source].to_numpy()
    before = residuals(pd.DataFrame(columns), actuators, grf)
    return {f"{key}_before_reduction": value for key, value in before.items() if key != "peak_grf_n"}


def residual_moment_shares(metrics: dict, com_height_m: float) -> dict:
    """Peak residual moment / (COM height x peak GRF), after and before reduction (Hicks et al. 2015: < 1 %)."""
    scale = com_height_m * metrics["peak_grf_n"]
    shares = {"com_height_m": com_height_m}
    for suffix in ("", "_before_reduction"):
        shares[f"residual_moment_share_of_com_height_x_peak_grf{suffix}"] = (
            metrics[f"residual_moment_peak_nm{suffix}"] / scale if scale > 0 else np.nan
        )
    return shares


def reduction_changes(change: pd.Series) -> dict:
    """One trial's row of the subject's residual-reduction table (residual_reduction/changes.csv)."""
    applied = bool(change["mass_change_applied"])
    return {
        "residual_reduction_method": change["method"],
        "mass_change_recommended_kg": float(change["mass_change_recommended_kg"]),
        "mass_change_applied_kg": float(change["mass_change_recommended_kg"]) if applied else 0.0,
        "com_shift_m": float(change["com_shift_m"]),
        "com_shift_capped": bool(change["com_shift_capped"]),
    }


def kinematic_changes(changes: pd.DataFrame, *, rotation_max_deg: float, translation_max_cm: float) -> dict:
    """RRA's largest RMS coordinate changes (rra/kinematic_changes.csv), rotations in
    degrees and translations in cm, and the coordinate furthest over (or nearest) its limit."""
    rotation = changes["rms_change_deg"].max(skipna=True)
    translation = changes["rms_change_cm"].max(skipna=True)
    relative = pd.concat(
        [changes["rms_change_deg"] / rotation_max_deg, changes["rms_change_cm"] / translation_max_cm], axis=1
    ).max(axis=1, skipna=True)
    return {
        "kinematic_change_rms_max_deg": float(rotation) if np.isfinite(rotation) else 0.0,
        "kinematic_change_rms_max_cm": float(translation) if np.isfinite(translation) else 0.0,
        "kinematic_change_worst_coordinate": str(changes.loc[relative.idxmax(), "coordinate"]) if len(changes) else "",
    }


def total_grf_magnitude(grf: pd.DataFrame) -> np.ndarray:
    """|sum over sides of the force vector| per frame, from grf.csv columns <side>_force_<axis>_n."""
    total = np.zeros((len(grf), 3))
    for axis_index, axis in enumerate("xyz"):
        for column in grf.columns:
            if column.endswith(f"_force_{axis}_n"):
                total[:, axis_index] += grf[column].to_numpy()
    return np.linalg.norm(total, axis=1)


def reserves(forces: pd.DataFrame, actuators: pd.DataFrame, id_forces: pd.DataFrame) -> dict:
    """Largest ratio of peak reserve to peak ID generalized force, over the reserve coordinates."""
    worst_share, worst = 0.0, ""
    for name, coordinate, rotational in actuators.loc[
        actuators["kind"] == "reserve", ["name", "coordinate", "rotational"]
    ].itertuples(index=False):
        reserve_col = f"{name}_nm" if rotational else f"{name}_n"
        id_col = f"{coordinate}_moment_nm" if rotational else f"{coordinate}_force_n"
        if reserve_col not in forces or id_col not in id_forces:
            continue
        peak_id = float(id_forces[id_col].abs().max())
        share = float(forces[reserve_col].abs().max()) / peak_id if peak_id > 0 else 0.0
        if share > worst_share:
            worst_share, worst = share, coordinate
    return {"reserve_peak_share": worst_share, "reserve_worst_coordinate": worst}


def saturation(activations: pd.DataFrame, *, level: float) -> dict:
    values = activations.drop(columns="time_s").to_numpy()
    return {"saturated_frame_share": float(np.mean(values.max(axis=1) >= level)) if len(values) else np.nan}


def knee_extension_peaks(cycle_metrics: pd.DataFrame) -> dict:
    """Used cycles whose stance holds no positive knee extension moment (a wrong knee sign,
    or a knee that never extends): the peak was not reported for them."""
    peaks = cycle_metrics[
        (cycle_metrics["group"] == "knee") & (cycle_metrics["metric"] == "peak_extension_moment_nm_per_kg")
    ]
    return {"knee_extension_peak_missing_cycles": int(peaks["value"].isna().sum())}


def cycles_used(cycles: pd.DataFrame) -> dict:
    """Cycles (or stances) of the trial that are analysed: 0 is flagged, never silent."""
    return {"n_cycles_used": int((cycles["status"] == "used").sum())}


SCALE_ADVICE = (
    "check the static pose the scale setup's coordinate tasks hold (a T-pose held by arm tasks at 0 "
    "misplaces the arm markers) and its marker weights, or name the bony landmarks in qc.scale_landmarks"
)


@dataclass(frozen=True)
class Check:
    """One QC check, the one place that says what a flag of qc.csv means: the column it
    reads, the config keys of its limit, its words (methods text, front page, the gate's
    message) and what to change when real data fail it."""

    metric: str  # the qc.csv column it reads
    limits: tuple[str, ...]  # config keys of its limit ("qc.<key>" read from the qc thresholds)
    name: str  # short, in the methods text's counts
    what: str  # what was checked, in the front page's and the gate's words
    over: str = "above {}"  # how a failure reads; {} takes the limit(s) in words
    advice: str = ""


CHECKS = {
    "scale_marker_rms": Check(
        "scale_marker_rms_m",
        ("qc.scale_marker_rms_max_m",),
        "scaling marker RMS error",
        "RMS marker error of the bony landmarks after scaling",
        advice=SCALE_ADVICE,
    ),
    "scale_marker_max": Check(
        "scale_marker_max_m",
        ("qc.scale_marker_max_max_m",),
        "scaling maximum marker error",
        "largest marker error of the bony landmarks after scaling",
        advice=SCALE_ADVICE,
    ),
    "ik_marker_rms": Check(
        "ik_marker_rms_m",
        ("qc.ik_marker_rms_max_m",),
        "IK marker RMS error",
        "RMS marker error in inverse kinematics",
        advice="check marker labels and model.ik_tasks' weights",
    ),
    "ik_marker_max": Check(
        "ik_marker_max_m",
        ("qc.ik_marker_max_max_m",),
        "IK maximum marker error",
        "largest marker error in inverse kinematics",
        advice="check marker labels and model.ik_tasks' weights",
    ),
    "residual_force": Check(
        "residual_force_share_of_peak_grf",
        ("qc.residual_force_max_share_of_peak_grf",),
        "residual force",
        "peak residual force",
        "above {} of the peak GRF",
        "residual_reduction.method rra reduces it; check body mass and GRF calibration",
    ),
    "residual_moment": Check(
        "residual_moment_peak_nm",
        ("qc.residual_moment_max_nm",),
        "residual moment",
        "peak residual moment",
        advice="residual_reduction.method rra reduces it",
    ),
    "residual_moment_share": Check(
        "residual_moment_share_of_com_height_x_peak_grf",
        ("qc.residual_moment_max_share_of_com_height_x_peak_grf",),
        "residual moment relative to COM height x peak GRF",
        "peak residual moment",
        "above {} of COM height × peak GRF",
        "residual_reduction.method rra reduces it",
    ),
    "kinematic_change": Check(
        "kinematic_change_rms_max_deg",
        ("qc.kinematic_change_rms_max_deg", "qc.kinematic_change_rms_max_cm"),
        "RRA kinematic change",
        "RMS change of a coordinate by the residual reduction",
        advice="residual_reduction.rra_residual_*_optimal_force",
    ),
    "reserve": Check(
        "reserve_peak_share",
        ("qc.reserve_peak_share_max",),
        "reserve moments",
        "peak reserve actuator moment",
        "above {} of the peak joint moment",
        "static_optimization.max_isometric_force_scale or strength_scaling (weak muscles)",
    ),
    "saturation": Check(
        "saturated_frame_share",
        ("qc.saturated_frame_share_max",),
        "saturated frames",
        "share of frames with a saturated muscle",
        advice="static_optimization.max_isometric_force_scale or strength_scaling (muscles too weak for the task)",
    ),
    "mass_change": Check(
        "mass_change_recommended_kg",
        ("residual_reduction.max_mass_change_kg",),
        "recommended mass change refused",
        "recommended mass change",
        advice="check mass_kg in subjects.tsv and the GRF calibration",
    ),
    "knee_extension_peak": Check(
        "knee_extension_peak_missing_cycles",
        (),
        "knee extension peak not found",
        "a used gait cycle without a positive knee extension moment in stance",
        "",
        "check analysis.knee_extension_sign",
    ),
    "no_cycles": Check(
        "n_cycles_used", (), "no usable cycle", "no usable gait cycle", "", "see the trial's cycles.csv"
    ),
}
# the checks verdict() makes against the config's qc thresholds (the others: reduction_flags)
THRESHOLD_FLAGS = (
    "scale_marker_rms",
    "scale_marker_max",
    "ik_marker_rms",
    "ik_marker_max",
    "residual_force",
    "residual_moment",
    "reserve",
    "saturation",
)


def qc_key(config_key: str) -> str:
    """A limit's key in the config's qc section ("qc.x" -> "x")."""
    return config_key.removeprefix("qc.")


def verdict(metrics: dict, thresholds: dict) -> dict:
    """pass = every threshold met; flags = the names of the checks that failed."""
    flags = []
    for flag in THRESHOLD_FLAGS:
        check = CHECKS[flag]
        value = metrics.get(check.metric)
        limit = thresholds[qc_key(check.limits[0])]
        if value is None or (isinstance(value, float) and np.isnan(value)) or value > limit:
            flags.append(flag)
    if metrics.get("knee_extension_peak_missing_cycles", 0):
        flags.append("knee_extension_peak")
    if metrics.get("n_cycles_used", 1) == 0:
        flags.append("no_cycles")
    return {"pass": not flags, "flags": ";".join(flags)}


def reduction_flags(
    metrics: dict,
    *,
    moment_share_max: float,
    max_mass_change_kg: float,
    rotation_max_deg: float = np.inf,
    translation_max_cm: float = np.inf,
) -> list[str]:
    """Checks of the residual reduction: the residual moment after it within the 1 % rule
    (Hicks et al. 2015), no recommended mass change above the limit (it was refused), and
    RRA's kinematic changes within the Best Practices limits (RMS 2 deg and 2 cm)."""
    flags = []
    share = metrics.get("residual_moment_share_of_com_height_x_peak_grf")
    if share is None or not np.isfinite(share) or share > moment_share_max:
        flags.append("residual_moment_share")
    if abs(metrics.get("mass_change_recommended_kg", 0.0)) > max_mass_change_kg:
        flags.append("mass_change")
    if (
        metrics.get("kinematic_change_rms_max_deg", 0.0) > rotation_max_deg
        or metrics.get("kinematic_change_rms_max_cm", 0.0) > translation_max_cm
    ):
        flags.append("kinematic_change")
    return flags


def with_flags(verdict_: dict, extra: list[str]) -> dict:
    flags = [f for f in verdict_["flags"].split(";") if f] + extra
    return {"pass": not flags, "flags": ";".join(flags)}


def _passed(qc_table: pd.DataFrame) -> pd.Series:
    return qc_table["pass"].astype(str).str.lower().isin(["true", "1"])


def _failing_checks(row: pd.Series) -> str:
    parts = []
    method = row.get("residual_reduction_method")
    for flag in filter(None, str(row.get("flags") or "").split(";")):
        check = CHECKS.get(flag, Check("", (), flag, flag))
        metric, limit, advice = check.metric, " / ".join(check.limits), check.advice
        if flag.startswith("residual_") and method == "rra":
            advice = "left after rra: the model-data mismatch (IK marker errors, segment masses, GRF)"
        value = row.get(metric)
        shown = f" {metric} = {value:.4g}" if isinstance(value, (int, float)) and np.isfinite(value) else ""
        over = f" over {limit}" if limit else ""
        parts.append(f"{flag} ({shown.strip()}{over}; {advice})" if advice else flag)
    return "; ".join(parts) or "no QC flag recorded"


def gate_left_empty(
    qc_table: pd.DataFrame, trial_cycles: list[tuple[dict, pd.DataFrame]], *, compare: list[str], gate: str
) -> str:
    """Why the QC gate (analysis.qc_gate exclude) leaves the comparison empty, or "".

    ``trial_cycles``: (subject, trial and condition; cycles.csv) per trial, as for
    analysis.empty_comparison; trials without a used cycle are that check's business,
    before this one. Empty by the gate:
    every such trial of a compared condition failed QC, or no subject is left with a
    passing trial in both conditions although one had trials in both before the gate. The
    message names each excluded trial with its failing checks, values and what to change."""
    if gate != "exclude" or qc_table.empty:
        return ""
    passed = {(s, t): bool(ok) for s, t, ok in zip(qc_table["subject"], qc_table["trial"], _passed(qc_table))}
    trials = [t for t, cycles in trial_cycles if t["condition"] in compare and (cycles["status"] == USED).any()]
    kept = [t for t in trials if passed.get((t["subject"], t["trial"]), False)]

    def paired(selected):
        by_condition = [{t["subject"] for t in selected if t["condition"] == c} for c in compare]
        return by_condition[0] & by_condition[1]

    emptied = [c for c in dict.fromkeys(compare) if any(t["condition"] == c for t in trials)]
    emptied = [c for c in emptied if not any(t["condition"] == c for t in kept)]
    unpaired = bool(paired(trials)) and not paired(kept)
    if not emptied and not unpaired:
        return ""
    why = (
        f"every trial of condition(s) {', '.join(emptied)} failed QC"
        if emptied
        else f"no subject has a trial passing QC in both {compare[0]} and {compare[1]}"
    )
    lines = [f"the QC gate (analysis.qc_gate: exclude) leaves the comparison {compare[0]} vs {compare[1]} empty: {why}"]
    rows = qc_table.set_index(["subject", "trial"])
    for t in trials:
        key = (t["subject"], t["trial"])
        if not passed.get(key, False):
            row = rows.loc[key] if key in rows.index else pd.Series(dtype=object)
            lines.append(f"  {key[0]}/{key[1]} ({t['condition']}): {_failing_checks(row)}")
    lines.append(
        "  what to change: what each line says (qc.csv has every metric), or set analysis.qc_gate: include "
        "(flagged trials enter the statistics, marked) or analysis.allow_empty: true (empty tables, a warning); "
        "qc thresholds only to another published tier (config/README.md, section qc)"
    )
    return "\n".join(lines)
