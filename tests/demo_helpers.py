"""Helpers only the demo's tests use: running timing and centre-of-pressure measures
taken from a GRF table (grf.csv form) with the pipeline's own contact detector."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retrorun import events
from retrorun.demo.design import SIDES
from retrorun.demo.subjects import GRF_SIDE_COLUMNS
from retrorun.formats import MarkerTable


def contacts(grf_table: pd.DataFrame, *, threshold_n: float, side: str) -> list[tuple[int, int]]:
    """(first, last) loaded row of every complete contact of one foot (strike and toe off
    both inside the table), as the pipeline's own event detector finds them."""
    column = events.vertical_force_column(side)
    if column not in grf_table.columns:
        raise ValueError(f"grf_table lacks column '{column}' (has {', '.join(grf_table.columns)})")
    time_s = grf_table["time_s"].to_numpy()
    # contacts shorter than 50 ms are force-plate noise around the threshold
    found = events.detect_contacts(
        time_s, grf_table[column].to_numpy(), threshold_n=threshold_n, min_contact_s=0.05
    ).dropna()
    # each crossing lies between two samples: the loaded ones are those inside it
    firsts = np.searchsorted(time_s, found["strike_s"].to_numpy(), side="left")
    lasts = np.searchsorted(time_s, found["toe_off_s"].to_numpy(), side="right") - 1
    return [(int(first), int(last)) for first, last in zip(firsts, lasts)]


def timing_summary(grf_table: pd.DataFrame, *, threshold_n: float, sides: tuple[str, ...] = SIDES) -> dict:
    """Running timing measured from a GRF table (grf.csv form): mean contact time (s),
    mean flight time between consecutive contacts of alternate feet (s), step frequency
    (steps/s), and mean signed COP travel over a contact along +X (m; positive = the
    COP moves towards the runner's front when facing +X, i.e. heel to toe)."""
    time_s = grf_table["time_s"].to_numpy()
    events = []
    travel = []
    for side in sides:
        for first, last in contacts(grf_table, threshold_n=threshold_n, side=side):
            events.append((time_s[first], time_s[last], side))
            cop = grf_table[f"{side}_cop_x_m"].to_numpy()
            travel.append(cop[last] - cop[first])
    if len(events) < 2:
        raise ValueError(f"grf_table holds fewer than two complete contacts above {threshold_n} N")
    events.sort()
    flights = [nxt[0] - cur[1] for cur, nxt in zip(events, events[1:]) if nxt[2] != cur[2]]
    starts = np.array([e[0] for e in events])
    return {
        "n_contacts": len(events),
        "contact_time_s": float(np.mean([e[1] - e[0] for e in events])),
        "flight_time_s": float(np.mean(flights)) if flights else float("nan"),
        "step_frequency_hz": float(1.0 / np.mean(np.diff(starts))),
        "cop_travel_m": float(np.mean(travel)),
    }


def contact_cop_share(
    grf_table: pd.DataFrame, markers: MarkerTable, *, side: str, heel_marker: str, toe_marker: str, threshold_n: float
) -> float:
    """Mean position of the COP at the first loaded sample of each contact, as a share of
    the heel -> toe marker distance along X (0 = under the heel marker, 1 = under the toe)."""
    for name in (heel_marker, toe_marker):
        if name not in markers.positions_m:
            raise ValueError(f"marker '{name}' is not in the marker table (has {', '.join(markers.marker_names)})")
    time_s = grf_table["time_s"].to_numpy()
    shares = []
    for first, _ in contacts(grf_table, threshold_n=threshold_n, side=side):
        t = time_s[first]
        heel = np.interp(t, markers.time_s, markers.positions_m[heel_marker][:, 0])
        toe = np.interp(t, markers.time_s, markers.positions_m[toe_marker][:, 0])
        shares.append((grf_table[f"{side}_cop_x_m"].iloc[first] - heel) / (toe - heel))
    if not shares:
        raise ValueError(f"no complete contact of side '{side}' above {threshold_n} N")
    return float(np.mean(shares))


def grf_sides_table(grf_storage: pd.DataFrame) -> pd.DataFrame:
    """A demo GRF .mot table (ground_force_<side>_v* ...) in the contract's grf.csv form:
    time_s, <side>_force_{x,y,z}_n, <side>_cop_{x,y,z}_m."""
    table = {"time_s": grf_storage["time"].to_numpy()}
    for side in SIDES:
        for axis in "xyz":
            table[f"{side}_force_{axis}_n"] = grf_storage[
                GRF_SIDE_COLUMNS["force"].format(side=side, axis=axis)
            ].to_numpy()
        for axis in "xyz":
            table[f"{side}_cop_{axis}_m"] = grf_storage[
                GRF_SIDE_COLUMNS["point"].format(side=side, axis=axis)
            ].to_numpy()
    return pd.DataFrame(table)
