"""TRC and MOT files written here read back the same, in OpenSim too."""

import numpy as np
import opensim as osim
import pandas as pd
import pytest

from retrorun.errors import InputError
from retrorun.formats import MarkerTable, read_storage, read_trc, write_storage, write_trc


def test_trc_round_trip_in_metres_and_opensim_reads_it(tmp_path):
    time = np.arange(0, 1, 0.01)
    markers = MarkerTable(
        time, {"A": np.column_stack([time, 2 * time, np.ones_like(time)]), "B": np.full((len(time), 3), 0.5)}, 100.0
    )
    markers.positions_m["B"][3] = np.nan  # a gap
    write_trc(tmp_path / "m.trc", markers)
    back = read_trc(tmp_path / "m.trc")
    assert back.marker_names == ["A", "B"]
    assert np.allclose(back.positions_m["A"], markers.positions_m["A"], atol=1e-8)
    assert np.isnan(back.positions_m["B"][3]).all()
    table = osim.TimeSeriesTableVec3(str(tmp_path / "m.trc"))
    assert table.getNumRows() == len(time)


def test_trc_without_length_units(tmp_path):
    (tmp_path / "m.trc").write_text(
        "PathFileType\t4\t(X/Y/Z)\tm.trc\nDataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\n"
        "100\t100\t1\t1\tdeg\nFrame#\tTime\tA\n\t\tX1\tY1\tZ1\n1\t0\t1\t2\t3\n"
    )
    with pytest.raises(InputError, match="units 'deg' are not a length unit"):
        read_trc(tmp_path / "m.trc")


def test_trc_header_missing_keys(tmp_path):
    (tmp_path / "m.trc").write_text("PathFileType\t4\nfoo\tbar\n1\t2\nFrame#\tTime\tA\n\n1\t0\t1\t2\t3\n")
    with pytest.raises(InputError, match="lacks 'DataRate'"):
        read_trc(tmp_path / "m.trc")


def test_storage_round_trip(tmp_path):
    table = pd.DataFrame({"time": [0.0, 0.01], "a": [1.0, 2.0]})
    write_storage(tmp_path / "x.mot", table, in_degrees=True)
    back, header = read_storage(tmp_path / "x.mot")
    assert back.equals(table) and header["inDegrees"] == "yes"
    assert osim.Storage(str(tmp_path / "x.mot")).getSize() == 2


def test_storage_without_endheader(tmp_path):
    (tmp_path / "x.mot").write_text("time\ta\n0\t1\n")
    with pytest.raises(InputError, match="no 'endheader'"):
        read_storage(tmp_path / "x.mot")
