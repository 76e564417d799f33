"""Read and write the file formats labs and OpenSim exchange: TRC, MOT/STO, CSV.

Everything in memory is in SI units (metres, newtons, seconds); angles in OpenSim
storage files follow the file's ``inDegrees`` flag and are reported as such.
All writers are atomic: they write a temporary file beside the target and rename
it, so an interrupted job never leaves a half-written file that looks finished.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

# Factors from a TRC file's declared unit to metres.
LENGTH_UNITS_TO_M = {"m": 1.0, "mm": 1e-3, "cm": 1e-2, "dm": 1e-1, "in": 0.0254}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_csv(path: str | os.PathLike, table: pd.DataFrame) -> None:
    """Write a tidy table atomically, without the pandas index: the bytes of
    ``table.to_csv(path, index=False, float_format="%.8g")``."""
    body = _csv_body(table)
    with atomic_path(path) as tmp:
        if body is None:
            table.to_csv(tmp, index=False, float_format="%.8g")
            return
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator=os.linesep).writerow(table.columns)  # pandas' header writer
            handle.write(body)


# pandas' to_csv formats floats with one Python call per value (0.4-0.8 s of a trial job);
# _csv_body formats the whole table with one %-format string instead, giving each value
# the text pandas gives it: '%.8g' for float64 (NaN empty), str() for numpy int/bool, and
# strings the csv writer would leave unquoted. Anything else is left to pandas.
def _csv_body(table: pd.DataFrame) -> str | None:
    """The data rows of write_csv as text, or None when pandas must write the table."""
    if table.shape[1] < 2 or not all(type(label) is str for label in table.columns):
        return None  # a lone empty cell is quoted; MultiIndex or non-string labels
    columns = [column for _, column in table.items()]
    specs = [_csv_spec(column) for column in columns]
    if None in specs:
        return None
    cells = []
    for j, column in enumerate(columns):
        values = column.to_numpy()
        if specs[j] == "%.8g" and np.isnan(values).any():  # NaN is an empty cell: format one by one
            specs[j] = "%s"
            cells.append(["" if v != v else "%.8g" % v for v in values.tolist()])  # noqa: UP031 (as pandas)
        else:
            cells.append(values.tolist())
    row = ",".join(specs) + os.linesep
    return (row * len(table)) % tuple(itertools.chain.from_iterable(zip(*cells)))


def _csv_spec(column: pd.Series) -> str | None:
    """The %-format of the column's cells in _csv_body (None: leave the table to pandas)."""
    dtype = column.dtype
    if dtype == np.dtype("float64"):
        return "%.8g"
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return "%s"
    if dtype == np.dtype("object") or isinstance(dtype, pd.StringDtype):
        return "%s" if _plain_strings(column) else None
    return None


def _plain_strings(column: pd.Series) -> bool:
    """Whether every cell is a string (not NaN or None) the csv writer writes as it is."""
    if not all(isinstance(cell, str) for cell in column.to_numpy()):
        return False
    cells = column.unique().tolist()
    probe = io.StringIO()
    csv.writer(probe, lineterminator=os.linesep).writerow(cells)
    return probe.getvalue() == ",".join(cells) + os.linesep


# ----------------------------------------------------------------------------- TRC


@dataclass
class MarkerTable:
    """Marker trajectories in metres: ``positions_m[name]`` is an (n_frames, 3) array."""

    time_s: np.ndarray
    positions_m: dict[str, np.ndarray]
    rate_hz: float
    source: str = ""
    header_units: str = "m"
    extra: dict = field(default_factory=dict)

    @property
    def marker_names(self) -> list[str]:
        return list(self.positions_m)

    def window(self, start_s: float, end_s: float) -> MarkerTable:
        keep = (self.time_s >= start_s - 1e-9) & (self.time_s <= end_s + 1e-9)
        return MarkerTable(
            self.time_s[keep],
            {name: xyz[keep] for name, xyz in self.positions_m.items()},
            self.rate_hz,
            self.source,
            self.header_units,
        )


def read_trc(path: str | os.PathLike) -> MarkerTable:
    """Read a TRC file, converting positions to metres from the declared ``Units``."""
    path = Path(path)
    names, units, rate_hz, rows = _read_trc_text(path)
    width = 2 + 3 * len(names)
    data = _trc_cells(rows, width)
    time_s = data[:, 1]
    _check_trc_time(time_s, path)
    scale = LENGTH_UNITS_TO_M[units]
    positions = {name: data[:, 2 + 3 * i : 5 + 3 * i] * scale for i, name in enumerate(names)}
    return MarkerTable(time_s, positions, rate_hz, str(path), units)


@dataclass
class MarkerTimes:
    """What a TRC file says about its timing and markers, without the positions: the
    header and Time column of read_trc, read with the same rules and errors."""

    time_s: np.ndarray
    marker_names: list[str]
    rate_hz: float
    source: str = ""
    header_units: str = "m"


def read_trc_times(path: str | os.PathLike) -> MarkerTimes:
    """The header and Time column of a TRC file (for up-front checks: a fraction of
    read_trc's cost, since the positions are not converted)."""
    path = Path(path)
    found = _read_trc_times_bytes(path)
    if found is None:
        names, units, rate_hz, rows = _read_trc_text(path)
        time_s = _trc_time_column(rows, 2 + 3 * len(names))
    else:
        names, units, rate_hz, time_s = found
    _check_trc_time(time_s, path)
    return MarkerTimes(time_s, names, rate_hz, str(path), units)


def _read_trc_text(path: Path) -> tuple[list[str], str, float, list[str]]:
    """(marker names, units, DataRate, non-blank data lines) of a TRC file."""
    _require_trc_file(path)
    with open(path, errors="replace") as handle:
        lines = handle.read().splitlines()
    names, units, rate_hz = _trc_header(path, lines[:5], len(lines))
    rows = [line for line in lines[5:] if line.strip()]
    _require_trc_rows(rows, path)
    return names, units, rate_hz, rows


# read_trc_times is called for every trial when a study is planned; reading the file as
# text (decoding it, then splitlines and strip of each 1-2 KB line) was 2/3 of its cost.
# _read_trc_times_bytes finds the Time cells in the file's bytes with one regex instead,
# when that gives what _read_trc_text and _trc_time_column give:
# - the header (up to the 5th \n) is decoded as open(path, errors="replace") decodes it,
#   and must be 5 lines of str.splitlines() (it may name a path in non-ASCII letters);
# - the data lines must be ASCII without the characters in _STR_ONLY_SPACES, the only
#   ones str.splitlines() or str.strip() treat as a line break or whitespace and
#   bytes.splitlines() or bytes.strip() do not; \r\n and \r are made \n, as splitlines
#   reads them. Every data line is then one match of _TRC_TIME_CELL: blank ([ \t]*),
#   or a first cell with a character other than a space, a tab, and the second cell (the
#   non-blank line split at its first two tabs), or anything else (odd: a line starting
#   with a tab, a line of one cell), which is left to _read_trc_text;
# - float() of a bytes cell is float() of the str cell (CPython parses both with the same
#   C function; a str is first mapped to ASCII, which changes nothing in ASCII text); a
#   cell float() refuses (empty, text) is left to _read_trc_text too.
_STR_ONLY_SPACES = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_TRC_TIME_CELL = re.compile(rb"\n(?: *[^ \t\n][^\t\n]*(\t)([^\t\n]*)|[ \t]*$|(.))", re.MULTILINE)


def _read_trc_times_bytes(path: Path) -> tuple[list[str], str, float, np.ndarray] | None:
    """(marker names, units, DataRate, Time column) of read_trc_times, raising its errors,
    or None when _read_trc_text must read the file."""
    _require_trc_file(path)
    raw = path.read_bytes()
    start = 0  # of the data lines, after the 5th \n
    for _ in range(5):
        start = raw.find(b"\n", start) + 1
        if not start:
            return None  # fewer than 6 lines, or lines ending in a lone \r
    if not (raw.isascii() or raw[start:].isascii()) or any(raw.find(c, start) >= 0 for c in _STR_ONLY_SPACES):
        return None
    with io.TextIOWrapper(io.BytesIO(raw[:start]), errors="replace") as handle:
        header = handle.read().splitlines()  # what open(path, errors="replace") makes of these bytes
    if len(header) != 5:
        return None
    text, pos = raw, start - 1  # from the \n before the first data line
    if raw.find(b"\r", start) >= 0:
        text, pos = b"\n" + raw[start:].replace(b"\r\n", b"\n").replace(b"\r", b"\n"), 0
    end = len(text) - 1 if text.endswith(b"\n") else len(text)  # splitlines: no line after the last \n
    found = _TRC_TIME_CELL.findall(text, pos, end)
    tabs, cells, odd = zip(*found) if found else ((), (), ())
    if any(odd):
        return None
    names, units, rate_hz = _trc_header(path, header, 5 + len(found))
    rows = list(itertools.compress(cells, tabs))  # the non-blank lines' Time cells
    _require_trc_rows(rows, path)
    try:
        time_s = np.fromiter(map(float, rows), dtype=float, count=len(rows))
    except ValueError:  # an empty or text cell: the rules of _float_or_nan
        return None
    return names, units, rate_hz, time_s


def _require_trc_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"marker file {path} does not exist", fix="check the path in the sheet")


def _require_trc_rows(rows: list, path: Path) -> None:
    if not rows:
        raise InputError(f"{path}: the TRC file has no data rows", fix="export the trial again")


def _trc_header(path: Path, lines: list[str], n_lines: int) -> tuple[list[str], str, float]:
    """(marker names, units, DataRate) from the first 5 of a TRC file's n_lines lines."""
    if n_lines < 6:
        raise InputError(
            f"{path} is not a TRC file: it has fewer than 6 lines",
            fix="export the markers as a TRC file (header of 5 lines, then data)",
        )
    keys = lines[1].split("\t")
    values = lines[2].split("\t")
    filled = [v for v in values if v.strip()]
    if len(values) != len(keys) and len(filled) == len([k for k in keys if k.strip()]):
        values = filled  # some exporters put two tabs between the values (OpenSim's Moco walking example)
    header = {k.strip(): v.strip() for k, v in zip(keys, values) if k.strip()}
    for key in ("DataRate", "NumMarkers", "Units"):
        if key not in header:
            raise InputError(
                f"{path}: TRC header line 2 lacks '{key}' (found: {', '.join(header) or 'nothing'})",
                fix="export a standard TRC header: DataRate CameraRate NumFrames NumMarkers Units ...",
            )
    units = header["Units"]
    if units not in LENGTH_UNITS_TO_M:
        raise InputError(
            f"{path}: marker units '{units}' are not a length unit",
            fix=f"set Units to one of {', '.join(LENGTH_UNITS_TO_M)} in the TRC header",
        )
    try:
        rate_hz = float(header["DataRate"])
    except ValueError:
        raise InputError(
            f"{path}: DataRate '{header['DataRate']}' is not a number", fix="set DataRate in the TRC header"
        ) from None
    name_cells = lines[3].split("\t")
    if len(name_cells) < 3 or name_cells[0].strip() != "Frame#":
        raise InputError(
            f"{path}: TRC line 4 must start with 'Frame#\\tTime' and name the markers", fix="export a standard TRC file"
        )
    return [cell.strip() for cell in name_cells[2:] if cell.strip()], units, rate_hz


def _check_trc_time(time_s: np.ndarray, path: Path) -> None:
    if np.any(np.isnan(time_s)):
        raise InputError(f"{path}: the Time column has empty cells", fix="export the trial again")


# The fast parsers below hand a file's data rows to numpy's or pandas' C parser when every
# character is one of a plain number's (and tabs, spaces, NaN); anything else (text in a
# cell, 'inf', '1_000') takes the cell-by-cell path, whose rules (float() of each stripped
# cell) define the result. Both C parsers round decimals correctly, as float() does, so
# the two paths give bit-identical numbers (tests/test_formats.py checks real files).
_NUMBER_CHARACTERS = b"0123456789.eE+-\t\n Nan"
_PANDAS_VERSION = tuple(int(v) for v in pd.__version__.split(".")[:2])
# pandas before 3.1 rounds correctly only with the round-trip converter (3.1 always does).
_PANDAS_EXACT = {} if _PANDAS_VERSION >= (3, 1) else {"float_precision": "round_trip"}


def _plain_numbers(text: str) -> bool:
    return text.isascii() and not text.encode("ascii").translate(None, _NUMBER_CHARACTERS)


def _trc_cells(rows: list[str], width: int) -> np.ndarray:
    """(rows, width) array of the cells, NaN where empty or not a number; rows cut or
    padded with NaN to the width."""
    data = _trc_cells_fast(rows)
    if data is None:
        data = _trc_cells_by_cell(rows, width)
    elif data.shape[1] >= width:
        data = data[:, :width]
    else:
        data = np.hstack([data, np.full((len(data), width - data.shape[1]), np.nan)])
    return data


def _trc_cells_fast(rows: list[str]) -> np.ndarray | None:
    text = "\n".join(rows)
    if not _plain_numbers(text):
        return None
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep="\t",
            header=None,
            dtype=float,
            keep_default_na=False,
            na_values=["", "NaN", "nan"],
            quoting=csv.QUOTE_NONE,
            skip_blank_lines=False,
            engine="c",
            **_PANDAS_EXACT,
        )
    except (ValueError, pd.errors.ParserError):  # a cell that is not a number, or a row longer than the first
        return None
    if len(table) != len(rows):
        return None
    return table.to_numpy(dtype=float)


def _trc_cells_by_cell(rows: list[str], width: int) -> np.ndarray:
    data = np.full((len(rows), width), np.nan)
    for i, line in enumerate(rows):
        row = [_float_or_nan(c) for c in line.split("\t")][:width]
        data[i, : len(row)] = row
    return data


def _trc_time_column(rows: list[str], width: int) -> np.ndarray:
    """Column 2 (Time) of _trc_cells(rows, width), converting that column only."""
    if width < 2:
        return _trc_cells(rows, width)[:, 1]
    # The cell-by-cell rules on that one cell: each row is cut at its first two tabs, not
    # split into all its 3 x markers cells (numpy's loadtxt tokenised every cell: 1 ms of
    # the up-front checks per trial, 5x this).
    return np.array(
        [_float_or_nan(cells[1]) if len(cells) > 1 else np.nan for cells in (row.split("\t", 2) for row in rows)],
        dtype=float,
    )


def _float_or_nan(cell: str) -> float:
    cell = cell.strip()
    if not cell:
        return np.nan
    try:
        return float(cell)
    except ValueError:
        return np.nan


def write_trc(path: str | os.PathLike, markers: MarkerTable) -> None:
    """Write markers as a TRC file in millimetres (as most lab software exports)."""
    path = Path(path)
    names = markers.marker_names
    n = len(markers.time_s)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{markers.rate_hz:g}\t{markers.rate_hz:g}\t{n}\t{len(names)}\tmm\t{markers.rate_hz:g}\t1\t{n}",
        "Frame#\tTime\t" + "\t".join(f"{name}\t\t" for name in names).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(len(names))),
        "",
    ]
    block = np.column_stack([markers.positions_m[name] * 1000.0 for name in names]) if names else np.empty((n, 0))
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            handle.write("\n".join(lines) + "\n")
            for i in range(n):
                cells = [f"{i + 1}", f"{markers.time_s[i]:.6f}"]
                cells += ["NaN" if np.isnan(v) else f"{v:.5f}" for v in block[i]]  # OpenSim drops trailing empty cells
                handle.write("\t".join(cells) + "\n")


# ---------------------------------------------------------------- delimited text


# EMG files given as CSV/TSV are read as pd.read_csv(path, sep=None, engine="python") reads
# them: the delimiter is what csv.Sniffer finds in the first line, Python's csv module
# splits every line and pandas infers each column's type cell by cell: 16 of the 19 ms
# that checking a 10,000-row EMG file took when a study is planned (once per trial), 1.5 ms
# through the C parser.
# read_delimited_numbers gives that table through pandas' C parser when it is sure to be
# the same, and None otherwise (the python engine then reads the file and decides):
# - the file is ASCII (no BOM, no decoding question) and its first line ends in \n or \r\n
#   (no lone \r); the delimiter is csv.Sniffer's on that line, as the python engine sniffs
#   it, and must be ',', ';' or a tab;
# - the other lines hold only the characters of plain numbers (digits . e E + -), the
#   delimiter and line ends (\r only in \r\n): no quotes, spaces, text or NaN words, so the
#   csv module and the C parser split them alike and only an empty cell is NaN;
# - no cell is an integer -0: the python engine reads a column of integers as int64, where
#   -0 is 0, while the C parser, told dtype=float, keeps the sign;
# - the column names, and whether the first data line is longer than the header (then
#   its first cells are an index), are the python engine's own, on the first line and a
#   data line as wide as the file's first (not blank);
# - the C parser finds as many columns as those names (a longer row later is its error);
# - both engines round every decimal correctly (pandas 3.1; tests/test_emg.py compares
#   them); with an older pandas every file goes to the python engine.
# The cells are float64; the python engine's int64 columns are the same after astype(float).
_DELIMITED_ENGINES_AGREE = _PANDAS_VERSION >= (3, 1)
_DELIMITERS = (",", ";", "\t")
# a cell -0, -00, ... (and any e-0 exponent: a few files more for the python engine)
_NEGATIVE_ZERO = {d: re.compile(rb"-0+(?![^%s\r\n])" % d.encode()) for d in _DELIMITERS}


def read_delimited_numbers(path: str | os.PathLike) -> pd.DataFrame | None:
    """pd.read_csv(path, sep=None, engine="python").astype(float), read by pandas' C parser,
    when the file's data lines are plain numbers (see above); None when the python engine
    must read the file."""
    if not _DELIMITED_ENGINES_AGREE:
        return None
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    end = raw.find(b"\n") + 1
    if not end or not raw.isascii() or b"\r" in raw[: end - 2]:
        return None
    header, body = raw[:end].decode("ascii"), raw[end:]
    delimiter = _sniffed_delimiter(header)
    if delimiter not in _DELIMITERS:
        return None
    if body.translate(None, b"0123456789.eE+-\r\n" + delimiter.encode()):
        return None
    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        return None
    if _NEGATIVE_ZERO[delimiter].search(body):
        return None
    first = body[: body.find(b"\n") + 1 or len(body)]
    if not first.strip():
        return None  # no data, or a blank line first
    names = _python_engine_names(header, first.count(delimiter.encode()) + 1)
    if names is None:
        return None
    try:
        table = pd.read_csv(io.BytesIO(body), sep=delimiter, header=None, dtype=float, engine="c", **_PANDAS_EXACT)
    except Exception:  # a cell that is not a number, a row longer than the first, ...: the python engine decides
        return None
    if table.shape[1] != len(names):
        return None
    table.columns = names
    return table


# The trials of a study share their EMG files' first line: sniffed and named once per process.
@functools.lru_cache(maxsize=256)
def _sniffed_delimiter(header: str) -> str | None:
    """The delimiter pandas' python engine sniffs in a file's first line (csv.Sniffer on
    the line with its line end), None when it finds none."""
    try:
        return csv.Sniffer().sniff(header).delimiter
    except csv.Error:
        return None


@functools.lru_cache(maxsize=256)
def _python_engine_names(header: str, n_fields: int) -> pd.Index | None:
    """The columns pd.read_csv(sep=None, engine="python") gives a file of this first line
    and a first data line of n_fields cells, none of them quoted (the names depend on
    nothing else: the header's cells, and an implicit index when the data line is longer);
    None with an implicit index or an error."""
    row = _sniffed_delimiter(header).join(["0"] * n_fields) + "\n"
    try:
        names = pd.read_csv(io.StringIO(header + row, newline=""), sep=None, engine="python")
    except Exception:  # the python engine reports it when it reads the file
        return None
    return names.columns if names.index.equals(pd.RangeIndex(1)) else None


# ------------------------------------------------------------------------- MOT/STO


def read_storage(path: str | os.PathLike) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read an OpenSim .mot/.sto file: (table with a ``time`` column, header dict).

    Accepts the old (name/datacolumns/datarows) and new (version=1, nRows=...) headers.
    """
    columns, data, header = _read_storage_data(Path(path))
    # every column labelled as the first is 'time' (as DataFrame.rename would name them, at
    # a millisecond less per file: every plan reads every trial's GRF)
    table = pd.DataFrame(data, columns=["time" if c == columns[0] else c for c in columns])
    return table, header


def read_storage_time_bounds(path: str | os.PathLike) -> tuple[float, float]:
    """The first and last cells of read_storage(path)'s ``time`` column, with its errors:
    the file is read and checked as read_storage does, without building the table (the
    up-front check of a trial's EMG needs only the span of its GRF)."""
    columns, data, _ = _read_storage_data(Path(path))
    if columns.count(columns[0]) > 1 or "time" in columns[1:]:  # the table has several 'time' columns
        table, _ = read_storage(path)
        return float(table["time"].iloc[0]), float(table["time"].iloc[-1])
    return float(data[0, 0]), float(data[-1, 0])


def _storage_lines(path: Path) -> tuple[list[str], int, int]:
    """(the file's lines, the index of its 'endheader' line, that of its column labels)."""
    if not path.is_file():
        raise InputError(f"file {path} does not exist", fix="check the path in the sheet or config")
    with open(path, errors="replace") as handle:
        lines = handle.read().splitlines()
    try:
        end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    except StopIteration:
        raise InputError(
            f"{path}: no 'endheader' line, so this is not an OpenSim .mot/.sto file",
            fix="export the forces as an OpenSim .mot file (header ending in 'endheader')",
        ) from None
    columns_line = end + 1
    while columns_line < len(lines) and not lines[columns_line].strip():
        columns_line += 1
    if columns_line >= len(lines):
        raise InputError(f"{path}: no column labels after 'endheader'", fix="export the file again")
    return lines, end, columns_line


def _read_storage_data(path: Path) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """(column labels, data rows, header dict) of read_storage."""
    lines, end, columns_line = _storage_lines(path)
    header: dict[str, str] = {}
    for line in lines[:end]:
        if "=" in line:
            key, _, value = line.partition("=")
            header[key.strip()] = value.strip()
        elif line.strip():
            parts = line.split(None, 1)
            header[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    columns = [c.strip() for c in lines[columns_line].split("\t") if c.strip()]
    if len(columns) <= 1:
        columns = lines[columns_line].split()
    if not columns or columns[0].lower() != "time":
        raise InputError(
            f"{path}: the first column must be 'time' (found '{columns[0] if columns else ''}')",
            fix="export the file with a time column first",
        )
    rows = [line for line in lines[columns_line + 1 :] if line.strip()]
    data = _storage_rows_fast(rows, len(columns))
    if data is None:
        data = _storage_rows_by_value(rows, len(columns), path)
    if data.size == 0:
        raise InputError(f"{path}: no data rows", fix="export the file again")
    if data.shape[1] != len(columns):
        raise InputError(
            f"{path}: rows have {data.shape[1]} values but the header names {len(columns)} columns",
            fix="export the file again",
        )
    return columns, data, header


def _storage_rows_fast(rows: list[str], n_columns: int) -> np.ndarray | None:
    """The rows as numbers through numpy's C parser when every row has the same number (at
    least n_columns) of plain numbers; otherwise None (the value-by-value path decides).
    np.loadtxt, not pandas: twice as fast on a GRF file (1.0 against 2.1 ms for Hamner's,
    read by every plan's check of every trial), rounding the same way."""
    if not rows or not _plain_numbers("\n".join(rows)):
        return None
    try:
        data = np.loadtxt(rows, dtype=float, ndmin=2, comments=None)
    except ValueError:  # a row longer or shorter than the others, or a cell that is not a number
        return None
    if len(data) != len(rows) or data.shape[1] < n_columns:
        return None
    return data[:, :n_columns]


def _storage_rows_by_value(rows: list[str], n_columns: int, path: Path) -> np.ndarray:
    try:
        return np.array([[float(v) for v in row.split()[:n_columns]] for row in rows], dtype=float)
    except ValueError as err:
        raise InputError(f"{path}: a data row is not numeric ({err})", fix="export the file again") from None


def storage_rows_around(
    source: str | os.PathLike, out: str | os.PathLike, *, start_s: float, end_s: float, margin_rows: int
) -> Path:
    """A copy of an OpenSim .mot/.sto file with only its rows from ``margin_rows`` before
    ``start_s`` to ``margin_rows`` after ``end_s``: the header and those rows as they are,
    character for character, with the row count (nRows= or datarows) set to theirs."""
    source, out = Path(source), Path(out)
    lines, _, labels = _storage_lines(source)
    rows = [line for line in lines[labels + 1 :] if line.strip()]
    times = np.array([float(row.split(None, 1)[0]) for row in rows])
    first = max(0, int(np.searchsorted(times, start_s, side="left")) - margin_rows)
    last = min(len(times), int(np.searchsorted(times, end_s, side="right")) + margin_rows)
    header = []
    for line in lines[: labels + 1]:
        key = line.strip().split("=", 1)[0].split(None, 1)[0].lower() if line.strip() else ""
        if key == "nrows":
            line = f"nRows={last - first}"
        elif key == "datarows":
            line = f"datarows {last - first}"
        header.append(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        Path(tmp).write_text("\n".join(header + rows[first:last]) + "\n")
    return out


def write_storage(path: str | os.PathLike, table: pd.DataFrame, *, in_degrees: bool, name: str | None = None) -> None:
    """Write a table with a ``time`` column as an OpenSim .mot/.sto file."""
    path = Path(path)
    columns = list(table.columns)
    if columns[0] != "time":
        raise ValueError("the first column must be 'time'")
    header = [
        name or path.stem,
        "version=1",
        f"nRows={len(table)}",
        f"nColumns={len(columns)}",
        f"inDegrees={'yes' if in_degrees else 'no'}",
        "endheader",
        "\t".join(columns),
    ]
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            handle.write("\n".join(header) + "\n")
            np.savetxt(handle, table.to_numpy(dtype=float), delimiter="\t", fmt="%.10g")
