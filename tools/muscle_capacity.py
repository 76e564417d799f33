"""Can a trial's muscles meet its joint moments? Per coordinate, the frames where the ID
moment exceeds what the muscles crossing it give in its direction at full activation
(rigid tendons, at the frame's fibre length and velocity), for the SO model's muscles
and for MocoInverse's DeGroote-Fregly versions of them.

    python tools/muscle_capacity.py results/<study>/trials/<subject>/<trial> [--width 1 1.5]

Reads the trial's SO model (so_chunks/0-of-*/work/so_model.osim), the coordinates SO
read (RRA's if present, else IK's), the ID moments (id_after_reduction.csv) and its
first used cycle (cycles.csv). A need/capacity ratio near or above 1 means the solver
must call on reserves there whatever it does; well below 1, reserves a solver uses are
its own doing (e.g. an unconverged iterate). Each muscle acts alone in this bound, so it
is optimistic for muscles that cross several joints.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def capacity(
    model, table: pd.DataFrame, in_degrees: bool, moments: pd.DataFrame, coordinates: list[str]
) -> dict[str, float]:
    """Per coordinate: the largest ratio over the frames of |ID moment| to the muscles' capacity."""
    state = model.initSystem()
    coordinate_set = model.getCoordinateSet()
    names = [coordinate_set.get(i).getName() for i in range(coordinate_set.getSize())]
    rotational = [coordinate_set.get(n).getMotionType() == 1 for n in names]
    times = table["time"].to_numpy(float)
    q = np.column_stack([np.radians(table[n]) if rot and in_degrees else table[n] for n, rot in zip(names, rotational)])
    u = np.gradient(q, times, axis=0)
    muscles = model.getMuscles()
    worst = dict.fromkeys(coordinates, 0.0)
    crossed = dict.fromkeys(coordinates, False)
    for k in range(len(times)):
        for j, name in enumerate(names):
            coordinate_set.get(name).setValue(state, q[k, j], False)
            coordinate_set.get(name).setSpeedValue(state, u[k, j])
        model.realizeVelocity(state)
        force = np.array(
            [muscles.get(i).calcInextensibleTendonActiveFiberForce(state, 1.0) for i in range(muscles.getSize())]
        )
        row = moments.iloc[int((moments["time_s"] - times[k]).abs().argmin())]
        for name in coordinates:
            moment = float(row[f"{name}_moment_nm"])
            arms = np.array(
                [muscles.get(i).computeMomentArm(state, coordinate_set.get(name)) for i in range(muscles.getSize())]
            )
            crossed[name] |= bool(np.any(np.abs(arms) > 1e-6))
            available = float(np.sum(np.clip(arms * np.sign(moment), 0, None) * force))
            worst[name] = max(worst[name], abs(moment) / max(available, 1e-9))
    # no muscle crosses it (the Hamner model's arms): ideal actuators drive it
    return {name: worst[name] if crossed[name] else np.nan for name in coordinates}


def main() -> None:
    import opensim as osim

    from retrorun import formats, moco_inverse, opensim_log

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trial", type=Path, help="results/<study>/trials/<subject>/<trial>")
    parser.add_argument("--width", type=float, nargs="+", default=[1.0], help="DGF active force-length width scales")
    args = parser.parse_args()
    folder = args.trial.resolve()
    so_model = sorted(folder.glob("so_chunks/0-of-*/work/so_model.osim"))[0]
    coordinates_mot = folder / "rra_kinematics.mot" if (folder / "rra_kinematics.mot").exists() else folder / "ik.mot"
    table, header = formats.read_storage(coordinates_mot)
    in_degrees = header.get("inDegrees", "no").strip().lower() == "yes"
    cycles = pd.read_csv(folder / "cycles.csv")
    first = cycles[cycles["status"] == "used"].sort_values("start_s").iloc[0]
    table = table[(table["time"] >= first["start_s"]) & (table["time"] <= first["end_s"])].reset_index(drop=True)
    moments = pd.read_csv(folder / "id_after_reduction.csv")
    coordinates = [
        c[: -len("_moment_nm")] for c in moments.columns if c.endswith("_moment_nm") and not c.startswith("pelvis")
    ]
    with opensim_log.quiet_console():
        model = osim.Model(str(so_model))
        rows = {"SO model": capacity(model, table, in_degrees, moments, coordinates)}
        for width in args.width:
            dgf, _ = moco_inverse.build_model(
                so_model_path=so_model,
                external_loads_xml=folder / "external_loads.xml",
                compliant_tendons=[],
                sides=["_r", "_l"],
                passive_fiber_forces=False,
                active_force_width_scale=width,
            )
            rows[f"DeGroote-Fregly, width {width:g}"] = capacity(dgf, table, in_degrees, moments, coordinates)
    result = pd.DataFrame(rows).dropna(how="all").round(2)
    print(f"{folder}: first used cycle {first['start_s']:.3f}-{first['end_s']:.3f} s, {len(table)} frames")
    print("largest |ID moment| / muscle capacity at full activation, per coordinate:")
    print(result.to_string())


if __name__ == "__main__":
    main()
