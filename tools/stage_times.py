"""Wall time and memory of every job of a finished study, from Snakemake's benchmarks.

    python tools/stage_times.py results/<study>

Prints one row per rule and subject/trial (seconds, max RSS in MB), whether the stage's
last run reused its earlier outputs (a chained stage whose inputs, settings and code were
unchanged: retrorun/stage_reuse.py), and, for trials, the frames SO processed (from
qc.csv), so per-frame costs can be compared.
"""

import sys
from pathlib import Path

import pandas as pd

from retrorun.stage_reuse import REUSED_NOTE


def reused(study_dir: Path, benchmark: Path) -> bool:
    """Whether the stage's log (beside its benchmark, under logs/) says it was reused."""
    log = study_dir / "logs" / benchmark.relative_to(study_dir / "benchmarks").with_suffix(".log")
    if not log.is_file():
        return False
    with open(log, errors="replace") as handle:
        return handle.readline().startswith(REUSED_NOTE)


def stage_times(study_dir: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((study_dir / "benchmarks").rglob("*.tsv")):
        parts = path.relative_to(study_dir / "benchmarks").with_suffix("").parts
        bench = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "rule": parts[0],
                "job": "/".join(parts[1:]),
                "wall_s": float(bench["s"].iloc[0]),
                "max_rss_mb": float(bench["max_rss"].iloc[0]) if "max_rss" in bench else float("nan"),
                "reused": reused(study_dir, path),
            }
        )
    table = pd.DataFrame(rows)
    qc_path = study_dir / "qc.csv"
    if qc_path.is_file() and len(table):
        qc = pd.read_csv(qc_path)
        frames = {f"{s}/{t}": n for s, t, n in qc[["subject", "trial", "n_frames"]].itertuples(index=False)}
        table["so_frames"] = [frames.get("/".join(job.split("/")[:2])) for job in table["job"]]
    return table


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(stage_times(Path(sys.argv[1])).to_string(index=False))
