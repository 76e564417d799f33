"""Whether two runs of a study gave the same answer: the comparison table and the QC
table of two results/<study> folders, cell by cell.

For a refactor that must leave the outputs as they were: run the study (e.g. the demo)
on the old and the new code into two working directories, then

    python tools/compare_study_tables.py OLD/results/demo NEW/results/demo

Exit status 0 when both tables are equal (numbers to ``--rtol``, default exact), 1 with
the differing cells listed otherwise.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = ("tables/comparison.csv", "qc.csv")


def differences(old: pd.DataFrame, new: pd.DataFrame, *, rtol: float) -> list[str]:
    """One line per differing column set, row count or cell."""
    if list(old.columns) != list(new.columns):
        return [f"columns differ: {sorted(set(old.columns) ^ set(new.columns))}"]
    if len(old) != len(new):
        return [f"{len(old)} rows before, {len(new)} after"]
    found = []
    for column in old.columns:
        a, b = old[column], new[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=rtol, atol=0.0, equal_nan=True)
        else:
            same = (a.fillna("<empty>").astype(str) == b.fillna("<empty>").astype(str)).to_numpy()
        for row in np.flatnonzero(~same)[:5]:
            found.append(f"row {row}, column {column}: {a.iloc[row]!r} -> {b.iloc[row]!r}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="results/<study> folder of the run before the change")
    parser.add_argument("new", type=Path, help="results/<study> folder of the run after it")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance on numbers (default: exact)")
    args = parser.parse_args()
    failed = False
    for name in TABLES:
        old, new = pd.read_csv(args.old / name), pd.read_csv(args.new / name)
        found = differences(old, new, rtol=args.rtol)
        print(f"{name}: {len(old)} rows x {len(old.columns)} columns, " + ("equal" if not found else "DIFFERENT"))
        for line in found:
            print(f"  {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
