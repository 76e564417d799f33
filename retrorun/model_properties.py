"""Facts the analysis reads from a (scaled) OpenSim model rather than assumes: each
muscle's activation floor, max isometric force, and which sign of the knee
coordinate's moment extends the knee."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


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
