"""Half of the demo's backward trials face the lab's -X: the subjects with an odd index
(S02, S04, ...) run their backward trial, and stand in their static trial, turned 180
deg about the lab's vertical axis, as an overground backward runner does who crosses the
plates in the forward runner's direction (facing -X, travelling +X). The pipeline must
find that heading from the markers (retrorun.heading) and give the same results as for
a runner facing +X; the truth (coordinates, forces, outcomes) is the runner's, in the
model's facing frame, and stays as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..formats import read_storage, read_trc, write_storage, write_trc
from ..heading import read_heading, rotation_about_vertical
from .design import SIDES, resolve_config, subject_design
from .subjects import GRF_SIDE_COLUMNS

TURNED_DEG = 180.0
TURNED_CONDITION = "backward"


def designed_heading_deg(subject_index: int, condition: str) -> float:
    """The heading (deg about +Y from the lab's +X) a demo trial is recorded with."""
    return TURNED_DEG if condition == TURNED_CONDITION and subject_index % 2 == 1 else 0.0


def turn_recording(markers_path: Path, grf_path: Path | None, angle_deg: float) -> None:
    """Rewrite a trial's TRC (and GRF .mot: forces, centres of pressure, torques) turned
    by ``angle_deg`` about the lab's vertical axis through its origin."""
    rotation = rotation_about_vertical(angle_deg)
    markers = read_trc(markers_path)
    markers.positions_m = {name: xyz @ rotation.T for name, xyz in markers.positions_m.items()}
    write_trc(markers_path, markers)
    if grf_path is None:
        return
    table, _ = read_storage(grf_path)
    for pattern in GRF_SIDE_COLUMNS.values():
        for side in SIDES:
            columns = [pattern.format(side=side, axis=axis) for axis in "xyz"]
            table[columns] = table[columns].to_numpy(dtype=float) @ rotation.T
    write_storage(grf_path, table, in_degrees=False, name=Path(grf_path).stem)


def turn_trials(synthetic_cfg: dict | None, *, subject: str, inputs_dir: str | Path) -> dict[str, float]:
    """Turn the recordings generate_subject wrote for ``subject`` whose designed heading is
    not 0; returns trial -> heading (deg) for every trial, static included."""
    cfg = resolve_config(synthetic_cfg)
    index, person = subject_design(cfg, subject)
    inputs_dir = Path(inputs_dir)
    headings = {}
    for condition in person.conditions:
        angle = designed_heading_deg(index, condition)
        headings[f"{condition}_1"] = angle
        if angle:
            stem = inputs_dir / f"{subject}_{condition}_1"
            turn_recording(stem.with_suffix(".trc"), stem.with_suffix(".mot"), angle)
    headings["static"] = float(np.max(list(headings.values())))  # they stand as they run backward
    if headings["static"]:
        turn_recording(inputs_dir / f"{subject}_static.trc", None, headings["static"])
    return headings


# The designed heading is 0 or 180 deg and the demo runners travel straight, so the
# pipeline's (retrorun.heading: the line of travel, its sign from the pelvis markers)
# should be within a fraction of a degree; 5 deg would still leave a 3 m/s runner
# drifting 0.26 m/s sideways, which the planar model cannot follow.
HEADING_THRESHOLD_DEG = 5.0


def heading_rows(synthetic_cfg: dict | None, *, subject: str, trials: dict[str, dict]) -> pd.DataFrame:
    """Ground-truth rows (checks.GROUND_TRUTH_COLUMNS): the heading the pipeline found for
    each trial (its heading.json) against the one the trial was recorded with."""
    index, _ = subject_design(resolve_config(synthetic_cfg), subject)
    rows = []
    for trial, row in trials.items():
        found = read_heading(Path(row["dir"]) / "heading.json").heading_deg
        error = abs(
            float(np.degrees(np.angle(np.exp(1j * np.radians(found - designed_heading_deg(index, row["condition"]))))))
        )
        rows.append(
            {
                "subject": subject,
                "trial": trial,
                "check": "heading_error",
                "quantity": "heading",
                "value": error,
                "threshold": HEADING_THRESHOLD_DEG,
                "unit": "deg",
                "pass": error <= HEADING_THRESHOLD_DEG,
                "note": ""
                if error <= HEADING_THRESHOLD_DEG
                else "the pelvis markers' line of travel or their fit to the model's is off: read the trial's "
                "estimate_heading log",
            }
        )
    return pd.DataFrame(rows)
