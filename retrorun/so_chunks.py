"""Splitting a static optimization window into consecutive chunks, and merging them.

SO solves each frame on its own, so chunks can run as parallel jobs; each chunk's SO
reads the whole filtered IK file, so coordinate splines and their derivatives at a
chunk's edges are those of the unsplit run.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# SO warm-starts each frame from the previous frame's solution; a chunk started cold
# in mid-stance can fail to converge (seen with the Hamner model at 1.3 s), so every
# chunk after the first solves this many frames before its own, then drops them.
WARMUP_FRAMES = 10


def chunk_range(times: np.ndarray, *, start: float, end: float, chunk: int, count: int) -> tuple[float, float]:
    """Time range of chunk ``chunk`` (0-based) of ``count``, on frame times inside [start, end].

    Consecutive chunks share their boundary frame; ``merge`` keeps it once."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not 0 <= chunk < count:
        raise ValueError(f"chunk must be in 0..{count - 1}, got {chunk}")
    frames = times[(times >= start - 1e-9) & (times <= end + 1e-9)]
    if len(frames) < count + 1:
        raise ValueError(f"{len(frames)} frames cannot be split into {count} chunks")
    edges = np.linspace(0, len(frames) - 1, count + 1).round().astype(int)
    return float(frames[edges[chunk]]), float(frames[edges[chunk + 1]])


def warmup_start(times: np.ndarray, first: float, *, frames: int = WARMUP_FRAMES) -> float:
    """The time ``frames`` frames before ``first`` (or the first frame there is)."""
    index = int(np.searchsorted(times, first - 1e-9))
    return float(times[max(index - frames, 0)])


def merge(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate chunk tables in time order, keeping a shared boundary frame once."""
    table = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable")
    return table.drop_duplicates(subset="time", keep="first").reset_index(drop=True)


def chunk_index(path: str) -> int:
    match = re.search(r"so_chunks/(\d+)-of-\d+/", str(path))
    if match is None:
        raise ValueError(f"not a chunk path: {path}")
    return int(match.group(1))
