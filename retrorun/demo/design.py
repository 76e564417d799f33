"""The demo study's design: its config, its subjects (body, speed, timing, joint ranges)
and the subjects and trials sheets the ordinary study loader reads. No OpenSim here."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..formats import atomic_path

GRAVITY_M_S2 = 9.80665

DEFAULTS = {
    "seed": 2012,
    "n_subjects": 8,
    "marker_noise_m": 0.001,  # optical motion capture noise is about 1 mm
    "grf_noise_n": 2.0,  # force-plate noise, added to loaded samples only
    # Skin-marker placement error per marker and subject (SD per in-plane axis, m; see
    # subjects.PLACEMENT_SD_M for the source); 0 puts every marker where the model has it.
    "marker_placement_sd_m": 0.005,
    # Soft-tissue artefact of thigh and shank markers, as a share of the published
    # magnitude (subjects.SOFT_TISSUE_M_PER_RAD); 0 turns it off.
    "soft_tissue_scale": 1.0,
    # Between-subject spread of speed, stride and contact timing, joint ranges and
    # segment proportions, as a share of the published spread (SUBJECT_SPREAD); 0 gives
    # every subject the mean design.
    "between_subject_scale": 1.0,
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

# Mean timing per running pattern at 3 m/s.
# Forward: stance about 35-40 % of the stride at about 1.4 Hz stride frequency
# (Cavanagh & Kram 1989, Med Sci Sports Exerc 21:467; Novacheck 1998, Gait Posture 7:77):
# 0.265 s contact at 1.4 Hz is 37 % of the stride, which leaves 0.092 s of flight a step.
# Backward: higher step frequency and shorter contact (Cavagna, Legramandi & La Torre
# 2012, J Exp Biol 215:75; Wright & Weyand 2001, J Exp Biol 204:1805) and an aerial
# time 0.098/0.072 = 1.36 times the forward one (Cavagna 2012): 1.5 Hz and 0.208 s
# give 0.125 s of flight (1.36 x 0.092 s).
# range_scale: backward strides have smaller joint ranges of motion than forward ones
# (Arata 1999, Univ. of Oregon thesis; Threlkeld et al. 1989, JOSPT 11:56).
PATTERN_TIMING = {
    "forward": {"stride_frequency_hz": 1.40, "contact_time_s": 0.265, "range_scale": 1.0},
    "backward": {"stride_frequency_hz": 1.50, "contact_time_s": 0.208, "range_scale": 0.9},
}

# Between-subject spread (SD, relative) at a fixed running speed; each subject has one
# factor shared by both conditions (a runner's own style) and a smaller one per
# condition (how that runner adapts to running backward), which makes the paired
# forward-backward differences vary between subjects as they do in a real study.
# Stride frequency and contact time vary about 5 % and 7 % between recreational
# runners at one speed (Cavanagh & Kram 1989, Med Sci Sports Exerc 21:467: stride
# length SD about 5 %; de Ruiter et al. 2014, Eur J Sport Sci 14:251: contact time
# 0.25 +- 0.02 s at 3 m/s); sagittal joint ranges about 6-8 % (Novacheck 1998,
# Gait Posture 7:77; Roos et al. 2012, J Biomech 45:1656: knee flexion at the moment
# peak 44 +- 6 deg). Speed: within +-0.2 m/s of the matched 3.0 m/s (uniform).
SUBJECT_SPREAD = {
    "stride_frequency_hz": (0.05, 0.02),  # (shared SD, per-condition SD), relative
    "contact_time_s": (0.07, 0.03),
    "range_scale": (0.07, 0.03),
}
SPEED_SPREAD_M_S = 0.2

# Anthropometry of the synthetic runners. Height: the adult male mean and SD of the US
# reference population (175.3 cm, SD about 7 cm; Fryar et al. 2021, NCHS Vital Health
# Stat 3(46)); body-mass index 20-24 kg/m^2 (lean recreational runners, design value).
HEIGHT_M = (1.75, 0.07, 1.60, 1.92)  # mean, SD, min, max
BMI_KG_M2 = (20.0, 24.0)
# Segment proportions: segment lengths relative to stature vary about 3 % (SD) between
# adults (Drillis, Contini & Bluestein 1964, Artif Limbs 8:44), and segment breadths
# vary independently of lengths (Gordon et al. 2014, ANSUR II, NATICK/TR-15/007):
# a segment's length factor and its breadth/depth factor are drawn separately, so the
# scaling of a generic model (one factor per segment from marker distances) cannot
# reproduce a subject exactly.
SEGMENT_LENGTH_SD = 0.03
SEGMENT_BREADTH_SD = 0.03
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
LENGTH_AXIS = {"pelvis": 1, "femur": 1, "tibia": 1, "foot": 0, "torso": 1}  # body-frame axis along the segment
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
        raise ConfigError(
            f"unknown key(s) under 'synthetic': {', '.join(unknown)}",
            fix=f"use only {', '.join(sorted(DEFAULTS))} (config/README.md)",
        )
    cfg.update(given)
    if conditions is not None:
        cfg["conditions"] = conditions
    if not cfg["conditions"]:
        raise ConfigError(
            "synthetic.conditions is empty", fix="name at least one condition, e.g. forward: {speed_m_s: 3.0}"
        )
    for key in ("marker_rate_hz", "grf_rate_hz", "trial_duration_s", "static_duration_s"):
        if not float(cfg[key]) > 0:
            raise ConfigError(
                f"synthetic.{key} must be > 0, got {cfg[key]}", fix=f"set synthetic.{key} to a positive number"
            )
    for key in (
        "marker_noise_m",
        "grf_noise_n",
        "lead_in_s",
        "marker_placement_sd_m",
        "soft_tissue_scale",
        "between_subject_scale",
    ):
        if float(cfg[key]) < 0:
            raise ConfigError(f"synthetic.{key} must be >= 0, got {cfg[key]}", fix=f"set synthetic.{key} to 0 or more")
    if int(cfg["n_subjects"]) < 1 or int(cfg["analysis_strides"]) < 1:
        raise ConfigError(
            "synthetic.n_subjects and synthetic.analysis_strides must be >= 1", fix="set them to 1 or more"
        )
    cfg["conditions"] = {name: condition_design(name, spec) for name, spec in cfg["conditions"].items()}
    for name, design in cfg["conditions"].items():
        # the slowest stride a subject can get: 2.5 SD below the mean frequency
        slowest_hz = design["stride_frequency_hz"] * (1 - 2.5 * _spread(cfg, "stride_frequency_hz"))
        needed = float(cfg["lead_in_s"]) + int(cfg["analysis_strides"]) / slowest_hz + 0.5
        if needed > float(cfg["trial_duration_s"]):
            raise ConfigError(
                f"synthetic.trial_duration_s {cfg['trial_duration_s']} s is too short for condition '{name}': "
                f"lead-in, {cfg['analysis_strides']} strides and 0.5 s of margin need {needed:.2f} s",
                fix="raise synthetic.trial_duration_s or lower analysis_strides / lead_in_s",
            )
    return cfg


def _spread(cfg: dict, key: str) -> float:
    shared, own = SUBJECT_SPREAD[key]
    return float(cfg["between_subject_scale"]) * float(np.hypot(shared, own))


def condition_design(name: str, spec: dict | None) -> dict:
    """Complete one condition: speed_m_s, direction (+1 progresses in +X, -1 in -X),
    pattern (forward | backward kinematics), stride_frequency_hz, contact_time_s,
    range_scale (joint ranges relative to the forward keyframes)."""
    spec = dict(spec or {})
    pattern = spec.get("pattern", name if name in PATTERN_TIMING else None)
    if pattern not in PATTERN_TIMING:
        raise ConfigError(
            f"synthetic.conditions.{name}: pattern '{pattern}' is not one of {', '.join(PATTERN_TIMING)}",
            fix=f"add pattern: forward or pattern: backward to synthetic.conditions.{name}",
        )
    design = {"pattern": pattern, "speed_m_s": 3.0, "direction": 1 if pattern == "forward" else -1}
    design.update(PATTERN_TIMING[pattern])
    unknown = sorted(set(spec) - set(design))
    if unknown:
        raise ConfigError(
            f"synthetic.conditions.{name}: unknown key(s) {', '.join(unknown)}",
            fix=f"use only {', '.join(sorted(design))}",
        )
    design.update(spec)
    design = {k: (v if k == "pattern" else float(v)) for k, v in design.items()}
    if design["direction"] not in (1.0, -1.0):
        raise ConfigError(
            f"synthetic.conditions.{name}.direction must be 1 or -1, got {design['direction']}",
            fix="1 = progress along +X, -1 = along -X (the runner faces +X in both)",
        )
    if design["speed_m_s"] <= 0 or design["stride_frequency_hz"] <= 0 or design["range_scale"] <= 0:
        raise ConfigError(
            f"synthetic.conditions.{name}: speed_m_s, stride_frequency_hz and range_scale must be > 0",
            fix="set positive values",
        )
    step_s = 0.5 / design["stride_frequency_hz"]
    if not 0 < design["contact_time_s"] < step_s:
        raise ConfigError(
            f"synthetic.conditions.{name}: contact_time_s {design['contact_time_s']} must be between 0 and "
            f"the step time {step_s:.3f} s (running has a flight phase)",
            fix="lower contact_time_s or stride_frequency_hz",
        )
    return design


def trial_names(synthetic_cfg: dict | None) -> list[str]:
    """Trial ids, the same for every subject: '<condition>_1'."""
    return [f"{name}_1" for name in resolve_config(synthetic_cfg)["conditions"]]


# ------------------------------------------------------------------------ subjects


@dataclass(frozen=True)
class SubjectDesign:
    subject: str
    height_m: float
    mass_kg: float
    scale_factors: dict  # segment -> [x, y, z] factors (body frame)
    conditions: dict = field(default_factory=dict)  # condition -> this subject's design


def sample_subjects(synthetic_cfg: dict | None) -> list[SubjectDesign]:
    """Every subject's body and per-condition design, drawn from the seeded generator."""
    cfg = resolve_config(synthetic_cfg)
    rng = np.random.default_rng(int(cfg["seed"]))
    spread = float(cfg["between_subject_scale"])
    mean, sd, low, high = HEIGHT_M
    subjects = []
    for index in range(int(cfg["n_subjects"])):
        height = float(np.clip(rng.normal(mean, sd), low, high))
        bmi = float(rng.uniform(*BMI_KG_M2))
        overall = height / GENERIC_HEIGHT_M
        factors = {}
        for segment in SEGMENTS:
            length = overall * (1 + spread * SEGMENT_LENGTH_SD * float(np.clip(rng.standard_normal(), -2, 2)))
            breadth = overall * (1 + spread * SEGMENT_BREADTH_SD * float(np.clip(rng.standard_normal(), -2, 2)))
            xyz = [breadth, breadth, breadth]
            xyz[LENGTH_AXIS[segment]] = length
            factors[segment] = [round(f, 4) for f in xyz]
        speed_offset = spread * float(rng.uniform(-SPEED_SPREAD_M_S, SPEED_SPREAD_M_S))
        shared = {key: float(np.clip(rng.standard_normal(), -2, 2)) for key in SUBJECT_SPREAD}
        designs = {}
        for name, base in cfg["conditions"].items():
            design = dict(base)
            design["speed_m_s"] = round(base["speed_m_s"] + speed_offset, 3)
            for key, (shared_sd, own_sd) in SUBJECT_SPREAD.items():
                own = float(np.clip(rng.standard_normal(), -2, 2))
                design[key] = round(base[key] * (1 + spread * (shared_sd * shared[key] + own_sd * own)), 4)
            designs[name] = condition_design(name, design)
        subjects.append(
            SubjectDesign(f"S{index + 1:02d}", round(height, 3), round(bmi * height**2, 1), factors, designs)
        )
    return subjects


def subject_design(synthetic_cfg: dict | None, subject: str) -> tuple[int, SubjectDesign]:
    """(index, design) of one subject."""
    people = {p.subject: (i, p) for i, p in enumerate(sample_subjects(synthetic_cfg))}
    if subject not in people:
        raise ValueError(f"subject must be one of {', '.join(people)}, got {subject!r}")
    return people[subject]


def analysis_window(cfg: dict, design: dict) -> tuple[float, float]:
    """[start_s, end_s]: from just before a right-foot contact to just after the contact
    ``analysis_strides`` strides later, so the window holds whole gait cycles."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    first_contact = float(cfg["lead_in_s"])
    return round(first_contact - 0.05, 4), round(first_contact + int(cfg["analysis_strides"]) * stride_s + 0.05, 4)


def study_sheets(synthetic_cfg: dict | None, *, inputs_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subjects and trials sheets of the synthetic study (no OpenSim, deterministic).

    They name the files ``subjects.generate_subject`` writes under ``inputs_dir``."""
    if inputs_dir is None or str(inputs_dir) == "":
        raise ValueError("inputs_dir must name the folder the synthetic inputs are written to")
    cfg = resolve_config(synthetic_cfg)
    inputs_dir = Path(inputs_dir)
    subjects, trials = [], []
    for person in sample_subjects(cfg):
        subjects.append(
            {
                "subject": person.subject,
                "mass_kg": person.mass_kg,
                "height_m": person.height_m,
                "static_markers": str(inputs_dir / f"{person.subject}_static.trc"),
                "static_start_s": 0.0,
                "static_end_s": float(cfg["static_duration_s"]),
            }
        )
        for condition, design in person.conditions.items():
            trial = f"{condition}_1"
            start, end = analysis_window(cfg, design)
            trials.append(
                {
                    "subject": person.subject,
                    "trial": trial,
                    "condition": condition,
                    "markers": str(inputs_dir / f"{person.subject}_{trial}.trc"),
                    "grf": str(inputs_dir / f"{person.subject}_{trial}.mot"),
                    # raw EMG from the true activations (retrorun/demo/emg.py; read when config emg.channels is set)
                    "emg": str(inputs_dir / "emg" / person.subject / f"{trial}.csv"),
                    "start_s": start,
                    "end_s": end,
                }
            )
    return pd.DataFrame(subjects), pd.DataFrame(trials)


def write_study_sheets(synthetic_cfg: dict | None, *, inputs_dir: str | Path) -> tuple[Path, Path]:
    """Write subjects.tsv and trials.tsv into ``inputs_dir`` (only when their content
    changes, so a rerun leaves them alone) and return their paths, for the ordinary
    study loader."""
    subjects, trials = study_sheets(synthetic_cfg, inputs_dir=inputs_dir)
    paths = []
    for name, table in (("subjects.tsv", subjects), ("trials.tsv", trials)):
        path = Path(inputs_dir) / name
        text = table.to_csv(sep="\t", index=False)
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                Path(tmp).write_text(text)
        paths.append(path)
    return paths[0], paths[1]


def judged_outcomes(config: dict) -> list[str]:
    """The outcomes the demo's truth judges (``group.metric``): the study's primary
    outcomes (config ``analysis.primary_outcomes``), then the measure of each of its
    hypotheses (config ``hypotheses``), each once: every claim the study tests is checked
    against the truth as its primary outcomes are. A measure the truth does not compute
    has no row (see truth_differences)."""
    names = list(config["analysis"]["primary_outcomes"])
    names += [h["measure"] for h in config.get("hypotheses") or []]
    return list(dict.fromkeys(names))
