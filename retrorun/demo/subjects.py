"""One synthetic subject on disk: the true (scaled) model, skin markers with a realistic
mismatch to that model, the force-plate GRF, and the truth files.

Everything the pipeline reads (markers, GRF) goes to ``inputs_dir``; the truth (model,
coordinates, noise-free GRF, contact times, marker offsets, segment lengths) goes to a
separate ``truth_dir`` that only the ground-truth check reads.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..formats import MarkerTable, atomic_path, write_csv, write_storage, write_trc
from .design import GRAVITY_M_S2, SEGMENTS, SIDES, SubjectDesign, resolve_config, subject_design
from .motion import PoseProbe, _osim, balance_angular_momentum, trial_kinematics

# Skin-marker placement: palpating a bony landmark and sticking a marker on it misses
# the landmark by a few mm to about 1-2 cm (intra- and inter-examiner SDs, Della Croce,
# Cappozzo & Kerrigan 1999, Med Biol Eng Comput 37:155; review: Della Croce et al.
# 2005, Gait Posture 21:226). Each marker of each subject gets one offset per in-plane
# axis, SD synthetic.marker_placement_sd_m (default 5 mm), clipped at 2 SD; the same in
# the static and the running trials (markers are placed once per session).
PLACEMENT_CLIP_SD = 2.0
# Soft-tissue artefact (STA): skin markers on the thigh and shank move relative to the
# bone with the knee angle, thigh markers mostly along the segment and shank markers
# mostly front-back (Barre et al. 2017, J Biomech 62:21; amplitudes up to 10-30 mm on
# the thigh, less on the shank: Leardini et al. 2005, Gait Posture 21:212). Modelled
# at the low end of those reviews: displacement = gain x knee flexion (rad), gains
# below (m/rad) are the largest, each marker gets a random share in [-1, 1] of it:
# about 9 mm (thigh) and 5 mm (shank) at 100 deg of knee flexion.
SOFT_TISSUE_M_PER_RAD = {"femur": (1, 0.005), "tibia": (0, 0.003)}  # body -> (axis, gain)


# ------------------------------------------------------------------ model and markers


def true_model(generic_model: str | Path, person: SubjectDesign):
    """The generic model scaled by the subject's per-segment, per-axis factors and mass."""
    osim = _osim()
    model = osim.Model(str(generic_model))
    state = model.initSystem()
    scale_set = osim.ScaleSet()
    for segment, bodies in SEGMENTS.items():
        for body in bodies:
            if not model.getBodySet().contains(body):
                raise ConfigError(
                    f"the generic model {generic_model} has no body '{body}' (segment '{segment}')",
                    fix="use the demo model or a model with the gait2392 body names",
                )
            scale = osim.Scale()
            scale.setSegmentName(body)
            scale.setScaleFactors(osim.Vec3(*person.scale_factors[segment]))
            scale.setApply(True)
            scale_set.cloneAndAppend(scale)
    model.scale(state, scale_set, True, person.mass_kg)
    model.setName(f"{model.getName()}_{person.subject}_true")
    model.initSystem()
    return model


def segment_lengths(model) -> dict[str, float]:
    """Joint-centre distances in the default pose (m): pelvis (hip to lumbar joint), thigh
    (hip to knee), shank (knee to ankle) and foot (ankle to MTP) of each side."""
    state = model.initSystem()

    def centre(joint: str, which: str) -> np.ndarray:
        frame = model.getJointSet().get(joint)
        frame = frame.getParentFrame() if which == "parent" else frame.getChildFrame()
        p = frame.getPositionInGround(state)
        return np.array([p.get(0), p.get(1), p.get(2)])

    lengths = {}
    for side in SIDES:
        hip, knee, ankle, mtp = (centre(f"{j}_{side}", "child") for j in ("hip", "knee", "ankle", "mtp"))
        lengths[f"thigh_{side}"] = float(np.linalg.norm(knee - hip))
        lengths[f"shank_{side}"] = float(np.linalg.norm(ankle - knee))
        lengths[f"foot_{side}"] = float(np.linalg.norm(mtp - ankle))
    hip_mid = 0.5 * (centre("hip_r", "child") + centre("hip_l", "child"))
    lengths["pelvis"] = float(np.linalg.norm(centre("back", "child") - hip_mid))
    return lengths


def standing_pose(model) -> dict[str, float]:
    """All joints at zero, soles on the floor (y = 0)."""
    probe = PoseProbe(model)
    pose = {name: 0.0 for name in probe.coordinates}
    probe.set_pose(pose)
    lowest = min(probe.sole_point(side, share)[1] for side in SIDES for share in (0.0, 1.0))
    pose["pelvis_ty"] = -lowest
    return pose


def standing_com_height_m(model) -> float:
    """Height of the whole-body centre of mass in the standing pose (m)."""
    probe = PoseProbe(model)
    probe.set_pose(standing_pose(model))
    return float(probe.com()[1])


def skin_markers(model, *, placement_sd_m: float, soft_tissue_scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Where this subject's skin markers sit: per marker its body, the model's location
    (m, body frame), the placement offset (m) and the soft-tissue gain (m per rad of
    knee flexion, along ``sta_axis`` of the body frame)."""
    rows = []
    for marker in model.getMarkerSet():
        body = marker.getParentFrameName().split("/")[-1]
        location = marker.get_location()
        offset = np.clip(rng.normal(0.0, 1.0, 2), -PLACEMENT_CLIP_SD, PLACEMENT_CLIP_SD) * placement_sd_m
        section = body.rsplit("_", 1)[0]
        axis, gain = SOFT_TISSUE_M_PER_RAD.get(section, (0, 0.0))
        share = float(rng.uniform(-1.0, 1.0))
        rows.append(
            {
                "marker": marker.getName(),
                "body": body,
                "side": body.rsplit("_", 1)[-1] if "_" in body else "",
                "x_m": location.get(0),
                "y_m": location.get(1),
                "z_m": location.get(2),
                "offset_x_m": float(offset[0]),
                "offset_y_m": float(offset[1]),
                "sta_axis": axis,
                "sta_m_per_rad": soft_tissue_scale * gain * share,
            }
        )
    if not rows:
        raise ConfigError(f"model {model.getName()} has no markers", fix="use a generic model with a marker set")
    return pd.DataFrame(rows)


def marker_table(
    model,
    skin: pd.DataFrame,
    coords: dict[str, np.ndarray],
    time_s: np.ndarray,
    *,
    noise_m: float,
    rng: np.random.Generator,
    rate_hz: float,
) -> MarkerTable:
    """Skin-marker positions: placed with their offsets, moved by soft tissue with the
    knee angle of their side, by forward kinematics of the true model, plus Gaussian noise."""
    probe = PoseProbe(model)
    n = len(time_s)
    positions = {name: np.zeros((n, 3)) for name in skin["marker"]}
    base = skin[["x_m", "y_m", "z_m"]].to_numpy() + np.column_stack(
        [skin["offset_x_m"], skin["offset_y_m"], np.zeros(len(skin))]
    )
    # Every marker's body-frame location at every frame, built before the frame loop:
    # reading the skin table row by row inside it cost more than the OpenSim calls.
    local = np.repeat(base[None, :, :], n, axis=0)
    for k, (side, axis, gain) in enumerate(zip(skin["side"], skin["sta_axis"], skin["sta_m_per_rad"])):
        if gain:
            knee_flexion = -np.asarray(coords[f"knee_angle_{side}"], dtype=float)  # knee_angle is negative in flexion
            local[:, k, int(axis)] += gain * knee_flexion
    bodies = [probe.bodies[body] for body in skin["body"]]
    rows = [positions[name] for name in skin["marker"]]
    vec3, state = probe._vec3, probe.state
    for i in probe.poses(coords):
        for k, body in enumerate(bodies):
            x, y, z = local[i, k]
            rows[k][i] = body.findStationLocationInGround(state, vec3(float(x), float(y), float(z))).to_numpy()
    for name in positions:
        positions[name] = positions[name] + rng.normal(0.0, noise_m, positions[name].shape)
    return MarkerTable(np.asarray(time_s, dtype=float), positions, float(rate_hz))


# ------------------------------------------------------------------------ GRF files


GRF_SIDE_COLUMNS = {  # demo force identifiers: ground_force_<side>_v, _p and ground_torque_<side>_
    "force": "ground_force_{side}_v{axis}",
    "point": "ground_force_{side}_p{axis}",
    "torque": "ground_torque_{side}_{axis}",
}


def grf_storage_table(kinematics: dict, *, noise_n: float, rng: np.random.Generator | None) -> pd.DataFrame:
    """The GRF as an OpenSim table (time, then per side force, point, torque), noise on
    loaded samples only so flight stays force-free and Fy stays >= 0."""
    table = {"time": kinematics["time_s"]}
    n = len(kinematics["time_s"])
    for kind in ("force", "point", "torque"):
        for side in SIDES:
            forces = kinematics["forces"]
            loaded = ~np.isnan(forces[f"{side}_u"])
            if kind == "force":
                values = np.column_stack([forces[f"{side}_fx"], forces[f"{side}_fy"], np.zeros(n)])
                if noise_n > 0 and rng is not None:
                    values[loaded, :2] += rng.normal(0.0, noise_n, (int(loaded.sum()), 2))
                    values[:, 1] = np.maximum(values[:, 1], 0.0)
            elif kind == "point":
                values = np.where(loaded[:, None], np.nan_to_num(kinematics["cop"][side]), 0.0)
            else:
                values = np.zeros((n, 3))  # no free torque
            for i, axis in enumerate("xyz"):
                table[GRF_SIDE_COLUMNS[kind].format(side=side, axis=axis)] = values[:, i]
    return pd.DataFrame(table)


def coordinates_table(coords: dict[str, np.ndarray], time_s: np.ndarray) -> pd.DataFrame:
    """time_s, <coordinate>_deg (rotational) / <coordinate>_m (pelvis translations)."""
    table = {"time_s": time_s}
    for name, values in coords.items():
        if name in ("pelvis_tx", "pelvis_ty"):
            table[f"{name}_m"] = values
        else:
            table[f"{name}_deg"] = np.degrees(values)
    return pd.DataFrame(table)


def designed_contacts(design: dict, *, first_contact_s: float, duration_s: float) -> pd.DataFrame:
    """The designed contacts: side, strike_s, toe_off_s of every contact that starts
    inside [0, duration_s]."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    rows = []
    for side, offset in (("r", 0.0), ("l", 0.5 * stride_s)):
        first = first_contact_s + offset
        k_min = int(np.ceil(-first / stride_s))
        for k in range(k_min, int(np.floor((duration_s - first) / stride_s)) + 1):
            strike = first + k * stride_s
            rows.append({"side": side, "strike_s": strike, "toe_off_s": strike + design["contact_time_s"]})
    return pd.DataFrame(rows).sort_values("strike_s", kind="stable").reset_index(drop=True)


def _resample(coords: dict[str, np.ndarray], time_s: np.ndarray, new_time_s: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.interpolate import CubicSpline

    return {name: CubicSpline(time_s, values)(new_time_s) for name, values in coords.items()}


def _storage_name(column: str) -> str:
    if column == "time_s":
        return "time"
    return column.rsplit("_", 1)[0]


# --------------------------------------------------------------------------- a subject


def truth_paths(truth_dir: str | Path, trials: list[str]) -> dict[str, Path]:
    """Every truth file the generator writes for one subject, by key."""
    truth_dir = Path(truth_dir)
    paths = {
        "model": truth_dir / "true_model.osim",
        "subject": truth_dir / "subject.json",
        "scale_factors": truth_dir / "scale_factors.csv",
        "segment_lengths": truth_dir / "segment_lengths.csv",
        "skin_markers": truth_dir / "skin_markers.csv",
    }
    for trial in trials:
        paths[f"{trial}/coordinates"] = truth_dir / f"{trial}_coordinates.csv"
        paths[f"{trial}/coordinates_mot"] = truth_dir / f"{trial}_coordinates.mot"
        paths[f"{trial}/coordinates_sampled_mot"] = truth_dir / f"{trial}_coordinates_marker_rate.mot"
        paths[f"{trial}/grf"] = truth_dir / f"{trial}_grf.mot"
        paths[f"{trial}/contacts"] = truth_dir / f"{trial}_contacts.csv"
    return paths


def outcome_paths(truth_dir: str | Path, trial: str) -> dict[str, Path]:
    """The truth outcome files of one trial (written by rule demo_truth, retrorun/demo/truth.py)."""
    truth_dir = Path(truth_dir)
    return {
        "id": truth_dir / f"{trial}_id_generalized_forces.csv",
        "activations": truth_dir / f"{trial}_so_activations.csv",
        "cycles": truth_dir / f"{trial}_cycles.csv",
        "metrics": truth_dir / f"{trial}_cycle_metrics.csv",
    }


def generate_subject(
    synthetic_cfg: dict | None,
    *,
    subject: str,
    generic_model: str | Path,
    inputs_dir: str | Path,
    truth_dir: str | Path,
) -> dict:
    """Write one subject's static trial, running trials (TRC + GRF .mot) and truth files.

    Returns a summary (timings, sole heights, peak forces) for the job log."""
    cfg = resolve_config(synthetic_cfg)
    index, person = subject_design(cfg, subject)
    inputs_dir, truth_dir = Path(inputs_dir), Path(truth_dir)
    model = true_model(generic_model, person)
    trials = [f"{c}_1" for c in person.conditions]
    truth = truth_paths(truth_dir, trials)
    truth_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(truth["model"]) as tmp:
        model.printToXML(str(tmp))
    with atomic_path(truth["subject"]) as tmp:
        tmp.write_text(json.dumps(asdict(person), indent=2))
    write_csv(
        truth["scale_factors"],
        pd.DataFrame(
            [
                {
                    "segment": seg,
                    "body": body,
                    "factor_x": person.scale_factors[seg][0],
                    "factor_y": person.scale_factors[seg][1],
                    "factor_z": person.scale_factors[seg][2],
                }
                for seg, bodies in SEGMENTS.items()
                for body in bodies
            ]
        ),
    )
    write_csv(
        truth["segment_lengths"],
        pd.DataFrame([{"segment": name, "length_m": value} for name, value in segment_lengths(model).items()]),
    )

    marker_rate, grf_rate = float(cfg["marker_rate_hz"]), float(cfg["grf_rate_hz"])
    rng = np.random.default_rng([int(cfg["seed"]), index])
    skin = skin_markers(
        model,
        placement_sd_m=float(cfg["marker_placement_sd_m"]),
        soft_tissue_scale=float(cfg["soft_tissue_scale"]),
        rng=rng,
    )
    write_csv(truth["skin_markers"], skin)
    static_time = np.arange(int(round(float(cfg["static_duration_s"]) * marker_rate)) + 1) / marker_rate
    pose = standing_pose(model)
    static = marker_table(
        model,
        skin,
        {k: np.full(len(static_time), v) for k, v in pose.items()},
        static_time,
        noise_m=float(cfg["marker_noise_m"]),
        rng=rng,
        rate_hz=marker_rate,
    )
    write_trc(inputs_dir / f"{subject}_static.trc", static)

    summary = {"subject": subject, "mass_kg": person.mass_kg, "height_m": person.height_m, "trials": {}}
    for trial, (condition, design) in zip(trials, person.conditions.items()):
        duration = float(cfg["trial_duration_s"])
        grf_time = np.arange(int(round(duration * grf_rate)) + 1) / grf_rate
        marker_time = np.arange(int(round(duration * marker_rate)) + 1) / marker_rate
        balance = balance_angular_momentum(model, design, mass_kg=person.mass_kg)
        kin = trial_kinematics(
            model,
            design,
            time_s=grf_time,
            mass_kg=person.mass_kg,
            first_contact_s=float(cfg["lead_in_s"]),
            balance=balance,
        )
        coords_m = _resample(kin["coordinates"], grf_time, marker_time)
        markers = marker_table(
            model, skin, coords_m, marker_time, noise_m=float(cfg["marker_noise_m"]), rng=rng, rate_hz=marker_rate
        )
        write_trc(inputs_dir / f"{subject}_{trial}.trc", markers)
        write_storage(
            inputs_dir / f"{subject}_{trial}.mot",
            grf_storage_table(kin, noise_n=float(cfg["grf_noise_n"]), rng=rng),
            in_degrees=False,
            name=f"{subject}_{trial}_grf",
        )
        write_storage(
            truth[f"{trial}/grf"],
            grf_storage_table(kin, noise_n=0.0, rng=None),
            in_degrees=False,
            name=f"{subject}_{trial}_grf_true",
        )
        write_csv(truth[f"{trial}/coordinates"], coordinates_table(coords_m, marker_time))
        for key, table in (
            ("coordinates_mot", coordinates_table(kin["coordinates"], grf_time)),
            ("coordinates_sampled_mot", coordinates_table(coords_m, marker_time)),
        ):
            write_storage(
                truth[f"{trial}/{key}"],
                table.rename(columns=_storage_name),
                in_degrees=True,
                name=f"{subject}_{trial}_true",
            )
        write_csv(
            truth[f"{trial}/contacts"],
            designed_contacts(design, first_contact_s=float(cfg["lead_in_s"]), duration_s=duration),
        )
        stance = {s: ~np.isnan(kin["forces"][f"{s}_u"]) for s in SIDES}
        summary["trials"][trial] = {
            "condition": condition,
            "design": design,
            "cop_shift_share_of_sole": balance["cop_shift"],
            "angular_momentum_residual_rms_nm": balance["residual_rms_nm"],
            "pelvis_tilt_range_deg": float(np.degrees(np.ptp(kin["coordinates"]["pelvis_tilt"]))),
            "sole_height_in_stance_m": [
                float(min(kin["sole_height_m"][s][stance[s]].min() for s in SIDES)),
                float(max(kin["sole_height_m"][s][stance[s]].max() for s in SIDES)),
            ],
            "peak_vertical_grf_bw": float(
                max(kin["forces"][f"{s}_fy"].max() for s in SIDES) / (person.mass_kg * GRAVITY_M_S2)
            ),
        }
    return summary


def sample_trial(root: str | Path, *, params_dir: str | Path, so_model: bool = False) -> dict[str, Path]:
    """One synthetic subject (S01, seed 11) with a 2 s forward trial on the demo's planar
    model (built from ``params_dir``, models/retrorun_planar), written under ``root``
    without the workflow: for tests and benchmarks that need a real trial on the demo
    model. Returns truth_paths of its trial ``forward_1`` plus ``generic_model``, ``trc``
    and ``grf`` (its inputs); with ``so_model`` also the SO model the pipeline's settings
    would give at published strength (residuals 100 N, reserves 1 N·m, other actuators
    100) as ``so_model`` and the trial's ``external_loads``."""
    from .. import opensim_tools
    from . import model as demo_model
    from . import truth as demo_truth

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    generic = demo_model.build_model(params_dir=params_dir, out_dir=root)
    design = {"seed": 11, "n_subjects": 1, "trial_duration_s": 2.0, "lead_in_s": 0.6, "analysis_strides": 1}
    generate_subject(design, subject="S01", generic_model=generic, inputs_dir=root / "inputs", truth_dir=root / "truth")
    paths = truth_paths(root / "truth", ["forward_1"]) | {
        "generic_model": generic,
        "trc": root / "inputs" / "S01_forward_1.trc",
        "grf": root / "inputs" / "S01_forward_1.mot",
    }
    if so_model:
        paths["so_model"] = root / "so_model.osim"
        opensim_tools.prepare_so_model(
            model_path=str(paths["model"]),
            out_model=str(paths["so_model"]),
            max_isometric_force_scale=1,
            residual_optimal_force=100,
            reserve_optimal_force=1,
            unmuscled_optimal_force=100,
        )
        paths["external_loads"] = root / "external_loads.xml"
        demo_truth.write_external_loads(paths["external_loads"], grf_mot=paths["grf"])
    return paths
