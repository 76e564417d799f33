"""TRC and MOT files written here read back the same, in OpenSim too."""

import numpy as np
import opensim as osim
import pandas as pd
import pytest
from conftest import random_decimals, shared

from retrorun import formats
from retrorun.errors import InputError
from retrorun.formats import MarkerTable, read_storage, read_trc, read_trc_times, write_storage, write_trc


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


# ----------------------------------------------------------- fast readers vs cell by cell
# read_trc / read_storage hand plain numeric data to numpy's or pandas' C parser and fall
# back to converting cell by cell (float() of each stripped cell) for anything else; the
# two paths must give bit-identical tables and the same errors.

TRC_HEADER = (
    "PathFileType\t4\t(X/Y/Z)\tm.trc\n"
    "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\n"
    "60.00\t60.00\t3\t2\tmm\t60.00\n"
    "Frame#\tTime\tA\t\t\tB\t\t\n"
    "\t\tX1\tY1\tZ1\tX2\tY2\tZ2\n"
)
TRC_BODIES = {
    "plain": "\n1\t0.000\t1.5\t2\t3\t4\t5\t6\n2\t0.017\t1.25\t2\t3\t4\t5\t6\n3\t0.033\t-1e-3\t2\t3\t4\t5\t6\n",
    "missing marker (blank cells)": "\n1\t0\t1\t2\t3\t\t\t\n2\t0.017\t1\t2\t3\t\t\t\n3\t0.033\t1\t2\t3\t4\t5\t6\n",
    "NaN cells, trailing tab": "\n1\t0\tNaN\tNaN\tNaN\t4\t5\t6\t\n2\t0.017\t1\t2\t3\t4\t5\t6\t\n",
    "short rows": "\n1\t0\t1\t2\t3\n2\t0.017\t1\t2\t3\t4\t5\t6\n",
    "a longer row after a shorter one": "\n1\t0\t1\t2\t3\n2\t0.017\t1\t2\t3\t4\t5\t6\t7\t8\n",
    "blank and whitespace lines": "\n1\t0\t1\t2\t3\t4\t5\t6\n\n \t \n2\t0.017\t1\t2\t3\t4\t5\t6\n\n",
    "no blank line 6": "1\t0\t1\t2\t3\t4\t5\t6\n2\t0.017\t1\t2\t3\t4\t5\t6\n",
    "text, inf and underscores": "\n1\t0\tx\tinf\t1_000\t4\t5\t6\n2\t0.017\t1\t2\t3\tNA\t5\t6\n",
    "spaces around cells": "\n1\t 0 \t 1\t2 \t3\t4\t5\t6\n2\t0.017\t1\t2\t3\t4\t5\t6\n",
    "17-digit and tiny values": "\n1\t0.1000000000000000055511\t1.7976931348623157e308\t2.2250738585072011e-308\t"
    "4.9e-324\t0.30000000000000004441\t123456789012345678\t6\n",
    "empty time cell": "\n1\t\t1\t2\t3\t4\t5\t6\n",
    "CRLF line ends": "\r\n1\t0\t1\t2\t3\t4\t5\t6\r\n2\t0.017\t1\t2\t3\t4\t5\t6\r\n",
}


def _read_cell_by_cell(monkeypatch, reader, path):
    with monkeypatch.context() as patch:
        patch.setattr(formats, "_plain_numbers", lambda text: False)
        patch.setattr(formats.np, "loadtxt", _refuse)
        return _outcome(reader, path)


def _refuse(*args, **kwargs):
    raise ValueError("cell by cell")


def _outcome(reader, path):
    try:
        return reader(path)
    except InputError as err:
        return ("InputError", err.message)


def _assert_same_markers(fast, slow, times):
    if isinstance(slow, tuple):
        assert fast == slow and times == slow
        return
    assert fast.marker_names == slow.marker_names == times.marker_names
    assert fast.rate_hz == slow.rate_hz == times.rate_hz and fast.header_units == slow.header_units
    assert np.array_equal(fast.time_s, slow.time_s) and np.array_equal(times.time_s, slow.time_s)
    for name in slow.marker_names:
        assert np.array_equal(fast.positions_m[name], slow.positions_m[name], equal_nan=True), name


def _assert_same_storage(fast, slow):
    if isinstance(slow[0], str):
        assert fast == slow
        return
    assert list(fast[0].columns) == list(slow[0].columns) and fast[1] == slow[1]
    assert fast[0].equals(slow[0])


@pytest.mark.parametrize("case", sorted(TRC_BODIES))
def test_trc_fast_and_cell_by_cell_agree(tmp_path, monkeypatch, case):
    path = tmp_path / "m.trc"
    path.write_bytes((TRC_HEADER + TRC_BODIES[case]).encode())
    slow = _read_cell_by_cell(monkeypatch, read_trc, path)
    _assert_same_markers(_outcome(read_trc, path), slow, _outcome(read_trc_times, path))


STORAGE_FILES = {
    "new header, tabs": "grf\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\n"
    "time\ta\tb\n0\t1\t2\n0.01\t3\t4\n",
    "old header, spaces": "name x\ndatacolumns 3\ndatarows 2\nrange 0 1\nendheader\ntime a b\n 0  1   2\n0.01 3 4 \n",
    "ENDHEADER, blank lines": "x\nENDHEADER\n\ntime\ta\n\n0\t1\n\n0.01\t2\n",
    "extra values (cut)": "x\nendheader\ntime\ta\n0\t1\t9\n0.01\t2\t9\n",
    "a short row": "x\nendheader\ntime\ta\tb\n0\t1\t2\n0.01\t3\n",
    "rows one short": "x\nendheader\ntime\ta\tb\n0\t1\n0.01\t3\n",
    "nan and text": "x\nendheader\ntime\ta\n0\tnan\n0.01\tNaN\n",
    "text value": "x\nendheader\ntime\ta\n0\tx\n",
    "inf and underscores": "x\nendheader\ntime\ta\n0\tinf\n0.01\t1_0\n",
    "no data rows": "x\nendheader\ntime\ta\n\n",
    "rounded time, 17 digits": "x\nendheader\ntime\ta\n0.000\t0.1000000000000000055511\n0.017\t4.9e-324\n",
}


@pytest.mark.parametrize("case", sorted(STORAGE_FILES))
def test_storage_fast_and_value_by_value_agree(tmp_path, monkeypatch, case):
    path = tmp_path / "x.mot"
    path.write_text(STORAGE_FILES[case])
    _assert_same_storage(_outcome(read_storage, path), _read_cell_by_cell(monkeypatch, read_storage, path))


# read_storage_time_bounds (the span of a trial's GRF, for the up-front EMG check) must
# give what read_storage's table gives, bit for bit, or raise what reading it raises.
TIME_BOUNDS_FILES = STORAGE_FILES | {
    "two time columns": "x\nendheader\ntime\ttime\n0\t1\n0.01\t2\n",
    "Time and time": "x\nendheader\nTime\ta\ttime\n0\t1\t2\n0.01\t2\t3\n",
    "Time twice": "x\nendheader\nTime\tTime\n0\t1\n0.01\t2\n",
    "-0 and NaN time": "x\nendheader\ntime\ta\n-0\t1\nnan\t2\n",
    "one row": "x\nendheader\nTIME\ta\n0.5\t1\n",
    "not a storage file": "time,a\n0,1\n",
    "no labels": "x\nendheader\n\n",
    "first label not time": "x\nendheader\nt\ta\n0\t1\n",
}


def _outcome_bits(reader, path):
    """reader(path) as bits (signs of zeros, NaN), or its exception's class and text."""
    try:
        return np.array(reader(path), dtype=float).tobytes()
    except Exception as err:  # compared, whatever it is
        return (type(err).__name__, str(err))


def _time_bounds_of_the_table(path):
    table, _ = read_storage(path)
    return float(table["time"].iloc[0]), float(table["time"].iloc[-1])


def _assert_same_time_bounds(path):
    assert _outcome_bits(formats.read_storage_time_bounds, path) == _outcome_bits(_time_bounds_of_the_table, path)


@pytest.mark.parametrize("case", sorted(TIME_BOUNDS_FILES))
def test_storage_time_bounds_are_the_tables(tmp_path, case):
    path = tmp_path / "x.mot"
    path.write_text(TIME_BOUNDS_FILES[case])
    _assert_same_time_bounds(path)


def test_storage_time_bounds_of_a_missing_file_or_a_folder(tmp_path):
    _assert_same_time_bounds(tmp_path / "absent.mot")
    _assert_same_time_bounds(tmp_path)


@pytest.mark.parametrize("folder", ["hamner-run", "gait2392-walk", "emg"])
def test_storage_time_bounds_of_shared_recordings(folder):
    paths = sorted(p for p in shared(folder).rglob("*") if p.suffix in {".mot", ".sto"})
    assert paths
    for path in paths:
        _assert_same_time_bounds(path)


def test_random_decimals_read_as_float_does(tmp_path):
    """Correct rounding, as float(): random decimals of 1-20 significant digits."""
    cells = random_decimals(0, 20000, 20)
    rows = ["\t".join(cells[i : i + 8]) for i in range(0, len(cells), 8)]
    (tmp_path / "x.sto").write_text("x\nendheader\ntime\t" + "\t".join("abcdefg") + "\n" + "\n".join(rows) + "\n")
    table, _ = read_storage(tmp_path / "x.sto")
    expected = np.array([[float(c) for c in row.split("\t")] for row in rows])
    assert np.array_equal(table.to_numpy(), expected)


def test_written_files_read_identically(tmp_path, monkeypatch):
    """What the workflow and the demo write (write_trc, write_storage) reads the same both ways."""
    time = np.round(np.arange(0, 2, 1 / 60), 3)
    rng = np.random.default_rng(1)
    positions = {f"M{i}": rng.normal(0, 1, (len(time), 3)) for i in range(5)}
    positions["M2"][10:20] = np.nan
    write_trc(tmp_path / "m.trc", MarkerTable(time, positions, 60.0))
    slow = _read_cell_by_cell(monkeypatch, read_trc, tmp_path / "m.trc")
    _assert_same_markers(read_trc(tmp_path / "m.trc"), slow, read_trc_times(tmp_path / "m.trc"))
    table = pd.DataFrame({"time": time, **{f"q{i}": rng.normal(0, 50, len(time)) for i in range(6)}})
    write_storage(tmp_path / "q.mot", table, in_degrees=True)
    _assert_same_storage(
        read_storage(tmp_path / "q.mot"), _read_cell_by_cell(monkeypatch, read_storage, tmp_path / "q.mot")
    )


@pytest.mark.parametrize("folder", ["hamner-run", "gait2392-walk", "emg"])
def test_shared_recordings_read_identically(monkeypatch, folder):
    paths = sorted(p for p in shared(folder).rglob("*") if p.suffix in {".trc", ".mot", ".sto"})
    assert paths
    for path in paths:
        if path.suffix == ".trc":
            slow = _read_cell_by_cell(monkeypatch, read_trc, path)
            _assert_same_markers(_outcome(read_trc, path), slow, _outcome(read_trc_times, path))
        else:
            _assert_same_storage(_outcome(read_storage, path), _read_cell_by_cell(monkeypatch, read_storage, path))


def test_recordings_are_not_converted_cell_by_cell(monkeypatch):
    """The C parsers read a real recording (the cell-by-cell path costs ~50x more)."""
    monkeypatch.setattr(formats, "_float_or_nan", _refuse)
    monkeypatch.setattr(formats, "_storage_rows_by_value", _refuse)
    markers = read_trc(shared("hamner-run", "subject02_running.trc"))
    assert len(markers.time_s) == 600 and len(markers.marker_names) == 41
    grf, _ = read_storage(shared("hamner-run", "subject02_running_grf.mot"))
    assert len(grf) == 601 and list(grf.columns)[0] == "time"


# ------------------------------------------------- read_trc_times: bytes path vs text path
# read_trc_times finds the Time cells in the file's bytes (_read_trc_times_bytes) and
# leaves anything unusual to the text path (_read_trc_text, as read_trc reads the file);
# its result must be read_trc's header and Time column, bit for bit, with the same errors.

TRC_TIMES_FILES = {
    "plain": (TRC_HEADER + TRC_BODIES["plain"]).encode(),
    "no final newline": (TRC_HEADER + TRC_BODIES["plain"]).rstrip("\n").encode(),
    "blank lines": (TRC_HEADER + "\n\n1\t0\t1\t2\t3\t4\t5\t6\n\n\n2\t0.017\t1\t2\t3\t4\t5\t6\n\n\n").encode(),
    "space and tab lines": (TRC_HEADER + " \n\t\t\n1\t0\t1\n \t \n2\t0.017\t1\n\t\n   ").encode(),
    "a row of tabs then a cell": (TRC_HEADER + "\n1\t0\t1\n\t\t\t5\n").encode(),
    "a row starting with a tab": (TRC_HEADER + "\n\t0\t1\t2\t3\n").encode(),
    "frame numbers right-aligned": (TRC_HEADER + "\n  1\t0\t1\n 10\t0.017\t1\n").encode(),
    "CRLF": (TRC_HEADER + TRC_BODIES["plain"]).replace("\n", "\r\n").encode(),
    "CR only": (TRC_HEADER + TRC_BODIES["plain"]).replace("\n", "\r").encode(),
    "CR only in the data": (TRC_HEADER + TRC_BODIES["plain"].replace("\n", "\r")).encode(),
    "CR CR LF": (TRC_HEADER + "\r\r\n1\t0\t1\r\r\n2\t0.017\t1\r\n").encode(),
    "empty time cell": (TRC_HEADER + TRC_BODIES["empty time cell"]).encode(),
    "blank time cell": (TRC_HEADER + "\n1\t0\t1\n2\t  \t1\n").encode(),
    "text time cell": (TRC_HEADER + "\n1\t0\t1\n2\tx\t1\n").encode(),
    "NaN time cell": (TRC_HEADER + "\n1\t0\t1\n2\tNaN\t1\n").encode(),
    "inf, underscores, signs": (TRC_HEADER + "\n1\t-0\t1\n2\t+1_0.5\t1\n3\tinf\t1\n4\t1E3\t1\n5\t.5e-3\t1\n").encode(),
    "17-digit and tiny values": (TRC_HEADER + TRC_BODIES["17-digit and tiny values"]).encode(),
    "spaces around cells": (TRC_HEADER + TRC_BODIES["spaces around cells"]).encode(),
    "trailing tabs": (TRC_HEADER + "\n1\t0\t1\t2\t3\t4\t5\t6\t\t\t\n2\t0.017\t\t\n3\t0.033\t\n").encode(),
    "rows of one cell": (TRC_HEADER + "\n1\t0\t1\n2\n3\t0.033\t1\n").encode(),
    "only rows of one cell": (TRC_HEADER + "\n1\n2\n").encode(),
    "short rows": (TRC_HEADER + TRC_BODIES["short rows"]).encode(),
    "non-ASCII path in the header (UTF-8)": (
        TRC_HEADER.replace("m.trc", "C:\\Müller\\läufer.trc") + "\n1\t0\t1\n"
    ).encode(),
    "non-ASCII bytes in the header (not UTF-8)": TRC_HEADER.encode().replace(b"m.trc", b"M\xfcller\xff.trc")
    + b"\n1\t0\t1\n",
    "non-ASCII marker name": (TRC_HEADER.replace("\tB\t", "\tKnöchel\t") + "\n1\t0\t1\n").encode(),
    "invalid UTF-8 in a data row": (TRC_HEADER + "\n1\t0\t1\n").encode() + b"2\t0.017\t\xff\xfe\n",
    "invalid UTF-8 in a time cell": (TRC_HEADER + "\n1\t0\t1\n").encode() + b"2\t0.01\xff7\t1\n",
    "U+0085 and U+2028 in the data (line breaks to str)": (TRC_HEADER + "\n1\t0\t1\u0085\n2\t0.017\u20281\n").encode(),
    "U+2028 then a cell in a data row": (TRC_HEADER + "\n1\t0\t1\u20285\n").encode(),
    "U+0085 then a cell in a data row": (TRC_HEADER + "\n1\t0\t1\u00855\n").encode(),
    "U+2028 then a cell in header line 5": (TRC_HEADER.replace("Z2\n", "Z2\u20285\n") + "\n1\t0\t1\n").encode(),
    **{
        f"{name} then a cell in a data row": (TRC_HEADER + f"\n1\t0\t1{char}5\n").encode()
        for name, char in (("vertical tab", "\x0b"), ("form feed", "\x0c"), ("0x1c", "\x1c"), ("0x1e", "\x1e"))
    },
    "U+2028 in the header": (TRC_HEADER.replace("m.trc", "m\u2028.trc") + "\n1\t0\t1\n").encode(),
    "no-break space around a time cell": (TRC_HEADER + "\n1\t\u00a00\u00a0\t1\n").encode(),
    "Arabic-Indic digits": (TRC_HEADER + "\n1\t\u0660.\u0661\t1\n").encode(),
    "vertical tab, form feed in the data": (TRC_HEADER + "\n1\t0\t1\x0b2\n2\t0.017\x0c\t1\n\x0c\n").encode(),
    "separators 0x1c-0x1f in the data": (TRC_HEADER + "\n1\t0\x1c\t1\n2\t\x1f0.017\x1f\t1\n\x1d\n\x1e\x1f\n").encode(),
    "0x1f around a blank line": (TRC_HEADER + "\n1\t0\t1\n\x1f\n").encode(),
    "NUL in a time cell": (TRC_HEADER + "\n1\t0\x00\t1\n").encode(),
    "UTF-8 BOM": ("\ufeff" + TRC_HEADER + TRC_BODIES["plain"]).encode(),
    "two tabs between the header values": TRC_HEADER.replace(
        "60.00\t60.00\t3\t2\tmm\t60.00", "60\t\t60\t\t3\t\t2\t\tmm\t\t60"
    ).encode()
    + b"\n1\t0\t1\n",
    "header only": TRC_HEADER.encode(),
    "header and one blank line": (TRC_HEADER + "\n").encode(),
    "header and blank lines only": (TRC_HEADER + "\n \n\t\n\r\n").encode(),
    "4 header lines": "".join(TRC_HEADER.splitlines(keepends=True)[:4]).encode(),
    "empty file": b"",
    "header lacks DataRate": TRC_HEADER.replace("DataRate", "Rate").encode() + b"\n1\t0\t1\n",
    "units not a length": TRC_HEADER.replace("\tmm\t", "\tdeg\t").encode() + b"\n1\t0\t1\n",
    "DataRate not a number": TRC_HEADER.replace("60.00\t60.00\t3", "sixty\t60.00\t3").encode() + b"\n1\t0\t1\n",
    "line 4 not Frame#": TRC_HEADER.replace("Frame#", "Frame").encode() + b"\n1\t0\t1\n",
    "header lacks DataRate, no data": TRC_HEADER.replace("DataRate", "Rate").encode(),
    "no markers named": TRC_HEADER.replace("Frame#\tTime\tA\t\t\tB\t\t", "Frame#\tTime\t").encode() + b"\n1\t0\n",
}


def _trc_times_outcome(reader, path):
    try:
        return reader(path)
    except Exception as err:  # the same type and text either way, InputError or not
        return (type(err), str(err), getattr(err, "fix", None))


def _text_path_times(monkeypatch, path):
    """read_trc_times with the bytes path switched off: the text path alone."""
    with monkeypatch.context() as patch:
        patch.setattr(formats, "_read_trc_times_bytes", lambda path: None)
        return _trc_times_outcome(read_trc_times, path)


def _assert_times_agree(monkeypatch, path):
    times = _trc_times_outcome(read_trc_times, path)
    text = _text_path_times(monkeypatch, path)
    markers = _trc_times_outcome(read_trc, path)
    if isinstance(text, tuple):
        assert times == text == markers
        return
    for other in (text, markers):
        assert times.marker_names == other.marker_names and times.rate_hz == other.rate_hz
        assert times.header_units == other.header_units and times.source == other.source
        assert times.time_s.dtype == other.time_s.dtype and times.time_s.shape == other.time_s.shape
        assert np.array_equal(times.time_s, other.time_s, equal_nan=True)
        assert times.time_s.tobytes() == other.time_s.tobytes()  # bit for bit (-0.0 too)


@pytest.mark.parametrize("case", sorted(TRC_TIMES_FILES))
def test_trc_times_bytes_and_text_paths_agree(tmp_path, monkeypatch, case):
    path = tmp_path / "m.trc"
    path.write_bytes(TRC_TIMES_FILES[case])
    _assert_times_agree(monkeypatch, path)


def test_trc_times_of_a_missing_file_or_a_folder(tmp_path, monkeypatch):
    for path in (tmp_path / "absent.trc", tmp_path):
        _assert_times_agree(monkeypatch, path)
        with pytest.raises(InputError, match="does not exist"):
            read_trc_times(path)


def test_trc_times_of_random_files(tmp_path, monkeypatch):
    """Rows of numbers, blank lines and odd rows, built from the characters the bytes path
    has to tell apart, with random line ends, read as the text path reads them."""
    odd = [
        "0", "1", "7", ".", "-", "+", "e", "_", "nan", "inf", "x", " ", "\t", "\t", "\t",
        "\x0b", "\x0c", "\x1c", "\x1f", "\x00", "\u00a0", "\u0085", "\u2028", "\u0661", "ü", "\ufffd",
    ]  # fmt: skip
    rng = np.random.default_rng(2)

    def pick(options):
        return options[int(rng.integers(len(options)))]

    def row(frame):
        kind = rng.random()
        if kind < 0.15:  # blank
            return "".join(pick([" ", "\t", ""]) for _ in range(int(rng.integers(0, 4))))
        if kind < 0.25:  # anything
            return "".join(pick(odd) for _ in range(int(rng.integers(1, 10))))
        time = pick([f"{frame / 60:.6f}", f"{frame / 60!r}", f"{frame / 60:.3e}", f"{frame}", "-0", "1_0"])
        cells = [pick(["", " ", "  "]) + str(frame), pick(["", " "]) + time + pick(["", " ", "  "])]
        cells += [f"{v:.5f}" for v in rng.normal(0, 500, int(rng.integers(0, 4)))]
        return "\t".join(cells) + pick(["", "\t", "\t\t"])

    path = tmp_path / "m.trc"
    for i in range(400):
        lines = [row(frame) for frame in range(int(rng.integers(0, 8)))]
        body = "".join(line + pick(["\n", "\n", "\r\n", "\r"]) for line in lines)
        data = (TRC_HEADER.replace("\n", "\r\n") if i % 3 == 0 else TRC_HEADER) + pick(["", "\n"]) + body
        data = data.encode("utf-8")
        if i % 7 == 0:
            data = data.replace(b"\xc3", b"\xff")  # not UTF-8
        path.write_bytes(data)
        _assert_times_agree(monkeypatch, path)


def test_trc_times_read_common_variants_from_bytes(tmp_path, monkeypatch):
    """Blank lines, CRLF, trailing tabs, a non-ASCII header: the bytes path, not the text path."""
    monkeypatch.setattr(formats, "_read_trc_text", _refuse)
    for case in ("plain", "blank lines", "CRLF", "CR only in the data", "trailing tabs", "no final newline"):
        (tmp_path / "m.trc").write_bytes(TRC_TIMES_FILES[case])
        assert len(read_trc_times(tmp_path / "m.trc").time_s) >= 2, case
    (tmp_path / "m.trc").write_bytes(TRC_TIMES_FILES["non-ASCII path in the header (UTF-8)"])
    assert read_trc_times(tmp_path / "m.trc").marker_names == ["A", "B"]


def _shared_trc_files():
    root = shared()
    return sorted(root.rglob("*.trc"))


def test_trc_times_of_every_shared_recording(monkeypatch):
    """Every TRC in the shared data: the bytes path reads it (the text path refused), and
    reads what the text path and read_trc read, as they are, with CRLF line ends and with
    spaces around its cells."""
    paths = _shared_trc_files()
    if not paths:
        pytest.skip("no TRC files in the shared reference data")
    for path in paths:
        _assert_times_agree(monkeypatch, path)
        with monkeypatch.context() as patch:
            patch.setattr(formats, "_read_trc_text", _refuse)
            read_trc_times(path)


@pytest.mark.parametrize("variant", ["CRLF", "spaces around the cells", "blank lines between the rows"])
def test_trc_times_of_shared_recordings_rewritten(tmp_path, monkeypatch, variant):
    paths = _shared_trc_files()
    if not paths:
        pytest.skip("no TRC files in the shared reference data")
    for source in paths:
        head, _, rows = source.read_bytes().partition(b"\n\n")  # the header, its blank line 6, the rows
        assert rows, source
        if variant == "CRLF":
            data = (head + b"\n\n" + rows).replace(b"\n", b"\r\n")
        elif variant == "spaces around the cells":
            data = head + b"\n\n" + rows.replace(b"\t", b" \t ").replace(b"\n", b" \n ")
        else:
            data = head + b"\n\n" + rows.replace(b"\n", b"\n \t\n\n")
        path = tmp_path / source.name
        path.write_bytes(data)
        _assert_times_agree(monkeypatch, path)
        with monkeypatch.context() as patch:
            patch.setattr(formats, "_read_trc_text", _refuse)
            read_trc_times(path)
