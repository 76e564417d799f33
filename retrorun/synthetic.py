"""The built-in demo: a synthetic forward/backward running study with known truth.

Each subject is a scaled copy of the generic planar model. Joint angles are smooth
periodic (Fourier) curves through published forward-running design values; backward
running is the forward pattern reversed in time, with a higher step frequency,
shorter contact, longer flight and forefoot contact. The pelvis is placed so that the
whole-body centre of mass (COM) follows a designed trajectory that is ballistic in
flight, and the ground reaction force (GRF) is the whole-body equation of motion,
F = m (a_com - g), applied under the stance foot. Inverse dynamics on the true
coordinates and this GRF therefore leaves no residual force at the pelvis.

Everything the pipeline reads (markers, GRF) goes to ``inputs_dir``; the truth
(scale factors, coordinates, noise-free GRF, segment lengths, model) goes to a
separate ``truth_dir`` that only the ground-truth validation reads.
"""
from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import events
from .errors import ConfigError
from .formats import MarkerTable, atomic_path, write_csv, write_storage, write_trc

GRAVITY_M_S2 = 9.80665

DEFAULTS = {
    "seed": 2012,
    "n_subjects": 4,
    "marker_noise_m": 0.001,  # optical motion capture noise is about 1 mm
    "grf_noise_n": 2.0,  # force-plate noise, added to loaded samples only
    "marker_rate_hz": 100.0,
    "grf_rate_hz": 1000.0,
    "trial_duration_s": 3.0,
    "lead_in_s": 0.6,  # time before the first analysed right-foot contact
    "analysis_strides": 2,  # full strides inside the analysis window [start_s, end_s]
    "static_duration_s": 1.0,
    "conditions": {
        "forward": {"speed_m_s": 3.0, "direction": 1},
        "backward": {"speed_m_s": 3.0, "direction": -1},
    },
}

# Timing per running pattern at about 3 m/s (design values).
# Forward: stance about 35-40 % of the stride and stride frequency about 1.4 Hz
# (facts.md section 1, design values): 0.265 s contact at 1.4 Hz is 37 % of the stride,
# which leaves 0.092 s of flight per step.
# Backward: higher step frequency and shorter contact (Cavagna, Legramandi & La Torre
# 2012, J Exp Biol 215:75; Wright & Weyand 2001, J Exp Biol 204:1805) and an aerial
# time 0.098/0.072 = 1.36 times the forward one (Cavagna 2012): 1.5 Hz and 0.208 s
# give 0.125 s of flight (1.36 x 0.092 s).
PATTERN_TIMING = {
    "forward": {"stride_frequency_hz": 1.40, "contact_time_s": 0.265},
    "backward": {"stride_frequency_hz": 1.50, "contact_time_s": 0.208},
}
# Vertical force shapes. Forward: a heel-strike impact peak of about 1.5-2 BW and an
# active peak of about 2.3-2.7 BW (facts.md, design values). Backward: no impact peak,
# forefoot landing (Threlkeld et al. 1989); its peak upward COM acceleration is higher
# than forward (15.7 vs 13.2 m/s^2, Cavagna 2012), which the shorter contact gives.
ACTIVE_SHAPE_EXPONENT = {"forward": 2.0, "backward": 1.2}
IMPACT_AMPLITUDE = {"forward": 0.6, "backward": 0.0}  # relative to the active pulse's peak
IMPACT_SHARE_OF_STANCE = 0.2
# Fore-aft force: a braking then propelling pulse of zero net impulse, its size a share
# of the vertical force (design value; the GRF leans with the leg).
HORIZONTAL_FORCE_RATIO = 0.25
# Backward strides show smaller joint ranges of motion than forward ones (Arata 1999).
BACKWARD_RANGE_SCALE = 0.9

# Forward-running joint angles (degrees; knee in flexion, ankle in dorsiflexion) at
# stride phases (0 = contact of that leg; toe-off at about 0.37). Design values of
# facts.md section 1: knee about 15-20 deg at contact, 40-45 deg peak in stance,
# 90-110 deg peak in swing; hip from about -10 deg (toe-off) to about +35 deg (late
# swing); ankle about 0-5 deg dorsiflexion at rearfoot contact, about 20 deg peak
# dorsiflexion in stance, about -20 deg plantarflexion at toe-off.
FORWARD_KEYFRAMES_DEG = {
    "hip_flexion": [(0.00, 32), (0.12, 21), (0.25, 4), (0.37, -13), (0.50, 3), (0.70, 30), (0.85, 36), (0.95, 35)],
    "knee_flexion": [(0.00, 18), (0.13, 43), (0.28, 26), (0.37, 20), (0.55, 75), (0.68, 100), (0.85, 40), (0.95, 14)],
    "ankle_dorsiflexion": [(0.00, 3), (0.16, 20), (0.30, 6), (0.37, -20), (0.47, -14), (0.65, 0), (0.85, 5), (0.95, 3)],
}
FOURIER_HARMONICS = 8
# Trunk: a slight forward lean, oscillating twice per stride (design values).
PELVIS_TILT_DEG = (-5.0, 2.0)
LUMBAR_EXTENSION_DEG = (-5.0, 2.0)

# Anthropometry of the synthetic runners. Height: about the adult male mean and SD of
# the US reference population (175.3 cm; Fryar et al. 2021, NCHS Vital Health Stat
# 3(46)); body-mass index: about 20-24 kg/m^2 for lean recreational runners (design
# value). Segment proportions vary about 3 % between people (design value).
HEIGHT_M = (1.75, 0.07, 1.60, 1.92)  # mean, SD, min, max
BMI_KG_M2 = (20.0, 24.0)
SEGMENT_FACTOR_SD = 0.03
# The generic gait2392 family of models (gait10dof18musc and the demo model) represents
# a subject about 1.8 m tall and 75.16 kg (OpenSim model documentation).
GENERIC_HEIGHT_M = 1.80
SEGMENTS = {
    "pelvis": ["pelvis"],
    "femur": ["femur_r", "femur_l"],
    "tibia": ["tibia_r", "tibia_l"],
    "foot": ["talus_r", "calcn_r", "toes_r", "talus_l", "calcn_l", "toes_l"],
    "torso": ["torso"],
}
SIDES = ("r", "l")


# ---------------------------------------------------------------------- configuration


def resolve_config(synthetic_cfg: dict | None) -> dict:
    """The synthetic config with defaults filled in and each condition's design complete."""
    if synthetic_cfg is not None and not isinstance(synthetic_cfg, dict):
        raise ValueError(f"synthetic_cfg must be a mapping, got {type(synthetic_cfg).__name__}")
    cfg = copy.deepcopy(DEFAULTS)
    given = copy.deepcopy(synthetic_cfg or {})
    conditions = given.pop("conditions", None)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown key(s) under 'synthetic': {', '.join(unknown)}",
                          fix=f"use only {', '.join(sorted(DEFAULTS))} (config/README.md)")
    cfg.update(given)
    if conditions is not None:
        cfg["conditions"] = conditions
    if not cfg["conditions"]:
        raise ConfigError("synthetic.conditions is empty", fix="name at least one condition, e.g. forward: {speed_m_s: 3.0}")
    for key in ("marker_rate_hz", "grf_rate_hz", "trial_duration_s", "static_duration_s"):
        if not float(cfg[key]) > 0:
            raise ConfigError(f"synthetic.{key} must be > 0, got {cfg[key]}", fix=f"set synthetic.{key} to a positive number")
    for key in ("marker_noise_m", "grf_noise_n", "lead_in_s"):
        if float(cfg[key]) < 0:
            raise ConfigError(f"synthetic.{key} must be >= 0, got {cfg[key]}", fix=f"set synthetic.{key} to 0 or more")
    if int(cfg["n_subjects"]) < 1 or int(cfg["analysis_strides"]) < 1:
        raise ConfigError("synthetic.n_subjects and synthetic.analysis_strides must be >= 1", fix="set them to 1 or more")
    cfg["conditions"] = {name: condition_design(name, spec) for name, spec in cfg["conditions"].items()}
    for name, design in cfg["conditions"].items():
        needed = float(cfg["lead_in_s"]) + int(cfg["analysis_strides"]) / design["stride_frequency_hz"] + 0.5
        if needed > float(cfg["trial_duration_s"]):
            raise ConfigError(f"synthetic.trial_duration_s {cfg['trial_duration_s']} s is too short for condition '{name}': "
                              f"lead-in, {cfg['analysis_strides']} strides and 0.5 s of margin need {needed:.2f} s",
                              fix="raise synthetic.trial_duration_s or lower analysis_strides / lead_in_s")
    return cfg


def condition_design(name: str, spec: dict | None) -> dict:
    """Complete one condition: speed_m_s, direction (+1 progresses in +X, -1 in -X),
    pattern (forward | backward kinematics), stride_frequency_hz, contact_time_s."""
    spec = dict(spec or {})
    pattern = spec.get("pattern", name if name in PATTERN_TIMING else None)
    if pattern not in PATTERN_TIMING:
        raise ConfigError(f"synthetic.conditions.{name}: pattern '{pattern}' is not one of {', '.join(PATTERN_TIMING)}",
                          fix=f"add pattern: forward or pattern: backward to synthetic.conditions.{name}")
    design = {"pattern": pattern, "speed_m_s": 3.0, "direction": 1 if pattern == "forward" else -1}
    design.update(PATTERN_TIMING[pattern])
    unknown = sorted(set(spec) - set(design))
    if unknown:
        raise ConfigError(f"synthetic.conditions.{name}: unknown key(s) {', '.join(unknown)}",
                          fix=f"use only {', '.join(sorted(design))}")
    design.update(spec)
    design = {k: (v if k == "pattern" else float(v)) for k, v in design.items()}
    if design["direction"] not in (1.0, -1.0):
        raise ConfigError(f"synthetic.conditions.{name}.direction must be 1 or -1, got {design['direction']}",
                          fix="1 = progress along +X, -1 = along -X (the runner faces +X in both)")
    if design["speed_m_s"] <= 0 or design["stride_frequency_hz"] <= 0:
        raise ConfigError(f"synthetic.conditions.{name}: speed_m_s and stride_frequency_hz must be > 0",
                          fix="set positive values")
    step_s = 0.5 / design["stride_frequency_hz"]
    if not 0 < design["contact_time_s"] < step_s:
        raise ConfigError(f"synthetic.conditions.{name}: contact_time_s {design['contact_time_s']} must be between 0 and "
                          f"the step time {step_s:.3f} s (running has a flight phase)",
                          fix="lower contact_time_s or stride_frequency_hz")
    return design


def trial_names(synthetic_cfg: dict | None) -> list[str]:
    """Trial ids, the same for every subject: '<condition>_1'."""
    return [f"{name}_1" for name in resolve_config(synthetic_cfg)["conditions"]]


# --------------------------------------------------------------------- study sheets


@dataclass(frozen=True)
class SubjectDesign:
    subject: str
    height_m: float
    mass_kg: float
    scale_factors: dict  # segment -> factor (isotropic)


def sample_subjects(synthetic_cfg: dict | None) -> list[SubjectDesign]:
    """Anthropometry of every subject, drawn from the seeded generator."""
    cfg = resolve_config(synthetic_cfg)
    rng = np.random.default_rng(int(cfg["seed"]))
    mean, sd, low, high = HEIGHT_M
    subjects = []
    for index in range(int(cfg["n_subjects"])):
        height = float(np.clip(rng.normal(mean, sd), low, high))
        bmi = float(rng.uniform(*BMI_KG_M2))
        overall = height / GENERIC_HEIGHT_M
        factors = {segment: round(overall * float(1 + SEGMENT_FACTOR_SD * np.clip(rng.standard_normal(), -2, 2)), 4)
                   for segment in SEGMENTS}
        subjects.append(SubjectDesign(f"S{index + 1:02d}", round(height, 3), round(bmi * height**2, 1), factors))
    return subjects


def analysis_window(cfg: dict, condition: str) -> tuple[float, float]:
    """[start_s, end_s]: from just before a right-foot contact to just after the contact
    ``analysis_strides`` strides later, so the window holds whole gait cycles."""
    design = cfg["conditions"][condition]
    stride_s = 1.0 / design["stride_frequency_hz"]
    first_contact = float(cfg["lead_in_s"])
    return round(first_contact - 0.05, 4), round(first_contact + int(cfg["analysis_strides"]) * stride_s + 0.05, 4)


def study_sheets(synthetic_cfg: dict | None, *, inputs_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subjects and trials sheets of the synthetic study (no OpenSim, deterministic).

    They name the files ``generate_subject`` writes under ``inputs_dir``."""
    if inputs_dir is None or str(inputs_dir) == "":
        raise ValueError("inputs_dir must name the folder the synthetic inputs are written to")
    cfg = resolve_config(synthetic_cfg)
    inputs_dir = Path(inputs_dir)
    subjects, trials = [], []
    for person in sample_subjects(cfg):
        subjects.append({"subject": person.subject, "mass_kg": person.mass_kg, "height_m": person.height_m,
                         "static_markers": str(inputs_dir / f"{person.subject}_static.trc"),
                         "static_start_s": 0.0, "static_end_s": float(cfg["static_duration_s"])})
        for condition in cfg["conditions"]:
            trial = f"{condition}_1"
            start, end = analysis_window(cfg, condition)
            trials.append({"subject": person.subject, "trial": trial, "condition": condition,
                           "markers": str(inputs_dir / f"{person.subject}_{trial}.trc"),
                           "grf": str(inputs_dir / f"{person.subject}_{trial}.mot"),
                           "start_s": start, "end_s": end})
    return pd.DataFrame(subjects), pd.DataFrame(trials)


# ------------------------------------------------------------------------ kinematics


def _fourier_coefficients(keyframes: list[tuple[float, float]], harmonics: int) -> np.ndarray:
    """Fourier coefficients of the periodic cubic spline through the keyframes."""
    from scipy.interpolate import CubicSpline

    phases = np.array([p for p, _ in keyframes] + [keyframes[0][0] + 1.0])
    values = np.array([v for _, v in keyframes] + [keyframes[0][1]], dtype=float)
    grid = np.arange(512) / 512
    spline = CubicSpline(phases, values, bc_type="periodic")
    return np.fft.rfft(spline(grid))[: harmonics + 1] / 512


def _fourier_eval(coefficients: np.ndarray, phase: np.ndarray) -> np.ndarray:
    k = np.arange(len(coefficients))
    terms = np.exp(2j * np.pi * np.outer(phase, k)) * coefficients
    return terms[:, 0].real + 2 * terms[:, 1:].real.sum(axis=1)


_FORWARD_SERIES = {name: _fourier_coefficients(frames, FOURIER_HARMONICS) for name, frames in FORWARD_KEYFRAMES_DEG.items()}
FORWARD_DUTY = 0.37  # toe-off phase of the keyframes


def _warp(phase: np.ndarray, duty: float) -> np.ndarray:
    """Smooth, monotonic periodic map of stride phase so that toe-off at ``duty`` lands on
    the keyframes' toe-off (FORWARD_DUTY); a kink-free time warp keeps joint angles smooth."""
    gain = 2 * np.pi * (FORWARD_DUTY - duty) / np.sin(2 * np.pi * duty)
    if abs(gain) >= 0.95:
        raise ValueError(f"duty factor {duty:.2f} is too far from {FORWARD_DUTY} for a smooth time warp")
    return phase + gain * np.sin(2 * np.pi * phase) / (2 * np.pi)


def leg_angles_deg(phase: np.ndarray, *, pattern: str, duty: float) -> dict[str, np.ndarray]:
    """Hip flexion, knee flexion and ankle dorsiflexion (degrees) of one leg at stride
    phases (0 = that leg's contact). Backward = the forward pattern reversed in time:
    backward contact is forward toe-off (hip extended, ankle plantarflexed)."""
    phase = np.mod(np.asarray(phase, dtype=float), 1.0)
    if pattern == "forward":
        canonical = _warp(phase, duty)
    elif pattern == "backward":
        canonical = FORWARD_DUTY - _warp(phase, duty)
    else:
        raise ValueError(f"pattern must be 'forward' or 'backward', got {pattern!r}")
    angles = {name: _fourier_eval(series, np.mod(canonical, 1.0)) for name, series in _FORWARD_SERIES.items()}
    if pattern == "backward":
        angles = {name: value.mean() + BACKWARD_RANGE_SCALE * (value - value.mean()) for name, value in angles.items()}
    return angles


def coordinate_trajectories(time_s: np.ndarray, design: dict, *, first_contact_s: float) -> dict[str, np.ndarray]:
    """Joint coordinates (radians) of both legs and the trunk; right contact at ``first_contact_s``."""
    stride_hz = design["stride_frequency_hz"]
    duty = design["contact_time_s"] * stride_hz
    phase_r = (np.asarray(time_s) - first_contact_s) * stride_hz
    coords = {}
    for side, phase in (("r", phase_r), ("l", phase_r - 0.5)):
        angles = leg_angles_deg(phase, pattern=design["pattern"], duty=duty)
        coords[f"hip_flexion_{side}"] = np.radians(angles["hip_flexion"])
        # OpenSim knee_angle is negative in flexion (gait2392 family)
        coords[f"knee_angle_{side}"] = -np.radians(angles["knee_flexion"])
        coords[f"ankle_angle_{side}"] = np.radians(angles["ankle_dorsiflexion"])
    twice = np.sin(4 * np.pi * phase_r)
    coords["pelvis_tilt"] = np.radians(PELVIS_TILT_DEG[0] + PELVIS_TILT_DEG[1] * twice)
    coords["lumbar_extension"] = np.radians(LUMBAR_EXTENSION_DEG[0] - LUMBAR_EXTENSION_DEG[1] * twice)
    return coords


# -------------------------------------------------------------- centre of mass and GRF


def stance_phase(time_s: np.ndarray, design: dict, *, first_contact_s: float, side: str) -> np.ndarray:
    """Fraction of stance (0..1) of one foot, NaN when that foot is off the ground."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    offset = 0.0 if side == "r" else 0.5 * stride_s
    since_contact = np.mod(np.asarray(time_s) - first_contact_s - offset, stride_s)
    fraction = since_contact / design["contact_time_s"]
    return np.where(fraction < 1.0, fraction, np.nan)


def _vertical_shape(u: np.ndarray, pattern: str) -> np.ndarray:
    """Unnormalised vertical force over stance fraction u (0 outside stance)."""
    u = np.nan_to_num(u, nan=-1.0)
    inside = (u >= 0) & (u < 1)
    active = np.where(inside, np.sin(np.pi * np.clip(u, 0, 1)) ** ACTIVE_SHAPE_EXPONENT[pattern], 0.0)
    impact_u = u / IMPACT_SHARE_OF_STANCE
    impact = np.where(inside & (impact_u < 1), np.sin(np.pi * np.clip(impact_u, 0, 1)) ** 2, 0.0)
    return active + IMPACT_AMPLITUDE[pattern] * impact


def _shape_integrals(pattern: str) -> tuple[float, float]:
    """(mean of the vertical shape over stance, mean of shape * cos(pi u)) by fine quadrature."""
    u = (np.arange(200000) + 0.5) / 200000
    shape = _vertical_shape(u, pattern)
    return float(shape.mean()), float((shape * np.cos(np.pi * u)).mean())


def design_forces(time_s: np.ndarray, design: dict, *, mass_kg: float, first_contact_s: float) -> dict[str, np.ndarray]:
    """Per-foot GRF (N) of the design: '<side>_fx', '<side>_fy', '<side>_u' (stance fraction).

    Each stance's vertical impulse is m g (step time), so gravity is balanced step by
    step; the fore-aft force brakes then propels with zero net impulse, braking against
    the direction of travel."""
    step_s = 0.5 / design["stride_frequency_hz"]
    mean_shape, mean_cos = _shape_integrals(design["pattern"])
    forces = {}
    for side in SIDES:
        u = stance_phase(time_s, design, first_contact_s=first_contact_s, side=side)
        fy = mass_kg * GRAVITY_M_S2 * step_s / design["contact_time_s"] * _vertical_shape(u, design["pattern"]) / mean_shape
        cos_term = np.where(np.isnan(u), 0.0, np.cos(np.pi * np.nan_to_num(u)) - mean_cos / mean_shape)
        forces[f"{side}_fy"] = fy
        forces[f"{side}_fx"] = -design["direction"] * HORIZONTAL_FORCE_RATIO * fy * cos_term
        forces[f"{side}_u"] = u
    return forces


def design_com(time_s: np.ndarray, design: dict, *, mass_kg: float, first_contact_s: float,
               mean_height_m: float) -> dict[str, np.ndarray]:
    """COM position, velocity, acceleration in X and Y from the designed forces.

    Integrated twice on a fine grid over whole strides; the integration constants make
    velocity and height periodic (mean forward speed ``direction * speed``, mean height
    ``mean_height_m``)."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    n_fine = 4000
    fine = first_contact_s + np.arange(n_fine) * stride_s / n_fine  # one stride, periodic
    forces = design_forces(fine, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    acc = {"x": (forces["r_fx"] + forces["l_fx"]) / mass_kg,
           "y": (forces["r_fy"] + forces["l_fy"]) / mass_kg - GRAVITY_M_S2}
    k = np.fft.rfftfreq(n_fine, d=stride_s / n_fine) * 2 * np.pi
    out = {}
    for axis, a in acc.items():
        spectrum = np.fft.rfft(a)
        velocity_spectrum = np.zeros_like(spectrum)
        position_spectrum = np.zeros_like(spectrum)
        velocity_spectrum[1:] = spectrum[1:] / (1j * k[1:])
        position_spectrum[1:] = spectrum[1:] / (1j * k[1:]) ** 2
        mean_velocity = design["direction"] * design["speed_m_s"] if axis == "x" else 0.0
        t = np.asarray(time_s, dtype=float)
        phase = np.mod(t - first_contact_s, stride_s) / stride_s
        out[f"v{axis}"] = _periodic_eval(velocity_spectrum, phase, n_fine) + mean_velocity
        position = _periodic_eval(position_spectrum, phase, n_fine)
        out[axis] = position + (mean_velocity * (t - first_contact_s) if axis == "x" else mean_height_m)
    forces_t = design_forces(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    out["ax"] = (forces_t["r_fx"] + forces_t["l_fx"]) / mass_kg
    out["ay"] = (forces_t["r_fy"] + forces_t["l_fy"]) / mass_kg - GRAVITY_M_S2
    return out


def _periodic_eval(spectrum: np.ndarray, phase: np.ndarray, n: int) -> np.ndarray:
    """Evaluate a real periodic signal given by its rfft at arbitrary phases (0..1)."""
    k = np.arange(len(spectrum))
    weights = np.full(len(spectrum), 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    values = np.zeros(len(phase))
    for start in range(0, len(phase), 2000):  # chunks keep the phase table small
        block = np.exp(2j * np.pi * np.outer(phase[start:start + 2000], k))
        values[start:start + 2000] = (block * (weights * spectrum)).real.sum(axis=1) / n
    return values


# ------------------------------------------------------------------- OpenSim: bodies


# Centre of pressure along the sole, as a share of the heel -> toe-tip line. Forward:
# rearfoot contact, the COP rolls to the forefoot. Backward: forefoot contact with the
# ankle plantarflexed (Threlkeld et al. 1989); the COP moves back towards the heel as
# the heel lowers, the forward path reversed in time (design values).
COP_PATH = {"forward": (0.0, 0.78), "backward": (0.82, 0.35)}
TOE_TIP_BEYOND_MTP = 0.33  # toe tip beyond the MTP joint, as a share of heel -> MTP


def cop_share(u: np.ndarray, pattern: str) -> np.ndarray:
    """Position of the COP along the sole (0 heel, 1 toe tip) at stance fraction u."""
    start, other = COP_PATH[pattern]
    u = np.clip(np.nan_to_num(u), 0, 1)
    if pattern == "forward":
        return start + (other - start) * np.sin(0.5 * np.pi * u)
    return other + (start - other) * np.cos(0.5 * np.pi * u)


def _osim():
    import opensim as osim

    osim.Logger.setLevelString("warn")
    return osim


class PoseProbe:
    """Poses a model from coordinate arrays and reads COM, markers and foot points."""

    def __init__(self, model):
        self.model = model
        self.state = model.initSystem()
        self.coordinates = {c.getName(): c for c in model.getCoordinateSet()}
        self.bodies = {b.getName(): b for b in model.getBodySet()}
        osim = _osim()
        self.heel, self.toe_tip = {}, {}
        for side in SIDES:
            # sole line in the calcaneus frame: heel (calcn origin) to the toe tip
            mtp = model.getJointSet().get(f"mtp_{side}").getParentFrame().findTransformInBaseFrame().p()
            mtp = np.array([mtp.get(i) for i in range(3)])
            self.heel[side] = np.zeros(3)
            self.toe_tip[side] = mtp * (1 + TOE_TIP_BEYOND_MTP)
        self._vec3 = osim.Vec3

    def set_pose(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.coordinates[name].setValue(self.state, float(value), False)
        self.model.realizePosition(self.state)

    def com(self) -> np.ndarray:
        p = self.model.calcMassCenterPosition(self.state)
        return np.array([p.get(0), p.get(1), p.get(2)])

    def sole_point(self, side: str, share: float) -> np.ndarray:
        local = (1 - share) * self.heel[side] + share * self.toe_tip[side]
        p = self.bodies[f"calcn_{side}"].findStationLocationInGround(self.state, self._vec3(*local))
        return np.array([p.get(0), p.get(1), p.get(2)])

    def central_angular_momentum(self, speeds: dict[str, float]) -> float:
        """Whole-body angular momentum about the COM (z, kg m^2/s) at the current pose."""
        for name, coordinate in self.coordinates.items():
            coordinate.setSpeedValue(self.state, float(speeds.get(name, 0.0)))
        self.model.realizeVelocity(self.state)
        return self.model.getMatterSubsystem().calcSystemCentralMomentum(self.state).get(0).get(2)

    def sole_length(self, side: str) -> float:
        return float(np.linalg.norm(self.toe_tip[side] - self.heel[side]))

    def markers(self) -> dict[str, np.ndarray]:
        out = {}
        for marker in self.model.getMarkerSet():
            p = marker.getLocationInGround(self.state)
            out[marker.getName()] = np.array([p.get(0), p.get(1), p.get(2)])
        return out


def balance_angular_momentum(model, design: dict, *, mass_kg: float, iterations: int = 5, n: int = 600) -> dict:
    """Pelvis-tilt correction (Fourier spectrum over one stride) and COP shift along the
    sole (share of the sole) such that dH/dt = moment of the GRF about the COM.

    Solved on one stride: the residual R = dH/dt - M_grf is removed by a pelvis tilt
    with I * theta'' = -R (I = whole-body inertia about the COM), its stride mean
    (the net angular impulse, which no periodic motion can absorb) by moving the COP."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    grid = np.arange(n) * stride_s / n
    omega = 2 * np.pi * np.fft.rfftfreq(n, d=stride_s / n)
    balance = {"tilt_spectrum": np.zeros(n // 2 + 1, dtype=complex), "n": n, "cop_shift": 0.0}
    probe = PoseProbe(model)
    for _ in range(iterations):
        kin = trial_kinematics(model, design, time_s=grid, mass_kg=mass_kg, first_contact_s=0.0, balance=balance)
        coords = kin["coordinates"]
        rotations = [name for name in coords if name not in ("pelvis_tx", "pelvis_ty")]
        # translations do not change the angular momentum about the COM
        speeds = {name: np.fft.irfft(1j * omega * np.fft.rfft(coords[name]), n) for name in rotations}
        momentum = np.zeros(n)
        for i in range(n):
            probe.set_pose(_frames(coords, i))
            momentum[i] = probe.central_angular_momentum(_frames(speeds, i))
        probe.set_pose({"pelvis_tilt": coords["pelvis_tilt"][0]})
        inertia = probe.central_angular_momentum({"pelvis_tilt": 1.0})
        rate = np.fft.irfft(1j * omega * np.fft.rfft(momentum), n)
        grf_moment = sum((np.nan_to_num(kin["cop"][s][:, 0]) - kin["com"]["x"]) * kin["forces"][f"{s}_fy"]
                         + kin["com"]["y"] * kin["forces"][f"{s}_fx"] for s in SIDES)
        residual = rate - grf_moment
        balance["cop_shift"] += float(residual.mean()) / (mass_kg * GRAVITY_M_S2) / probe.sole_length("r")
        spectrum = np.fft.rfft(residual - residual.mean())
        spectrum[1:] = -spectrum[1:] / inertia / (1j * omega[1:]) ** 2
        balance["tilt_spectrum"] = balance["tilt_spectrum"] + spectrum
        balance["residual_rms_nm"] = float(np.sqrt(np.mean(residual**2)))
    return balance


def _frames(coords: dict[str, np.ndarray], index: int) -> dict[str, float]:
    return {name: values[index] for name, values in coords.items()}


def trial_kinematics(model, design: dict, *, time_s: np.ndarray, mass_kg: float, first_contact_s: float,
                     balance: dict | None = None) -> dict:
    """True coordinates (pelvis placed so the COM follows the design), per-foot GRF with
    the COP on the stance foot's sole, and the stance sole heights, at ``time_s``.

    ``balance`` (from balance_angular_momentum) adds a pelvis-tilt correction and a COP
    shift along the sole that make the whole-body angular momentum consistent with the
    GRF, so inverse dynamics leaves no residual pelvis moment either."""
    probe = PoseProbe(model)
    coords = coordinate_trajectories(time_s, design, first_contact_s=first_contact_s)
    stride_s = 1.0 / design["stride_frequency_hz"]
    if balance is not None:
        phase = np.mod(np.asarray(time_s) - first_contact_s, stride_s) / stride_s
        coords["pelvis_tilt"] = coords["pelvis_tilt"] + _periodic_eval(balance["tilt_spectrum"], phase, balance["n"])
    coords["pelvis_tx"] = np.zeros(len(time_s))
    coords["pelvis_ty"] = np.zeros(len(time_s))
    forces = design_forces(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    offsets = np.zeros((len(time_s), 3))
    soles = {side: np.full((len(time_s), 3), np.nan) for side in SIDES}
    shift = 0.0 if balance is None else balance["cop_shift"]
    shares = {side: cop_share(forces[f"{side}_u"], design["pattern"]) + shift for side in SIDES}
    for i in range(len(time_s)):
        probe.set_pose(_frames(coords, i))
        offsets[i] = probe.com()
        for side in SIDES:
            if not np.isnan(forces[f"{side}_u"][i]):
                soles[side][i] = probe.sole_point(side, shares[side][i])
    # The floor is at y = 0: the COM's mean height is set so the stance sole, averaged
    # over stance, sits on it (the pelvis offset does not depend on pelvis translation).
    com = design_com(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s, mean_height_m=0.0)
    relative_sole = np.concatenate([soles[s][~np.isnan(soles[s][:, 1]), 1] + com["y"][~np.isnan(soles[s][:, 1])]
                                    - offsets[~np.isnan(soles[s][:, 1]), 1] for s in SIDES])
    mean_height = -float(np.mean(relative_sole))
    com["y"] = com["y"] + mean_height
    coords["pelvis_tx"] = com["x"] - offsets[:, 0]
    coords["pelvis_ty"] = com["y"] - offsets[:, 1]
    result = {"coordinates": coords, "forces": forces, "com": com, "cop": {}, "sole_height_m": {}, "time_s": time_s}
    for side in SIDES:
        # the sole point moves with the pelvis translation
        shifted = soles[side] + np.column_stack([coords["pelvis_tx"], coords["pelvis_ty"], np.zeros(len(time_s))])
        result["sole_height_m"][side] = shifted[:, 1]
        cop = shifted.copy()
        cop[:, 1] = 0.0
        result["cop"][side] = cop
    return result


# ---------------------------------------------------------------- OpenSim: subjects


def true_model(generic_model: str | Path, person: SubjectDesign):
    """The generic model scaled by the subject's per-segment factors and mass."""
    osim = _osim()
    model = osim.Model(str(generic_model))
    state = model.initSystem()
    scale_set = osim.ScaleSet()
    for segment, bodies in SEGMENTS.items():
        for body in bodies:
            if not model.getBodySet().contains(body):
                raise ConfigError(f"the generic model {generic_model} has no body '{body}' (segment '{segment}')",
                                  fix="use the demo model or a model with the gait2392 body names")
            scale = osim.Scale()
            scale.setSegmentName(body)
            scale.setScaleFactors(osim.Vec3(person.scale_factors[segment]))
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


def marker_table(model, coords: dict[str, np.ndarray], time_s: np.ndarray, *, noise_m: float,
                 rng: np.random.Generator, rate_hz: float) -> MarkerTable:
    """Marker positions by forward kinematics of the model, plus Gaussian noise."""
    probe = PoseProbe(model)
    names = [m.getName() for m in model.getMarkerSet()]
    if not names:
        raise ConfigError(f"model {model.getName()} has no markers", fix="use a generic model with a marker set")
    positions = {name: np.zeros((len(time_s), 3)) for name in names}
    for i in range(len(time_s)):
        probe.set_pose(_frames(coords, i))
        for name, xyz in probe.markers().items():
            positions[name][i] = xyz
    for name in names:
        positions[name] = positions[name] + rng.normal(0.0, noise_m, positions[name].shape)
    return MarkerTable(np.asarray(time_s, dtype=float), positions, float(rate_hz))


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


def _resample(coords: dict[str, np.ndarray], time_s: np.ndarray, new_time_s: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.interpolate import CubicSpline

    return {name: CubicSpline(time_s, values)(new_time_s) for name, values in coords.items()}


def truth_paths(truth_dir: str | Path, trials: list[str]) -> dict[str, Path]:
    """Every truth file of one subject, by key."""
    truth_dir = Path(truth_dir)
    paths = {"model": truth_dir / "true_model.osim", "subject": truth_dir / "subject.json",
             "scale_factors": truth_dir / "scale_factors.csv", "segment_lengths": truth_dir / "segment_lengths.csv"}
    for trial in trials:
        paths[f"{trial}/coordinates"] = truth_dir / f"{trial}_coordinates.csv"
        paths[f"{trial}/coordinates_mot"] = truth_dir / f"{trial}_coordinates.mot"
        paths[f"{trial}/grf"] = truth_dir / f"{trial}_grf.mot"
    return paths


def generate_subject(synthetic_cfg: dict | None, *, subject: str, generic_model: str | Path,
                     inputs_dir: str | Path, truth_dir: str | Path) -> dict:
    """Write one subject's static trial, running trials (TRC + GRF .mot) and truth files.

    Returns a summary (timings, sole heights) for the job log."""
    cfg = resolve_config(synthetic_cfg)
    people = {p.subject: (i, p) for i, p in enumerate(sample_subjects(cfg))}
    if subject not in people:
        raise ValueError(f"subject must be one of {', '.join(people)}, got {subject!r}")
    index, person = people[subject]
    inputs_dir, truth_dir = Path(inputs_dir), Path(truth_dir)
    model = true_model(generic_model, person)
    trials = [f"{c}_1" for c in cfg["conditions"]]
    truth = truth_paths(truth_dir, trials)
    truth_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(truth["model"]) as tmp:
        model.printToXML(str(tmp))
    with atomic_path(truth["subject"]) as tmp:
        tmp.write_text(json.dumps(asdict(person), indent=2))
    write_csv(truth["scale_factors"], pd.DataFrame(
        [{"segment": seg, "body": body, "factor": person.scale_factors[seg]} for seg, bodies in SEGMENTS.items() for body in bodies]))
    write_csv(truth["segment_lengths"], pd.DataFrame(
        [{"segment": name, "length_m": value} for name, value in segment_lengths(model).items()]))

    marker_rate, grf_rate = float(cfg["marker_rate_hz"]), float(cfg["grf_rate_hz"])
    rng = np.random.default_rng([int(cfg["seed"]), index])
    static_time = np.arange(int(round(float(cfg["static_duration_s"]) * marker_rate)) + 1) / marker_rate
    pose = standing_pose(model)
    static = marker_table(model, {k: np.full(len(static_time), v) for k, v in pose.items()}, static_time,
                          noise_m=float(cfg["marker_noise_m"]), rng=rng, rate_hz=marker_rate)
    write_trc(inputs_dir / f"{subject}_static.trc", static)

    summary = {"subject": subject, "mass_kg": person.mass_kg, "height_m": person.height_m, "trials": {}}
    for trial, (condition, design) in zip(trials, cfg["conditions"].items()):
        duration = float(cfg["trial_duration_s"])
        grf_time = np.arange(int(round(duration * grf_rate)) + 1) / grf_rate
        marker_time = np.arange(int(round(duration * marker_rate)) + 1) / marker_rate
        balance = balance_angular_momentum(model, design, mass_kg=person.mass_kg)
        kin = trial_kinematics(model, design, time_s=grf_time, mass_kg=person.mass_kg,
                               first_contact_s=float(cfg["lead_in_s"]), balance=balance)
        coords_m = _resample(kin["coordinates"], grf_time, marker_time)
        markers = marker_table(model, coords_m, marker_time, noise_m=float(cfg["marker_noise_m"]), rng=rng,
                               rate_hz=marker_rate)
        write_trc(inputs_dir / f"{subject}_{trial}.trc", markers)
        write_storage(inputs_dir / f"{subject}_{trial}.mot",
                      grf_storage_table(kin, noise_n=float(cfg["grf_noise_n"]), rng=rng), in_degrees=False,
                      name=f"{subject}_{trial}_grf")
        write_storage(truth[f"{trial}/grf"], grf_storage_table(kin, noise_n=0.0, rng=None), in_degrees=False,
                      name=f"{subject}_{trial}_grf_true")
        write_csv(truth[f"{trial}/coordinates"], coordinates_table(coords_m, marker_time))
        mot = coordinates_table(kin["coordinates"], grf_time).rename(columns=_storage_name)
        write_storage(truth[f"{trial}/coordinates_mot"], mot, in_degrees=True, name=f"{subject}_{trial}_true")
        stance = {s: ~np.isnan(kin["forces"][f"{s}_u"]) for s in SIDES}
        summary["trials"][trial] = {
            "condition": condition,
            "cop_shift_share_of_sole": balance["cop_shift"],
            "angular_momentum_residual_rms_nm": balance["residual_rms_nm"],
            "pelvis_tilt_range_deg": float(np.degrees(np.ptp(kin["coordinates"]["pelvis_tilt"]))),
            "sole_height_in_stance_m": [float(min(kin["sole_height_m"][s][stance[s]].min() for s in SIDES)),
                                        float(max(kin["sole_height_m"][s][stance[s]].max() for s in SIDES))],
            "peak_vertical_grf_bw": float(max(kin["forces"][f"{s}_fy"].max() for s in SIDES)
                                          / (person.mass_kg * GRAVITY_M_S2)),
        }
    return summary


def _storage_name(column: str) -> str:
    if column == "time_s":
        return "time"
    return column.rsplit("_", 1)[0]


# ------------------------------------------------------------------ consistency check


def write_external_loads(path: str | Path, *, grf_mot: str | Path) -> None:
    """ExternalLoads applying the demo GRF columns to calcn_r / calcn_l, in ground."""
    osim = _osim()
    loads = osim.ExternalLoads()
    loads.setDataFileName(str(Path(grf_mot).resolve()))
    for side in SIDES:
        force = osim.ExternalForce()
        force.setName(f"ground_force_{side}")
        force.set_applied_to_body(f"calcn_{side}")
        force.set_force_expressed_in_body("ground")
        force.set_point_expressed_in_body("ground")
        force.set_force_identifier(f"ground_force_{side}_v")
        force.set_point_identifier(f"ground_force_{side}_p")
        force.set_torque_identifier(f"ground_torque_{side}_")
        loads.cloneAndAppend(force)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        loads.printToXML(str(tmp))


def root_residuals(*, model_path: str | Path, coordinates_mot: str | Path, grf_mot: str | Path,
                   work_dir: str | Path, time_range: tuple[float, float]) -> pd.DataFrame:
    """OpenSim's InverseDynamicsTool on the given coordinates and GRF: its generalized
    forces, with the root residual force magnitude (N) and the total GRF magnitude (N)."""
    from . import opensim_tools, tables
    from .formats import read_storage

    work = Path(work_dir)
    write_external_loads(work / "external_loads.xml", grf_mot=grf_mot)
    opensim_tools.inverse_dynamics(model_path=str(model_path), coordinates_mot=str(coordinates_mot),
                                   external_loads_xml=str(work / "external_loads.xml"), time_range=time_range,
                                   out_sto=str(work / "id.sto"), work_dir=str(work), name="truth_id",
                                   subject="", trial="")
    forces = tables.generalized_forces_table(read_storage(work / "id.sto")[0])
    grf, _ = read_storage(grf_mot)
    total = sum(grf[[GRF_SIDE_COLUMNS["force"].format(side=s, axis=a) for a in "xyz"]].to_numpy() for s in SIDES)
    magnitude = np.linalg.norm(total, axis=1)
    forces["grf_n"] = np.interp(forces["time_s"], grf["time"], magnitude)
    forces["root_residual_n"] = np.hypot(forces["pelvis_tx_force_n"], forces["pelvis_ty_force_n"])
    return forces


# ------------------------------------------------------------------- measured timing


def grf_sides_table(grf_storage: pd.DataFrame) -> pd.DataFrame:
    """A demo GRF .mot table (ground_force_<side>_v* ...) in the contract's grf.csv form:
    time_s, <side>_force_{x,y,z}_n, <side>_cop_{x,y,z}_m."""
    table = {"time_s": grf_storage["time"].to_numpy()}
    for side in SIDES:
        for axis in "xyz":
            table[f"{side}_force_{axis}_n"] = grf_storage[GRF_SIDE_COLUMNS["force"].format(side=side, axis=axis)].to_numpy()
        for axis in "xyz":
            table[f"{side}_cop_{axis}_m"] = grf_storage[GRF_SIDE_COLUMNS["point"].format(side=side, axis=axis)].to_numpy()
    return pd.DataFrame(table)


def contacts(grf_table: pd.DataFrame, *, threshold_n: float, side: str) -> list[tuple[int, int]]:
    """(first, last) loaded row of every complete contact of one foot (strike and toe off
    both inside the table), as the pipeline's own event detector finds them."""
    column = events.vertical_force_column(side)
    if column not in grf_table.columns:
        raise ValueError(f"grf_table lacks column '{column}' (has {', '.join(grf_table.columns)})")
    time_s = grf_table["time_s"].to_numpy()
    found = events.detect_contacts(time_s, grf_table[column].to_numpy(), threshold_n=threshold_n).dropna()
    # each crossing lies between two samples: the loaded ones are those inside it
    firsts = np.searchsorted(time_s, found["strike_s"].to_numpy(), side="left")
    lasts = np.searchsorted(time_s, found["toe_off_s"].to_numpy(), side="right") - 1
    return [(int(first), int(last)) for first, last in zip(firsts, lasts)]


def timing_summary(grf_table: pd.DataFrame, *, threshold_n: float, sides: tuple[str, ...] = SIDES) -> dict:
    """Running timing measured from a GRF table (grf.csv form): mean contact time (s),
    mean flight time between consecutive contacts of alternate feet (s), step frequency
    (steps/s), and mean signed COP travel over a contact along +X (m; positive = the
    COP moves towards the runner's front when facing +X, i.e. heel to toe)."""
    time_s = grf_table["time_s"].to_numpy()
    events = []
    travel = []
    for side in sides:
        for first, last in contacts(grf_table, threshold_n=threshold_n, side=side):
            events.append((time_s[first], time_s[last], side))
            cop = grf_table[f"{side}_cop_x_m"].to_numpy()
            travel.append(cop[last] - cop[first])
    if len(events) < 2:
        raise ValueError(f"grf_table holds fewer than two complete contacts above {threshold_n} N")
    events.sort()
    flights = [nxt[0] - cur[1] for cur, nxt in zip(events, events[1:]) if nxt[2] != cur[2]]
    starts = np.array([e[0] for e in events])
    return {
        "n_contacts": len(events),
        "contact_time_s": float(np.mean([e[1] - e[0] for e in events])),
        "flight_time_s": float(np.mean(flights)) if flights else float("nan"),
        "step_frequency_hz": float(1.0 / np.mean(np.diff(starts))),
        "cop_travel_m": float(np.mean(travel)),
    }


def contact_cop_share(grf_table: pd.DataFrame, markers: MarkerTable, *, side: str, heel_marker: str, toe_marker: str,
                      threshold_n: float) -> float:
    """Mean position of the COP at the first loaded sample of each contact, as a share of
    the heel -> toe marker distance along X (0 = under the heel marker, 1 = under the toe)."""
    for name in (heel_marker, toe_marker):
        if name not in markers.positions_m:
            raise ValueError(f"marker '{name}' is not in the marker table (has {', '.join(markers.marker_names)})")
    time_s = grf_table["time_s"].to_numpy()
    shares = []
    for first, _ in contacts(grf_table, threshold_n=threshold_n, side=side):
        t = time_s[first]
        heel = np.interp(t, markers.time_s, markers.positions_m[heel_marker][:, 0])
        toe = np.interp(t, markers.time_s, markers.positions_m[toe_marker][:, 0])
        shares.append((grf_table[f"{side}_cop_x_m"].iloc[first] - heel) / (toe - heel))
    if not shares:
        raise ValueError(f"no complete contact of side '{side}' above {threshold_n} N")
    return float(np.mean(shares))


# -------------------------------------------------------------- ground-truth check


def _window(table: pd.DataFrame, start_s: float | None, end_s: float | None) -> pd.DataFrame:
    keep = np.ones(len(table), dtype=bool)
    if start_s is not None:
        keep &= table["time_s"].to_numpy() >= start_s - 1e-9
    if end_s is not None:
        keep &= table["time_s"].to_numpy() <= end_s + 1e-9
    return table[keep]


def ik_errors(ik: pd.DataFrame, truth: pd.DataFrame, *, start_s: float | None, end_s: float | None) -> dict[str, float]:
    """RMS error (degrees) of every rotational coordinate over the analysis window,
    the truth interpolated to the IK times."""
    ik = _window(ik, start_s, end_s)
    errors = {}
    for column in ik.columns:
        if column.endswith("_deg") and column in truth.columns:
            true = np.interp(ik["time_s"], truth["time_s"], truth[column])
            errors[column[: -len("_deg")]] = float(np.sqrt(np.mean((ik[column].to_numpy() - true) ** 2)))
    return errors


def root_residual_share(id_forces: pd.DataFrame, grf: pd.DataFrame, *, threshold_n: float, start_s: float | None,
                        end_s: float | None, root_forces: tuple[str, ...] = ("pelvis_tx_force_n", "pelvis_ty_force_n"),
                        sides: tuple[str, ...] = SIDES) -> tuple[float, float]:
    """(peak root residual force in stance (N), peak GRF magnitude (N)) over the window."""
    missing = [c for c in root_forces if c not in id_forces.columns]
    if missing:
        raise ValueError(f"id_forces lacks the root force column(s) {', '.join(missing)}")
    id_forces = _window(id_forces, start_s, end_s)
    grf = _window(grf, start_s, end_s)
    total = sum(grf[[f"{s}_force_{a}_n" for a in "xyz"]].to_numpy() for s in sides)
    magnitude = np.linalg.norm(np.nan_to_num(total), axis=1)
    vertical = np.interp(id_forces["time_s"], grf["time_s"], np.nan_to_num(total[:, 1]))
    residual = np.linalg.norm(id_forces[list(root_forces)].to_numpy(), axis=1)
    stance = vertical > threshold_n
    return float(residual[stance].max()) if stance.any() else float("nan"), float(magnitude.max())


def ground_truth_rows(*, subject: str, truth_dir: str | Path, scaled_model: str | Path, trials: dict[str, dict],
                      ik_threshold_deg: float = 2.0, length_threshold_pct: float = 3.0,
                      residual_threshold_pct: float = 5.0, contact_threshold_n: float = 20.0) -> pd.DataFrame:
    """Compare one subject's pipeline outputs with the truth.

    ``trials``: trial -> {ik_coordinates, id_forces, grf (paths to the pipeline's csv
    files), start_s, end_s}. Rows: subject, trial, check, quantity, value, threshold,
    unit, pass."""
    for name, value in (("ik_threshold_deg", ik_threshold_deg), ("length_threshold_pct", length_threshold_pct),
                        ("residual_threshold_pct", residual_threshold_pct)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    osim = _osim()
    truth = truth_paths(truth_dir, list(trials))
    rows = []
    true_lengths = pd.read_csv(truth["segment_lengths"]).set_index("segment")["length_m"]
    scaled = segment_lengths(osim.Model(str(scaled_model)))
    for segment, true_length in true_lengths.items():
        error = 100.0 * abs(scaled[segment] - true_length) / true_length
        rows.append({"subject": subject, "trial": "", "check": "segment_length_error", "quantity": segment,
                     "value": error, "threshold": length_threshold_pct, "unit": "%"})
    for trial, files in trials.items():
        ik = pd.read_csv(files["ik_coordinates"])
        true_coords = pd.read_csv(truth[f"{trial}/coordinates"])
        for coordinate, rms in ik_errors(ik, true_coords, start_s=files.get("start_s"), end_s=files.get("end_s")).items():
            rows.append({"subject": subject, "trial": trial, "check": "ik_rms_error", "quantity": coordinate,
                         "value": rms, "threshold": ik_threshold_deg, "unit": "deg"})
        peak_residual, peak_grf = root_residual_share(pd.read_csv(files["id_forces"]), pd.read_csv(files["grf"]),
                                                      threshold_n=contact_threshold_n, start_s=files.get("start_s"),
                                                      end_s=files.get("end_s"))
        rows.append({"subject": subject, "trial": trial, "check": "root_residual_force", "quantity": "peak_in_stance_share_of_peak_grf",
                     "value": 100.0 * peak_residual / peak_grf, "threshold": residual_threshold_pct, "unit": "%"})
    table = pd.DataFrame(rows, columns=["subject", "trial", "check", "quantity", "value", "threshold", "unit"])
    table["pass"] = table["value"] <= table["threshold"]
    return table
