"""write_csv writes the bytes pandas' to_csv(index=False, float_format="%.8g") writes.

write_csv formats most tables itself (pandas' per-value float formatting is slow) and
leaves the rest to pandas; these tests compare its files with pandas' byte for byte, on
edge cases, on random tables, and on every CSV of a results folder (RETRORUN_CSV_CORPUS).
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrorun.formats import _csv_body, write_csv


def assert_as_pandas(table: pd.DataFrame, folder: Path) -> bytes:
    """Write the table with write_csv and with pandas; fail unless the bytes are equal."""
    ours, theirs = folder / "write_csv.csv", folder / "pandas.csv"
    write_csv(ours, table)
    table.to_csv(theirs, index=False, float_format="%.8g")
    assert ours.read_bytes() == theirs.read_bytes()
    return ours.read_bytes()


FLOATS = [0.0, -0.0, 1.0, -1.5, 0.1 + 0.2, 1 / 3, 123456789.0, 1.23456785, 1e-300, 5e-324, 1e300, 1e16, 1e-5]
SPECIAL = [np.nan, np.inf, -np.inf, -np.nan, 2.5e-7, 100.0, -12345.678, 0.5, 1e21, 7e-10, 9.9999999e-5, 42.0, 3.0]


def fast_tables() -> dict[str, pd.DataFrame]:
    """Tables write_csv formats itself."""
    n = len(FLOATS)
    return {
        "floats": pd.DataFrame({"time": FLOATS, "x": SPECIAL}),
        "nan column": pd.DataFrame({"a": FLOATS, "b": [np.nan] * n}),
        "nan and 'nan' text": pd.DataFrame({"v": SPECIAL, "name": ["nan", "NaN", "inf", ""] + ["x"] * (n - 4)}),
        "ints and bools": pd.DataFrame(
            {
                "i64": np.arange(n, dtype=np.int64) - 5,
                "i32": np.arange(n, dtype=np.int32),
                "u8": np.arange(n, dtype=np.uint8),
                "u64": np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64),
                "big": np.full(n, np.iinfo(np.int64).min, dtype=np.int64),
                "flag": np.arange(n) % 2 == 0,
                "x": FLOATS,
            }
        ),
        "object strings": pd.DataFrame({"side": np.array(["left", "right"] * 6 + ["r"], dtype=object), "x": FLOATS}),
        "str dtype, spaces, unicode, tab": pd.DataFrame(
            {"s": pd.array([" a", "b ", "ü", "tab\there", "semi;colon"] + ["z"] * (n - 5), dtype="str"), "x": SPECIAL}
        ),
        "quoted labels": pd.DataFrame(
            {"a,b": FLOATS, 'say "hi"': SPECIAL, "line\nbreak": FLOATS, "": FLOATS, " lead": FLOATS, "ü": FLOATS}
        ),
        "duplicate labels": pd.DataFrame(np.array([FLOATS, SPECIAL]).T, columns=["x", "x"]),
        "no rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=int)}),
        "no rows, strings": pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype="str")}),
        "one row": pd.DataFrame({"a": [np.nan], "b": ["x"], "c": [-0.0]}),
        "index ignored": pd.DataFrame({"a": FLOATS, "b": SPECIAL}, index=pd.Index(range(100, 100 + n), name="frame")),
        "wide": pd.DataFrame(np.random.default_rng(0).normal(size=(50, 200)), columns=[f"c{i}" for i in range(200)]),
    }


def pandas_tables() -> dict[str, pd.DataFrame]:
    """Tables write_csv leaves to pandas (one column, cells the csv writer quotes,
    missing strings, non-string labels, other dtypes): still the same bytes."""
    n = len(FLOATS)
    return {
        "one column, NaN": pd.DataFrame({"a": SPECIAL}),
        "one column": pd.DataFrame({"a": FLOATS}),
        "one string column, empty": pd.DataFrame({"a": ["", "x"]}),
        "only empty strings": pd.DataFrame({"a": [""], "b": [1.0]}),
        "no columns": pd.DataFrame(index=range(3)),
        "empty frame": pd.DataFrame(),
        "quoted strings": pd.DataFrame({"s": ["a,b", 'q"q', "new\nline", "cr\rx"] + ["y"] * (n - 4), "x": FLOATS}),
        "object lists": pd.DataFrame({"o": [[1, 2], [3]], "x": [1.0, 2.0]}),
        "string NaN": pd.DataFrame({"s": ["a", np.nan, None] + ["y"] * (n - 3), "x": FLOATS}),
        "object numbers": pd.DataFrame(
            {"o": np.array([1, 2.5, True, "x"] + [0.1] * (n - 4), dtype=object), "x": FLOATS}
        ),
        "int labels": pd.DataFrame(np.array([FLOATS, SPECIAL]).T),
        "float labels": pd.DataFrame(np.array([FLOATS, SPECIAL]).T, columns=[1.5, 1 / 3]),
        "multiindex labels": pd.DataFrame(
            np.array([FLOATS, SPECIAL]).T, columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
        ),
        "float32": pd.DataFrame(
            {"f": np.array([0.1, 1 / 3, -0.0, 1e-40, 3e38, np.nan, 2.0], dtype=np.float32), "x": 1.0}
        ),
        "nullable": pd.DataFrame(
            {
                "I": pd.array([1, None] + [3] * (n - 2), dtype="Int64"),
                "F": pd.array([0.1, None] + [1 / 3] * (n - 2), dtype="Float64"),
                "B": pd.array([True, None] + [False] * (n - 2), dtype="boolean"),
            }
        ),
        "category": pd.DataFrame({"c": pd.Categorical(["l", "r"] * 6 + ["l"]), "x": FLOATS}),
        "datetime": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="37min"), "x": FLOATS}),
    }


@pytest.mark.parametrize("name", list(fast_tables()))
def test_formatted_tables_are_byte_identical(name, tmp_path):
    table = fast_tables()[name]
    assert _csv_body(table) is not None, "write_csv should format this table itself"
    assert_as_pandas(table, tmp_path)


@pytest.mark.parametrize("name", list(pandas_tables()))
def test_tables_left_to_pandas_are_byte_identical(name, tmp_path):
    table = pandas_tables()[name]
    assert _csv_body(table) is None, "write_csv should leave this table to pandas"
    assert_as_pandas(table, tmp_path)


def test_nan_text_and_signs(tmp_path):
    """What the comparisons above pin down, spelled out: NaN is an empty cell, -0.0 is
    '-0', infinities 'inf'/'-inf', integers and booleans as str() writes them."""
    table = pd.DataFrame({"x": [np.nan, -0.0, np.inf, -np.inf, 0.1], "i": [1, -2, 3, 4, 5], "b": [True] * 5})
    text = assert_as_pandas(table, tmp_path).decode()
    assert text.splitlines() == ["x,i,b", ",1,True", "-0,-2,True", "inf,3,True", "-inf,4,True", "0.1,5,True"]


@pytest.mark.parametrize("seed", range(20))
def test_random_tables(seed, tmp_path):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    columns = {}
    for j in range(int(rng.integers(2, 12))):
        kind = rng.choice(["float", "float", "int", "bool", "str"])
        if kind == "float":
            values = rng.normal(size=n) * 10.0 ** rng.integers(-12, 12)
            values[rng.random(n) < 0.1] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0])
        elif kind == "int":
            values = rng.integers(-(10**12), 10**12, size=n)
        elif kind == "bool":
            values = rng.random(n) < 0.5
        else:
            values = rng.choice(["left", "right", "so", "ik", "S01", "a b", ""], size=n).astype(object)
        columns[f"{kind}_{j}"] = values
    assert_as_pandas(pd.DataFrame(columns), tmp_path)


def check_corpus(folder: Path, scratch: Path) -> int:
    """Read every CSV under folder with pandas and write it again both ways; return how
    many files were compared (assert_as_pandas fails on the first difference)."""
    files = sorted(folder.rglob("*.csv"))
    for path in files:
        try:
            assert_as_pandas(pd.read_csv(path), scratch)
        except AssertionError:
            raise AssertionError(f"write_csv and pandas write {path} differently") from None
    return len(files)


def test_small_corpus(tmp_path):
    """Always run: a folder of tables like the pipeline's, written by pandas, read back."""
    corpus = tmp_path / "results"
    rng = np.random.default_rng(7)
    time_s = np.arange(400) / 200.0
    curves = pd.DataFrame({"time": time_s} | {f"q{j}": np.sin(time_s * j) * 10.0 ** (j - 5) for j in range(40)})
    curves.iloc[::13, 5] = np.nan
    metrics = pd.DataFrame(
        {
            "subject": np.repeat(["S01", "S02"], 30),
            "side": np.tile(["left", "right"], 30),
            "cycle": np.arange(60) % 5,
            "metric": rng.choice(["peak_knee_moment", "stance_s", "cadence"], 60),
            "value": rng.normal(size=60),
            "qc_excluded": rng.random(60) < 0.2,
        }
    )
    notes = metrics.assign(note=np.where(rng.random(60) < 0.5, "check, then keep", None))
    for name, table in {"trials/S01/curves.csv": curves, "tables/metrics.csv": metrics, "notes.csv": notes}.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(corpus / name, index=False, float_format="%.8g")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert check_corpus(corpus, scratch) == 3


def test_results_corpus(tmp_path):
    """Every CSV of a finished study (e.g. RETRORUN_CSV_CORPUS=/tmp/demo_base/results/demo)."""
    folder = os.environ.get("RETRORUN_CSV_CORPUS")
    if not folder:
        pytest.skip("set RETRORUN_CSV_CORPUS to a results folder to compare write_csv with pandas on its CSVs")
    if not Path(folder).is_dir():
        pytest.skip(f"RETRORUN_CSV_CORPUS={folder} is not a folder")
    assert check_corpus(Path(folder), tmp_path) > 0, f"no CSV files under {folder}"
