"""Residual and reserve actuators generated from the model itself, whatever the model.

- Residuals: one CoordinateActuator per coordinate of the root joint (the joint
  whose parent is ground): 6 for a 3D free joint, 3 for a planar model.
- Reserves: one weak CoordinateActuator per other unlocked, independent coordinate
  that some muscle crosses, so static optimization always has a solution; their use
  is reported in QC (peak reserve < 10% of peak joint moment, OpenSim Best Practices).
- Coordinates no muscle crosses (arms, often the lumbar joint) get a strong ideal
  actuator instead: they are not "reserves" and are not counted in the reserve QC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import opensim as osim

from .muscle_paths import AppliedPathForces

# Moment arms smaller than this (m or m/m) are numerical noise, not a crossing.
MOMENT_ARM_EPS = 1e-5


@dataclass(frozen=True)
class ActuatorSpec:
    name: str
    coordinate: str
    kind: str  # "residual", "reserve" or "ideal"
    optimal_force: float
    rotational: bool


def root_coordinates(model: osim.Model) -> list[str]:
    names = []
    for joint in model.getJointSet():
        if joint.getParentFrame().findBaseFrame().getName() == "ground":
            for i in range(joint.numCoordinates()):
                names.append(joint.get_coordinates(i).getName())
    return names


def dependent_coordinates(model: osim.Model) -> set[str]:
    """Coordinates driven by a CoordinateCouplerConstraint (e.g. a patella or a knee translation)."""
    dependent = set()
    for constraint in model.getConstraintSet():
        coupler = osim.CoordinateCouplerConstraint.safeDownCast(constraint)
        if coupler is not None and coupler.get_isEnforced():
            dependent.add(coupler.getDependentCoordinateName())
    return dependent


def free_coordinates(model: osim.Model) -> list[osim.Coordinate]:
    dependent = dependent_coordinates(model)
    return [c for c in model.getCoordinateSet() if not c.get_locked(0) and c.getName() not in dependent]


def crossed_coordinates(model: osim.Model, state: osim.State) -> set[str]:
    """Coordinates at which some muscle has a non-zero moment arm, in the default pose
    and in a pose with every coordinate at a quarter of its range (a moment arm can
    vanish at one pose by chance)."""
    crossed = set()
    coordinates = free_coordinates(model)
    muscles = list(model.getMuscles())
    # OpenSim's moment arm (MomentArmSolver) is the path's generalized forces under unit
    # tension times the coordinate's coupling vector: the speeds with the coordinate's
    # at 1, projected onto the constraints. Without enforced constraints that vector is
    # the coordinate's unit speed, so every muscle's arm is taken at once, the same
    # numbers computeMomentArm returns, for 0.5 s less per SO job on a 92-muscle model
    # than one call per muscle and coordinate. Constrained models (a coupled patella)
    # keep those calls: the projection is not exposed to Python.
    unconstrained = not any(c.get_isEnforced() for c in model.getConstraintSet())
    path_forces = AppliedPathForces(model, muscles) if unconstrained else None
    for fraction in (None, 0.25):
        for coordinate in coordinates:
            value = (
                coordinate.getDefaultValue()
                if fraction is None
                else (coordinate.getRangeMin() + fraction * (coordinate.getRangeMax() - coordinate.getRangeMin()))
            )
            coordinate.setValue(state, value, False)
        model.assemble(state)
        model.realizePosition(state)
        forces = path_forces(state) if path_forces else None  # muscles x mobilities
        for coordinate in coordinates:
            if coordinate.getName() in crossed:
                continue
            if forces is not None:
                arms = forces @ _unit_speed(state, coordinate)
            else:
                arms = (muscle.computeMomentArm(state, coordinate) for muscle in muscles)
            if any(abs(arm) > MOMENT_ARM_EPS for arm in arms):
                crossed.add(coordinate.getName())
    return crossed


def _unit_speed(state: osim.State, coordinate: osim.Coordinate) -> np.ndarray:
    """The mobilities' speeds with only this coordinate's at 1 (on a copy of the state)."""
    copy = osim.State(state)
    copy.updU().setToZero()
    coordinate.setSpeedValue(copy, 1.0)
    return copy.getU().to_numpy()


def actuator_specs(
    model: osim.Model,
    state: osim.State,
    *,
    residual_optimal_force: float,
    reserve_optimal_force: float,
    unmuscled_optimal_force: float,
) -> list[ActuatorSpec]:
    roots = set(root_coordinates(model))
    crossed = crossed_coordinates(model, state)
    specs = []
    for coordinate in free_coordinates(model):
        name = coordinate.getName()
        rotational = coordinate.getMotionType() == osim.Coordinate.Rotational
        if name in roots:
            specs.append(ActuatorSpec(f"residual_{name}", name, "residual", residual_optimal_force, rotational))
        elif name in crossed:
            specs.append(ActuatorSpec(f"reserve_{name}", name, "reserve", reserve_optimal_force, rotational))
        else:
            specs.append(ActuatorSpec(f"ideal_{name}", name, "ideal", unmuscled_optimal_force, rotational))
    return specs


def add_actuators(model: osim.Model, specs: list[ActuatorSpec]) -> None:
    """Add the actuators to the model with unbounded controls (the optimizer's cost keeps them small)."""
    for spec in specs:
        actuator = osim.CoordinateActuator(spec.coordinate)
        actuator.setName(spec.name)
        actuator.setOptimalForce(spec.optimal_force)
        actuator.setMinControl(-float("inf"))
        actuator.setMaxControl(float("inf"))
        model.addForce(actuator)
