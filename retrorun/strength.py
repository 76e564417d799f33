"""Muscle strength that follows body size (config ``static_optimization.strength_scaling``).

OpenSim's ScaleTool scales segment lengths, masses and each muscle's optimal fibre and
tendon slack lengths, but leaves max isometric force as it is, so a subject heavier
than the generic model would be relatively weaker. Two published laws:

- ``mass``: geometric similarity, strength ~ area ~ mass^(2/3), the body-size
  normalisation recommended for muscle strength by Jaric 2002 (Sports Med 32:615-631):
  F = F0 (m / m0)^(2/3).
- ``mass_height``: lower-limb muscle volume is proportional to body mass x height
  (Handsfield et al. 2014, J Biomech 47:631-638), and force to volume / optimal fibre
  length (the physiological cross-sectional area): F = F0 (m h) / (m0 h0) / (l / l0),
  l / l0 being each muscle's optimal fibre length in the scaled model over the generic's.

m0 is the generic model's total body mass (the sum of its bodies' masses, read from the
model file), h0 the height it represents (``static_optimization.reference_height_m``).
"""

from __future__ import annotations

LAWS = ("none", "mass", "mass_height")


def model_mass_kg(model) -> float:
    """Total mass (kg) of an OpenSim model: the sum of its bodies' masses."""
    return float(sum(body.getMass() for body in model.getBodySet()))


def check_subject_size(*, law: str, mass_kg: float | None, height_m: float | None, subject: str) -> list[str]:
    """The body size a law needs: mass for both laws, height too for mass_height."""
    if law == "none":
        return []
    if not mass_kg or mass_kg <= 0:
        return [f"subject {subject}: strength_scaling '{law}' needs the body mass; set mass_kg in the subjects sheet"]
    if law == "mass_height" and (not height_m or height_m <= 0):
        return [
            f"subject {subject}: strength_scaling mass_height needs the subject's height; fill height_m in the "
            f"subjects sheet, or use static_optimization.strength_scaling: mass"
        ]
    return []


def strength_factors(
    *,
    law: str,
    generic_model,
    scaled_model,
    mass_kg: float | None,
    height_m: float | None,
    reference_height_m: float,
    subject: str = "",
) -> dict[str, float]:
    """Muscle name -> factor on its max isometric force, for opened OpenSim models."""
    from .errors import ConfigError

    if law not in LAWS:
        raise ConfigError(
            f"static_optimization.strength_scaling '{law}' is not one of {', '.join(LAWS)}",
            fix=f"use one of {', '.join(LAWS)}",
        )
    muscles = [m.getName() for m in scaled_model.getMuscles()]
    if law == "none":
        return dict.fromkeys(muscles, 1.0)
    problems = check_subject_size(law=law, mass_kg=mass_kg, height_m=height_m, subject=subject)
    if problems:
        raise ConfigError(
            "; ".join(problems), fix="complete the subjects sheet or change static_optimization.strength_scaling"
        )
    mass_ratio = mass_kg / model_mass_kg(generic_model)
    if law == "mass":
        return dict.fromkeys(muscles, mass_ratio ** (2.0 / 3.0))
    volume_ratio = mass_ratio * height_m / reference_height_m
    generic = generic_model.getMuscles()
    factors = {}
    for muscle in scaled_model.getMuscles():
        name = muscle.getName()
        length_ratio = (
            muscle.getOptimalFiberLength() / generic.get(name).getOptimalFiberLength()
            if generic.contains(name)
            else height_m / reference_height_m
        )
        factors[name] = volume_ratio / length_ratio
    return factors
