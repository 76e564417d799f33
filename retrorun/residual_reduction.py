"""Residual reduction between inverse dynamics and static optimization.

``mass_com`` is the closed-form first pass of OpenSim's RRA
(``RRATool::adjustCOMToReduceResiduals``; Delp et al. 2007, IEEE TBME 54:1940): over
whole gait cycles the mean residual wrench should vanish, so

- a mean vertical residual force F_y means the model's total mass is off by F_y / g
  (the model is too heavy when the pelvis needs extra upward support); the change is
  spread over the bodies in proportion to their mass, and refused (flagged, not
  applied) above ``max_mass_change_kg``;
- mean residual moments about the horizontal axes M_x, M_z mean the COM of one body
  (the torso by default) is misplaced: shifting it by d changes the moment of its
  weight W by d x (0, -W, 0), so d_x = -M_z / W and d_z = M_x / W (ground axes),
  capped at ``max_com_shift_m`` per axis as RRA caps it (0.1 m).

The residual wrench is rebuilt in the ground frame from the root joint's generalized
forces, tau = J^T w (J: the root body's spatial velocity per unit speed of each root
coordinate, at each frame's pose), so any root joint (free, custom, planar) and any
pelvis orientation reads the same. Thresholds of the results: Hicks et al. 2015
(J Biomech Eng 137:020905).

Two refinements of RRA's closed form:

- Each trial's COM shift is found in its own ground axes and taken into the adjusted
  body's frame with that trial's mean orientation of the body, and only then averaged
  over the subject's trials. Averaged in ground, two trials whose runners face opposite
  ways cancel (their moments have opposite signs) and the shift came out near 0.
  (retrorun.heading turns every trial into the model's facing frame first; this keeps
  the rule right for any heading.)
- Over a window that is not whole cycles (stances analysed, not cycles) the mean of
  m (g + a_y) is not m g: the COM accelerates upward over a stance, by g (cycle / stance
  - 1) on average, 2-3 g in running. A mass error dm then shows as a mean vertical
  residual dm (g + mean a_y), and a COM error d as a moment d x m_body (g + mean a_y), so
  both are divided by g + mean a_y, the whole body COM's mean vertical acceleration over
  the window from the model's COM (its change of vertical velocity over the window /
  its duration). Over whole cycles mean a_y is about 0, and this is RRA's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cycle_plan as plan
from .errors import InputError
from .splines import not_a_knot_derivative

METHODS = ("none", "mass_com", "rra")
WRENCH_COLUMNS = ["mx_nm", "my_nm", "mz_nm", "fx_n", "fy_n", "fz_n"]


def check_adjusted_body(body: str, bodies: set[str]) -> list[str]:
    """residual_reduction.adjusted_body must be a body of the model (ground excluded)."""
    if body in bodies:
        return []
    return [
        f"config residual_reduction.adjusted_body: body '{body}' is not in the model (model bodies: "
        f"{', '.join(sorted(bodies))}); name the body whose COM residual reduction may move"
    ]


def averaging_windows(
    cycles: pd.DataFrame, *, window_start_s: float, window_end_s: float
) -> tuple[list[tuple[float, float]], str]:
    """The whole gait cycles the analysis uses (stage plan_cycles's cycles.csv, either foot);
    the whole window when there is none (or the units are stances, not whole cycles),
    said in the note."""
    used = cycles[(cycles["status"] == plan.USED) & (cycles["unit"] == plan.CYCLE)]
    if used.empty:
        why = (
            "stances, not whole gait cycles, are analysed"
            if (cycles["status"] == plan.USED).any()
            else "no whole gait cycle is analysed"
        )
        return [
            (window_start_s, window_end_s)
        ], f"{why}: averaged over the whole window {window_start_s:.3f}-{window_end_s:.3f} s"
    spans = [(float(a), float(b)) for a, b in used[["start_s", "end_s"]].itertuples(index=False)]
    note = "cycles " + ", ".join(f"{side} {a:.3f}-{b:.3f} s" for side, (a, b) in zip(used["side"], spans))
    return spans, note


def wrench_from_generalized_forces(tau: np.ndarray, jacobians: np.ndarray) -> np.ndarray:
    """Ground-frame wrench (mx, my, mz, fx, fy, fz) on the root body, per frame, from its
    root generalized forces ``tau`` (frames x n) and ``jacobians`` (frames x 6 x n:
    angular then linear velocity of the root body origin per unit coordinate speed).
    With fewer than 6 root coordinates (a planar model) the least-norm wrench is returned:
    the components the model cannot feel are zero."""
    return np.stack([np.linalg.lstsq(J.T, t, rcond=None)[0] for J, t in zip(jacobians, tau)])


def cycle_mean(time_s: np.ndarray, values: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Time average of ``values`` (frames x k) over each span (trapezoid rule on the
    samples inside it, ends interpolated), then the mean over spans: each cycle counts once."""
    means = []
    for start, end in spans:
        inside = (time_s > start) & (time_s < end)
        t = np.concatenate([[start], time_s[inside], [end]])
        v = np.vstack(
            [
                [np.interp(start, time_s, values[:, k]) for k in range(values.shape[1])],
                values[inside],
                [np.interp(end, time_s, values[:, k]) for k in range(values.shape[1])],
            ]
        )
        means.append(np.trapezoid(v, t, axis=0) / (end - start))
    return np.mean(means, axis=0)


@dataclass(frozen=True)
class MassComChange:
    com_shift_ground_m: np.ndarray  # (x, y, z), ground axes, after the cap
    com_shift_uncapped_m: np.ndarray
    com_shift_capped: bool
    mass_change_kg: float  # recommended total change
    mass_change_applied: bool  # False when above the limit


def mass_com_change(
    mean_wrench: np.ndarray,
    *,
    body_mass_kg: float,
    gravity_m_s2: float,
    max_com_shift_m: float,
    max_mass_change_kg: float,
    com_acceleration_y_m_s2: float = 0.0,
) -> MassComChange:
    """RRA's closed form from the mean residual wrench (mx, my, mz, fx, fy, fz), ground axes, Y up,
    over windows whose whole-body COM accelerates upward by ``com_acceleration_y_m_s2`` on
    average (0 over whole cycles)."""
    mx, _, mz, _, fy, _ = mean_wrench
    support = gravity_m_s2 + com_acceleration_y_m_s2
    if support <= 0:
        raise ValueError(f"the averaged window's COM falls at {-com_acceleration_y_m_s2:.2f} m/s^2, faster than g")
    weight = body_mass_kg * support
    if weight <= 0:
        raise ValueError(f"the body to adjust has no weight (mass {body_mass_kg} kg)")
    uncapped = np.array([-mz / weight, 0.0, mx / weight])
    capped = np.clip(uncapped, -max_com_shift_m, max_com_shift_m)
    mass_change = -fy / support
    return MassComChange(
        com_shift_ground_m=capped,
        com_shift_uncapped_m=uncapped,
        com_shift_capped=bool(np.any(capped != uncapped)),
        mass_change_kg=float(mass_change),
        mass_change_applied=bool(abs(mass_change) <= max_mass_change_kg),
    )


def mean_com_acceleration_y(
    time_s: np.ndarray,
    com_height_m: np.ndarray,
    spans: list[tuple[float, float]],
    *,
    subject: str = "",
    trial: str = "",
) -> float:
    """Mean over ``spans`` of the whole-body COM's mean vertical acceleration over each:
    its change of vertical velocity (a cubic spline through the COM heights) over the
    span, divided by the span's duration."""
    frame = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 0.0
    inside = [(a, b) for a, b in spans if time_s[0] - frame <= a < b <= time_s[-1] + frame]
    if len(inside) != len(spans) or len(time_s) < 4:
        raise InputError(
            f"residual reduction averages over {spans} s, which the IK frames {time_s[0]:.3f}-{time_s[-1]:.3f} s "
            "do not cover with 4 frames or more",
            subject=subject,
            trial=trial,
            fix="widen the trial's region (start_s/end_s) or analysis.cycles so IK covers the cycles",
        )
    velocity = not_a_knot_derivative(time_s, com_height_m)
    return float(np.mean([(velocity(b) - velocity(a)) / (b - a) for a, b in spans]))


def shift_into_body(shift_ground_m: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """The body-frame COM shift d whose mean position change in ground, mean(R) d, has the
    horizontal components of ``shift_ground_m`` (the least-norm d: ground's vertical is
    left free, as RRA leaves it); ``rotations`` frames x 3 x 3, ground from body."""
    mean = rotations.mean(axis=0)
    return np.linalg.lstsq(mean[[0, 2]], shift_ground_m[[0, 2]], rcond=None)[0]


def distribute_mass(masses_kg: dict[str, float], change_kg: float) -> dict[str, float]:
    """New body masses: the total change spread in proportion to each body's mass."""
    total = sum(masses_kg.values())
    return {name: mass + change_kg * mass / total for name, mass in masses_kg.items()}


def root_generalized_forces(id_forces: pd.DataFrame, roots: list[str], *, rotational: dict[str, bool]) -> np.ndarray:
    columns = [f"{c}_moment_nm" if rotational[c] else f"{c}_force_n" for c in roots]
    return id_forces[columns].to_numpy(dtype=float)


TRIAL_COLUMNS = [
    "subject",
    "trial",
    "method",
    "averaged_over",
    "com_height_m",
    "com_acceleration_y_m_s2",
    *[f"mean_residual_{c}_before_reduction" for c in WRENCH_COLUMNS],
]
SUBJECT_COLUMNS = [
    "adjusted_body",
    "com_shift_x_m",
    "com_shift_y_m",
    "com_shift_z_m",
    "com_shift_m",
    "com_shift_capped",
    "mass_before_kg",
    "mass_change_recommended_kg",
    "mass_change_applied",
    "mass_after_kg",
]


@dataclass(frozen=True)
class TrialResiduals:
    """What one trial gives the subject's adjustment, over its averaging windows."""

    mean_wrench: np.ndarray  # (mx, my, mz, fx, fy, fz), ground axes
    body_rotations: np.ndarray  # frames x 3 x 3: the adjusted body's orientation (ground from body)
    com_acceleration_y_m_s2: float = 0.0  # whole-body COM's mean vertical acceleration


def subject_changes(
    *,
    method: str,
    trials: list[TrialResiduals],
    masses_kg: dict[str, float],
    body: str,
    gravity: float,
    settings: dict,
) -> tuple[dict, dict[str, float], np.ndarray]:
    """The subject's adjustment: (table row, new body masses, COM shift in the body frame).
    Each trial's change is found in its own frame and the body-frame shifts and mass
    changes are averaged over trials (module docstring: why not the ground wrenches)."""
    total = sum(masses_kg.values())
    if method != "mass_com":
        # nothing applied here; with rra the mass change RRA would recommend (it applies
        # none either) is recorded, so QC can flag a large one
        recommended = (
            float(np.mean([-t.mean_wrench[4] / (gravity + t.com_acceleration_y_m_s2) for t in trials]))
            if method == "rra"
            else 0.0
        )
        return (
            {
                "adjusted_body": "",
                "com_shift_x_m": 0.0,
                "com_shift_y_m": 0.0,
                "com_shift_z_m": 0.0,
                "com_shift_m": 0.0,
                "com_shift_capped": False,
                "mass_before_kg": total,
                "mass_change_recommended_kg": recommended,
                "mass_change_applied": False,
                "mass_after_kg": total,
            },
            dict(masses_kg),
            np.zeros(3),
        )
    uncapped = [
        mass_com_change(
            t.mean_wrench,
            body_mass_kg=masses_kg[body],
            gravity_m_s2=gravity,
            max_com_shift_m=np.inf,
            max_mass_change_kg=np.inf,
            com_acceleration_y_m_s2=t.com_acceleration_y_m_s2,
        )
        for t in trials
    ]
    shift_uncapped = np.mean(
        [shift_into_body(c.com_shift_ground_m, t.body_rotations) for c, t in zip(uncapped, trials)], axis=0
    )
    # RRA's cap per axis (0.1 m), here on the body's axes
    limit = settings["max_com_shift_m"]
    shift_body = np.clip(shift_uncapped, -limit, limit)
    mass_change = float(np.mean([c.mass_change_kg for c in uncapped]))
    applied = abs(mass_change) <= settings["max_mass_change_kg"]
    new_masses = distribute_mass(masses_kg, mass_change) if applied else dict(masses_kg)
    row = {
        "adjusted_body": body,
        "com_shift_x_m": shift_body[0],
        "com_shift_y_m": shift_body[1],
        "com_shift_z_m": shift_body[2],
        "com_shift_m": float(np.linalg.norm(shift_body)),
        "com_shift_capped": bool(np.any(shift_body != shift_uncapped)),
        "mass_before_kg": total,
        "mass_change_recommended_kg": mass_change,
        "mass_change_applied": applied,
        "mass_after_kg": sum(new_masses.values()),
    }
    return row, new_masses, shift_body


# ------------------------------------------------------------------------------ rra

KINEMATIC_CHANGE_COLUMNS = ["coordinate", "rms_change_deg", "max_change_deg", "rms_change_cm", "max_change_cm"]


def resample(table: pd.DataFrame, time_s: np.ndarray) -> pd.DataFrame:
    """Every column of a storage table (``time`` first) linearly interpolated at ``time_s``."""
    out = {"time": time_s}
    for column in table.columns[1:]:
        out[column] = np.interp(time_s, table["time"], table[column])
    return pd.DataFrame(out)


def kinematic_changes(
    ik: pd.DataFrame, adjusted: pd.DataFrame, *, rotational: dict[str, bool], start_s: float, end_s: float
) -> pd.DataFrame:
    """RMS and largest change of each coordinate from IK (``ik``, degrees and m) to RRA's
    kinematics (``adjusted``, same units) over the window: degrees for rotations, cm for
    translations (the units of the Best Practices limits, 2 deg and 2 cm RMS)."""
    inside = (ik["time"] >= start_s - 1e-9) & (ik["time"] <= end_s + 1e-9)
    time_s = ik.loc[inside, "time"].to_numpy()
    rows = []
    for name in ik.columns[1:]:
        if name not in adjusted or name not in rotational:
            continue
        change = np.interp(time_s, adjusted["time"], adjusted[name]) - ik.loc[inside, name].to_numpy()
        rms, largest = float(np.sqrt(np.mean(change**2))), float(np.abs(change).max())
        if rotational[name]:
            rows.append({"coordinate": name, "rms_change_deg": rms, "max_change_deg": largest})
        else:
            rows.append({"coordinate": name, "rms_change_cm": 100 * rms, "max_change_cm": 100 * largest})
    return pd.DataFrame(rows, columns=KINEMATIC_CHANGE_COLUMNS)
