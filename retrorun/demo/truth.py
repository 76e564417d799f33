"""The truth of the study's outcomes, computed without any pipeline stage: OpenSim's
inverse dynamics and static optimization on the generator's true coordinates, true
subject model and noise-free GRF, cut into gait cycles at the designed contact times.

The outcome definitions (group activation, the quadriceps share and Q:H ratio, the
front chain's share, knee extension peak) are the study's own (retrorun.analysis,
retrorun.metrics, retrorun.groups), so truth and pipeline differ only in
what the measurement chain (markers, scaling, IK, filtering, event detection) changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import analysis, metrics, opensim_tools, tables
from .. import cycles as cyc
from .. import groups as grp
from ..formats import atomic_path, read_storage, storage_rows_around
from .design import SIDES
from .motion import _osim
from .subjects import GRF_SIDE_COLUMNS

# OpenSim's ExternalForce interpolates each GRF column with a natural cubic spline
# (opensim-core ExternalForce.cpp), through which a sample's weight falls by 2 - sqrt(3)
# (about 0.27) per sample: 50 samples beyond the window leave the weight of the rest below
# 1e-28, so the InverseDynamicsTool given only the window's samples writes the same numbers
# (tests/test_demo_truth.py), in half the time (it fits every column over the whole recording).
GRF_MARGIN_ROWS = 50
JOINTS = {"hip": "hip_flexion", "knee": "knee_angle", "ankle": "ankle_angle"}  # joint -> coordinate (no side)
PAIR_GROUP = analysis.PAIR_GROUP


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


def inverse_dynamics(
    *,
    model_path: str | Path,
    coordinates_mot: str | Path,
    grf_mot: str | Path,
    work_dir: str | Path,
    time_range: tuple[float, float],
) -> pd.DataFrame:
    """OpenSim's InverseDynamicsTool on the given coordinates and GRF: its generalized
    forces, with the root residual force magnitude (N) and the total GRF magnitude (N)."""
    work = Path(work_dir)
    window_grf = storage_rows_around(
        grf_mot, work / "grf_window.mot", start_s=time_range[0], end_s=time_range[1], margin_rows=GRF_MARGIN_ROWS
    )
    write_external_loads(work / "external_loads.xml", grf_mot=window_grf)
    opensim_tools.inverse_dynamics(
        model_path=str(model_path),
        coordinates_mot=str(coordinates_mot),
        external_loads_xml=str(work / "external_loads.xml"),
        time_range=time_range,
        out_sto=str(work / "id.sto"),
        work_dir=str(work),
        name="truth_id",
        subject="",
        trial="",
    )
    forces = tables.generalized_forces_table(read_storage(work / "id.sto")[0])
    grf, _ = read_storage(window_grf)  # every sample of the window and its margins, as in grf_mot
    total = sum(grf[[GRF_SIDE_COLUMNS["force"].format(side=s, axis=a) for a in "xyz"]].to_numpy() for s in SIDES)
    forces["grf_n"] = np.interp(forces["time_s"], grf["time"], np.linalg.norm(total, axis=1))
    forces["root_residual_n"] = np.hypot(forces["pelvis_tx_force_n"], forces["pelvis_ty_force_n"])
    return forces


def so_model(
    *,
    model_path: str | Path,
    out_model: str | Path,
    settings: dict,
    generic_model: str | Path,
    mass_kg: float,
    height_m: float,
) -> list:
    """Write the model the truth's SO runs on, exactly as the pipeline writes its own
    (opensim_tools.prepare_so_model): the strength law of ``settings["strength_scaling"]``
    on the subject's mass and height against the generic model, the strength scale and
    the same residual and reserve actuators. Returns the actuator specs."""
    return opensim_tools.prepare_so_model(
        model_path=str(model_path),
        out_model=str(out_model),
        max_isometric_force_scale=settings["max_isometric_force_scale"],
        residual_optimal_force=settings["residual_optimal_force"],
        reserve_optimal_force=settings["reserve_optimal_force"],
        unmuscled_optimal_force=settings["unmuscled_optimal_force"],
        strength_scaling=settings["strength_scaling"],
        generic_model_path=str(generic_model),
        mass_kg=mass_kg,
        height_m=height_m,
        reference_height_m=settings["reference_height_m"],
    )


def static_optimization(
    *,
    model_path: str | Path,
    coordinates_mot: str | Path,
    grf_mot: str | Path,
    settings: dict,
    generic_model: str | Path,
    mass_kg: float,
    height_m: float,
    work_dir: str | Path,
    time_range: tuple[float, float],
) -> pd.DataFrame:
    """OpenSim's static optimization with the study's settings (the same strength law,
    actuators, strength scale and activation exponent as the pipeline): time_s, one
    column per muscle."""
    work = Path(work_dir)
    write_external_loads(work / "external_loads.xml", grf_mot=grf_mot)
    model = work / "so_model.osim"
    specs = so_model(
        model_path=model_path,
        out_model=model,
        settings=settings,
        generic_model=generic_model,
        mass_kg=mass_kg,
        height_m=height_m,
    )
    activation_sto, _ = opensim_tools.static_optimization(
        so_model_path=str(model),
        coordinates_mot=str(coordinates_mot),
        external_loads_xml=str(work / "external_loads.xml"),
        time_range=time_range,
        activation_exponent=settings["activation_exponent"],
        work_dir=str(work),
        name="truth_so",
        subject="",
        trial="",
    )
    activation, _ = read_storage(activation_sto)
    actuators = {s.name for s in specs}
    return tables.activations_table(activation, muscles=[c for c in activation.columns[1:] if c not in actuators])


def true_cycles(contacts: pd.DataFrame, *, window_start_s: float, window_end_s: float) -> pd.DataFrame:
    """Gait cycles of the designed contacts lying wholly inside the window:
    side, cycle, strike_s, toe_off_s, next_strike_s, duration_s, stance_pct."""
    rows = []
    for side, own in contacts.groupby("side", sort=False):
        own = own.sort_values("strike_s").reset_index(drop=True)
        cycle = 0
        for i in range(len(own) - 1):
            strike, following = own["strike_s"].iloc[i], own["strike_s"].iloc[i + 1]
            if strike >= window_start_s - 1e-9 and following <= window_end_s + 1e-9:
                rows.append(
                    {
                        "side": side,
                        "cycle": cycle,
                        "strike_s": strike,
                        "toe_off_s": own["toe_off_s"].iloc[i],
                        "next_strike_s": following,
                        "duration_s": following - strike,
                        "stance_pct": 100.0 * (own["toe_off_s"].iloc[i] - strike) / (following - strike),
                    }
                )
                cycle += 1
    return pd.DataFrame(
        rows, columns=["side", "cycle", "strike_s", "toe_off_s", "next_strike_s", "duration_s", "stance_pct"]
    )


def cycle_metrics(
    cycles: pd.DataFrame,
    *,
    activations: pd.DataFrame,
    id_forces: pd.DataFrame,
    groups: dict[str, list[str]],
    sides: dict[str, str],
    weights: dict[str, float] | None,
    mass_kg: float,
    knee_coordinate: str,
    knee_signs: dict[str, float],
    floors: dict[str, float],
) -> pd.DataFrame:
    """The study's per-cycle outcomes (long: side, cycle, group, metric, value) on the
    given cycles, with the definitions of retrorun.analysis: activation above each
    muscle's floor (``floors``: the model's min_control), the knee extension moment by the
    model's extension direction per side (``knee_signs``)."""
    group_table = grp.group_activations(
        grp.above_floor(activations, floors), groups=groups, sides=sides, weights=weights, source="truth"
    )
    rows = []
    for row in cycles.itertuples(index=False):
        span = {"start_s": row.strike_s, "end_s": row.next_strike_s}
        curves = cyc.normalise_table(group_table, **span)
        moment = cyc.normalise_table(id_forces[["time_s", f"{knee_coordinate}{sides[row.side]}_moment_nm"]], **span)
        pct, stance = curves["pct"].to_numpy(), float(row.stance_pct)
        values = {("cycle", "duration_s"): row.duration_s, ("cycle", "stance_pct"): stance}
        side_curves = {group: curves[grp.group_column(group, row.side)].to_numpy() for group in groups}
        found = analysis.activation_metric_values(
            pct, side_curves, stance_pct=stance, duration_s=row.duration_s, stance_units=False
        )
        values |= {key: value for key, (value, _note) in found.items()}
        extension = knee_signs[row.side] * moment.iloc[:, 1].to_numpy() / mass_kg
        values |= {
            ("knee", name): value
            for name, value in metrics.knee_extension_peak(pct, extension, stance_pct=stance).items()
        }
        rows += [
            {"side": row.side, "cycle": row.cycle, "strike_s": row.strike_s, "group": g, "metric": m, "value": float(v)}
            for (g, m), v in values.items()
        ]
    return pd.DataFrame(rows, columns=["side", "cycle", "strike_s", "group", "metric", "value"])
