"""The demo's truth gives OpenSim's InverseDynamicsTool only the GRF samples around the
analysed window (retrorun.demo.truth.GRF_MARGIN_ROWS): the tool then writes the same
numbers as on the whole recording, in half the time."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrorun import formats, opensim_tools, tables
from retrorun.demo import subjects as demo_subjects
from retrorun.demo import truth

REPO = Path(__file__).resolve().parents[1]


def test_the_rows_around_a_window_are_copied_as_they_are(tmp_path):
    source = tmp_path / "grf.mot"
    lines = ["grf", "version=1", "nRows=11", "nColumns=2", "inDegrees=no", "endheader", "time\tforce"]
    lines += [f"{0.1 * i:.1f}\t{i * 1.234567891:.9f}" for i in range(11)]
    source.write_text("\n".join(lines) + "\n")
    out = formats.storage_rows_around(source, tmp_path / "window.mot", start_s=0.4, end_s=0.6, margin_rows=2)
    written = out.read_text().splitlines()
    assert written[2] == "nRows=7"
    assert written[7:] == lines[9:16]  # 0.2 to 0.8 s, character for character
    table, _ = formats.read_storage(out)
    np.testing.assert_array_equal(table["time"], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    # the old header's datarows, and a margin beyond the file's ends
    old = tmp_path / "old.mot"
    old.write_text("\n".join(["grf", "datarows 11", "datacolumns 2", "endheader", *lines[6:]]) + "\n")
    out = formats.storage_rows_around(old, tmp_path / "old_window.mot", start_s=0.0, end_s=0.1, margin_rows=5)
    assert out.read_text().splitlines()[1] == "datarows 7"
    assert len(formats.read_storage(out)[0]) == 7


def _whole_recording_id(grf_mot: Path, trial: dict, work: Path, window: tuple[float, float], coordinates: str):
    """OpenSim's InverseDynamicsTool on the whole GRF file, as the truth ran it before."""
    truth.write_external_loads(work / "external_loads.xml", grf_mot=grf_mot)
    opensim_tools.inverse_dynamics(
        model_path=str(trial["model"]),
        coordinates_mot=str(trial[coordinates]),
        external_loads_xml=str(work / "external_loads.xml"),
        time_range=window,
        out_sto=str(work / "id.sto"),
        work_dir=str(work),
        name="whole",
        subject="",
        trial="",
    )
    return tables.generalized_forces_table(formats.read_storage(work / "id.sto")[0])


@pytest.mark.parametrize("coordinates", ["forward_1/coordinates_mot", "forward_1/coordinates_sampled_mot"])
@pytest.mark.parametrize("grf_shift_s", [0.0, 0.0004])
def test_the_truths_inverse_dynamics_on_the_windows_grf_equals_it_on_the_whole_recording(
    tmp_path, coordinates, grf_shift_s
):
    trial = demo_subjects.sample_trial(tmp_path / "trial", params_dir=REPO / "models" / "retrorun_planar")
    grf, _ = formats.read_storage(trial["forward_1/grf"])
    grf_mot = trial["forward_1/grf"]
    if grf_shift_s:
        # forces sampled between the coordinates' frames, as a lab's force plates often are:
        # the spline is then evaluated between its samples, where the cut ends could reach
        grf["time"] += grf_shift_s
        grf_mot = tmp_path / "grf_shifted.mot"
        formats.write_storage(grf_mot, grf, in_degrees=False)
    # a window well inside the recording, so that rows are left out on both sides
    window = (float(grf["time"].iloc[0]) + 0.5, float(grf["time"].iloc[-1]) - 0.5)
    forces = truth.inverse_dynamics(
        model_path=trial["model"],
        coordinates_mot=trial[coordinates],
        grf_mot=grf_mot,
        work_dir=tmp_path / "window",
        time_range=window,
    )
    used, _ = formats.read_storage(tmp_path / "window" / "grf_window.mot")
    assert len(used) < len(grf) - 100
    whole = _whole_recording_id(grf_mot, trial, tmp_path / "whole", window, coordinates)
    assert len(whole) > 10
    pd.testing.assert_frame_equal(forces[whole.columns], whole, check_exact=True)
