"""Are two runs of a study the same? Compares every CSV table of two results folders.

Used to show that a refactor changed no number: run the study on the old and the new
code (e.g. two clones), then

    python tools/compare_study_results.py OLD/results/demo NEW/results/demo

Tables are matched by their path inside the folder (logs, benchmarks and the demo's
generated inputs are skipped). Numbers must agree within --rtol/--atol (default: exactly
equal); text must be equal once each run's own repository folder is written as <root>,
so absolute paths in QC tables do not count as differences. Prints one line per table
and exits 1 when any table differs or exists in one run only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SKIPPED_FOLDERS = {"logs", "benchmarks", "inputs"}


def tables(results: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(results.rglob("*.csv")):
        relative = path.relative_to(results)
        if not SKIPPED_FOLDERS.intersection(relative.parts[:-1]):
            found[str(relative)] = path
    return found


def repository_root(results: Path) -> str:
    """The folder the study ran in (results/<study> lies inside it)."""
    return str(results.resolve().parents[1])


def read(path: Path, root: str) -> pd.DataFrame:
    table = pd.read_csv(path, keep_default_na=True)
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            table[column] = table[column].astype(str).str.replace(root, "<root>", regex=False)
    return table


def difference(old: pd.DataFrame, new: pd.DataFrame, *, rtol: float, atol: float) -> str:
    """'' when the tables agree, else what differs first."""
    if list(old.columns) != list(new.columns):
        return f"columns differ: {sorted(set(old.columns) ^ set(new.columns))}"
    if len(old) != len(new):
        return f"{len(old)} rows vs {len(new)}"
    problems = []
    for column in old.columns:
        a, b = old[column], new[column]
        numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
        if numeric:
            x, y = a.to_numpy(float), b.to_numpy(float)
            same = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
            if not same.all():
                worst = np.nanmax(np.abs(x - y))
                problems.append(f"{column}: {int((~same).sum())} value(s) differ, largest by {worst:.3g}")
        elif not a.fillna("").astype(str).equals(b.fillna("").astype(str)):
            row = int(np.flatnonzero(a.fillna("").astype(str).to_numpy() != b.fillna("").astype(str).to_numpy())[0])
            problems.append(f"{column}: row {row} {a.iloc[row]!r} vs {b.iloc[row]!r}")
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="results/<study> of the first run")
    parser.add_argument("new", type=Path, help="results/<study> of the second run")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default 0)")
    parser.add_argument("--atol", type=float, default=0.0, help="absolute tolerance for numbers (default 0)")
    args = parser.parse_args(argv)
    old_tables, new_tables = tables(args.old), tables(args.new)
    old_root, new_root = repository_root(args.old), repository_root(args.new)
    differing = 0
    for name in sorted(set(old_tables) | set(new_tables)):
        if name not in new_tables or name not in old_tables:
            print(f"ONLY IN {'OLD' if name in old_tables else 'NEW'}  {name}")
            differing += 1
            continue
        what = difference(
            read(old_tables[name], old_root), read(new_tables[name], new_root), rtol=args.rtol, atol=args.atol
        )
        print(f"{'DIFFERS' if what else 'same':8} {name}" + (f": {what}" if what else ""))
        differing += bool(what)
    print(f"{len(set(old_tables) | set(new_tables))} tables, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
