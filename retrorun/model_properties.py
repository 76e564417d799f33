"""Facts the analysis reads from a (scaled) OpenSim model rather than assumes: each
muscle's activation floor, max isometric force, and which sign of the knee
coordinate's moment extends the knee."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd


@lru_cache(maxsize=4)
def _model(model_path: str):
    # one load per model and process: a script asks several of these questions of one model
    import opensim  # imported here: only these readers need OpenSim

    model = opensim.Model(str(model_path))
    state = model.initSystem()
    return model, state


def muscle_properties(model_path: str, muscles: list[str]) -> dict[str, dict[str, float]]:
    """Per named muscle present in the model: ``max_isometric_force_n`` and ``min_control``
    (the lowest excitation it accepts, which is also static optimization's lower bound:
    0.01 for the Millard and Thelen muscles of gait2392/Hamner/Rajagopal)."""
    model, _ = _model(str(model_path))
    found = {}
    muscle_set = model.getMuscles()
    for name in muscles:
        if muscle_set.contains(name):
            muscle = muscle_set.get(name)
            found[name] = {
                "max_isometric_force_n": float(muscle.getMaxIsometricForce()),
                "min_control": float(muscle.getMinControl()),
            }
    return found


def knee_extension_signs(
    model_path: str, *, quadriceps: list[str], knee_coordinate: str, sides: dict[str, str]
) -> dict[str, float]:
    """Per side: +1 when a positive moment of ``<knee_coordinate><suffix>`` extends the
    knee, -1 when a negative one does.

    The quadriceps extend the knee, so the sign of their summed moment arm about the
    knee coordinate (in the model's default pose) is the extension direction: positive
    in gait2392/Hamner (knee angle -120..10 deg), negative in flexion-positive models
    such as Rajagopal et al. 2016 (0..120 deg). Raises ValueError when the quadriceps do
    not cross that coordinate.
    """
    model, state = _model(str(model_path))
    coordinates = model.getCoordinateSet()
    muscle_set = model.getMuscles()
    signs = {}
    for side, suffix in sides.items():
        name = f"{knee_coordinate}{suffix}"
        if not coordinates.contains(name):
            raise ValueError(f"the model {model_path} has no coordinate {name}")
        coordinate = coordinates.get(name)
        arms = [
            muscle_set.get(f"{m}{suffix}").computeMomentArm(state, coordinate)
            for m in quadriceps
            if muscle_set.contains(f"{m}{suffix}")
        ]
        total = float(np.sum(arms)) if arms else 0.0
        if abs(total) < 1e-6:
            raise ValueError(
                f"no quadriceps muscle of side {side} ({', '.join(m + suffix for m in quadriceps)}) has a "
                f"moment arm about {name} in {model_path}"
            )
        signs[side] = 1.0 if total > 0 else -1.0
    return signs


def knee_extension_directions(
    model_path: str, *, analysis: dict, quadriceps: list[str], sides: dict[str, str]
) -> dict[str, float]:
    """Per side, the knee extension direction the analysis uses: the config's
    ``analysis.knee_extension_sign`` when set, else read from the model's quadriceps."""
    if analysis.get("knee_extension_sign") is not None:
        return {side: float(analysis["knee_extension_sign"]) for side in sides}
    return knee_extension_signs(
        model_path, quadriceps=quadriceps, knee_coordinate=analysis["knee_coordinate"], sides=sides
    )


def _per_side(sign, side: str) -> float:
    return sign[side] if isinstance(sign, dict) else sign


def chain_extension_signs(
    model_path: str, *, model_chains: dict, analysis: dict, quadriceps: list[str], sides: dict[str, str]
) -> dict:
    """Which sign of each model_chains coordinate extends its joint: config
    ``model_chains.extension_sign`` where it names the joint, else, for the knee, the
    analysis's own knee extension direction per side (knee_extension_directions: it
    differs between gait2392-lineage and flexion-positive models such as Rajagopal's)."""
    signs = dict(model_chains["extension_sign"])
    if "knee" in model_chains["coordinates"] and "knee" not in signs:
        signs["knee"] = knee_extension_directions(model_path, analysis=analysis, quadriceps=quadriceps, sides=sides)
    return signs


MODEL_CHAIN_COLUMNS = [
    "subject",
    "side",
    "chain",
    "joint",
    "coordinate",
    "n_muscles",
    "n_muscles_crossing",
    "max_isometric_force_sum_n",
    "force_moment_arm_sum_nm",
    "extension_moment_sum_nm",
]


def chain_capacities(
    model_path: str,
    *,
    chains: dict[str, list[str]],
    sides: dict[str, str],
    coordinates: dict[str, str],
    extension_sign: dict[str, int],
    force_factors: dict[str, float] | None = None,
    subject: str = "",
) -> pd.DataFrame:
    """The anatomical premise of the chains, from the model and not from any
    trial: per side, chain and joint, the chain's summed max isometric force and the sum
    over its muscles of max isometric force x moment arm about the joint's coordinate in
    the model's default pose (OpenSim ``Muscle.computeMomentArm``).

    ``force_moment_arm_sum_nm`` keeps OpenSim's sign: positive where the muscles' tension
    would drive the coordinate positive. ``extension_moment_sum_nm`` multiplies it by
    ``extension_sign[joint]`` (a sign, or a sign per side: chain_extension_signs) so that
    positive means extension (hip extension, knee
    extension, ankle plantarflexion): with gait2392/Hamner/the demo's coordinates, hip
    flexion and ankle dorsiflexion are positive (sign -1), the knee angle grows in
    extension (sign +1). These are the moments the muscles could give fully active at
    optimal fibre length, an upper bound; the moment arm depends on the pose.
    ``force_factors`` (muscle -> factor) applies the strength SO gives each muscle
    (static_optimization.strength_scaling and max_isometric_force_scale), which OpenSim's
    ScaleTool leaves out of the scaled model."""
    model, state = _model(str(model_path))
    muscle_set, coordinate_set = model.getMuscles(), model.getCoordinateSet()
    rows = []
    for side, suffix in sides.items():
        for chain, muscles in chains.items():
            present = [f"{m}{suffix}" for m in muscles if muscle_set.contains(f"{m}{suffix}")]
            if len(present) < len(muscles):
                lacking = sorted(set(f"{m}{suffix}" for m in muscles) - set(present))
                raise ValueError(f"chain {chain}: {', '.join(lacking)} not in {model_path}")
            forces = {
                name: float(muscle_set.get(name).getMaxIsometricForce()) * (force_factors or {}).get(name, 1.0)
                for name in present
            }
            for joint, base in coordinates.items():
                name = f"{base}{suffix}"
                if not coordinate_set.contains(name):
                    raise ValueError(
                        f"the model {model_path} has no coordinate {name} (config model_chains.coordinates)"
                    )
                coordinate = coordinate_set.get(name)
                arms = {m: float(muscle_set.get(m).computeMomentArm(state, coordinate)) for m in present}
                total = float(sum(forces[m] * arms[m] for m in present))
                rows.append(
                    {
                        "subject": subject,
                        "side": side,
                        "chain": chain,
                        "joint": joint,
                        "coordinate": name,
                        "n_muscles": len(present),
                        # a moment arm under 0.1 mm is a muscle that does not cross the joint
                        "n_muscles_crossing": int(sum(abs(a) > 1e-4 for a in arms.values())),
                        "max_isometric_force_sum_n": float(sum(forces.values())),
                        "force_moment_arm_sum_nm": total,
                        "extension_moment_sum_nm": float(_per_side(extension_sign[joint], side)) * total,
                    }
                )
    return pd.DataFrame(rows, columns=MODEL_CHAIN_COLUMNS)
