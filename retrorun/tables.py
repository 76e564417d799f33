"""Tidy per-frame tables from OpenSim storage files: one row per frame, named
columns with units (time_s, knee_angle_r_deg, knee_angle_r_moment_nm, vas_lat_r_n)."""

from __future__ import annotations

import pandas as pd


def coordinates_table(ik: pd.DataFrame, *, rotational: dict[str, bool]) -> pd.DataFrame:
    """IK coordinates (degrees for rotations, as OpenSim writes IK) with units in the names."""
    columns = {"time": "time_s"}
    for name in ik.columns[1:]:
        columns[name] = f"{name}_deg" if rotational.get(name, True) else f"{name}_m"
    return ik.rename(columns=columns)


def generalized_forces_table(id_table: pd.DataFrame) -> pd.DataFrame:
    """ID output columns '<coordinate>_moment' / '<coordinate>_force' -> '_moment_nm' / '_force_n'."""
    columns = {"time": "time_s"}
    for name in id_table.columns[1:]:
        if name.endswith("_moment"):
            columns[name] = f"{name}_nm"
        elif name.endswith("_force"):
            columns[name] = f"{name}_n"
    return id_table.rename(columns=columns)


def activations_table(activation: pd.DataFrame, *, muscles: list[str]) -> pd.DataFrame:
    """Muscle activations only (SO also writes its actuators' controls)."""
    missing = [m for m in muscles if m not in activation.columns]
    if missing:
        raise ValueError(f"activation table lacks muscles: {', '.join(missing)}")
    return activation[["time", *muscles]].rename(columns={"time": "time_s"})


def forces_table(force: pd.DataFrame, *, muscles: list[str], rotational_actuators: dict[str, bool]) -> pd.DataFrame:
    """Muscle forces in N; actuator generalized forces in N·m (rotational) or N."""
    columns = {"time": "time_s"}
    for name in force.columns[1:]:
        if name in muscles:
            columns[name] = f"{name}_n"
        elif name in rotational_actuators:
            columns[name] = f"{name}_nm" if rotational_actuators[name] else f"{name}_n"
    kept = [c for c in force.columns if c in columns]
    return force[kept].rename(columns=columns)


def window(table: pd.DataFrame, start_s: float, end_s: float, *, time_column: str = "time_s") -> pd.DataFrame:
    times = table[time_column]
    return table[(times >= start_s - 1e-9) & (times <= end_s + 1e-9)].reset_index(drop=True)
