"""Chunk boundaries fall on frames, cover the window once, and merge back in order."""

import numpy as np
import pandas as pd
import pytest

from retrorun import so_chunks


def test_chunks_cover_the_window_on_frame_times():
    times = np.round(np.arange(0, 3, 0.01), 10)
    ranges = [so_chunks.chunk_range(times, start=0.5, end=2.5, chunk=k, count=3) for k in range(3)]
    assert ranges[0][0] == 0.5 and ranges[-1][1] == 2.5
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert end == start  # consecutive chunks share one boundary frame
    assert all(t in times for r in ranges for t in r)


def test_merge_keeps_the_earlier_chunks_boundary_frame():
    a = pd.DataFrame({"time": [0.0, 0.1, 0.2], "x": [1, 2, 3]})
    b = pd.DataFrame({"time": [0.2, 0.3], "x": [3.001, 4]})
    merged = so_chunks.merge([a, b])  # in chunk order: the earlier chunk keeps the shared frame
    assert merged["time"].tolist() == [0.0, 0.1, 0.2, 0.3]
    assert merged["x"].tolist() == [1, 2, 3, 4]


def test_warmup_starts_earlier_but_not_before_the_data():
    times = np.arange(0, 1, 0.1)
    assert so_chunks.warmup_start(times, 0.5, frames=3) == pytest.approx(0.2)
    assert so_chunks.warmup_start(times, 0.1, frames=3) == 0.0


def test_too_many_chunks():
    with pytest.raises(ValueError, match="cannot be split"):
        so_chunks.chunk_range(np.arange(5.0), start=0, end=4, chunk=0, count=5)


def test_chunk_index_from_path():
    assert so_chunks.chunk_index("results/s/trials/a/b/so_chunks/2-of-4/so_force.sto") == 2


@pytest.mark.slow
def test_chunked_so_matches_unsplit_on_hamner_running(tmp_path):
    """Real SO (Hamner, 92 muscles, one gait cycle per side) unsplit and in 3 chunks: same
    frames, activations within 0.01 (the tolerance of issue 6; tools/benchmark_so_chunks.py
    measured 0.0000 with 2 chunks over 181 frames)."""
    from conftest import REPO, shared
    from workflow_runner import ok, snakemake

    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    examples = REPO / "config" / "examples" / "hamner-run"
    trial = "trials/subject02/run"
    # SO (its chunks, their merge) up to the trial's QC, which every layout declares:
    # unsplit, the trial is one job (rule trial); in chunks, its motion, the chunks' jobs
    # and its analysis (TRIAL_IN_ONE_JOB, workflow/rules/common.smk)
    trial_qc = "qc.json"
    # config_chunks.yaml is config.yaml with chunks: 3 and its own study name; a flag
    # goes between --configfile (which takes several values) and the target
    # the first cycle of each side (0.05-1.12 s, 64 frames), not all 27 of the trial
    first = ("--config", "analysis={cycles: 1}")
    ok(snakemake(tmp_path, examples / "config.yaml", *first, "--keep-going", f"results/hamner-run/{trial}/{trial_qc}"))
    ok(
        snakemake(
            tmp_path,
            examples / "config_chunks.yaml",
            *first,
            "--keep-going",
            f"results/hamner-run-chunked/{trial}/{trial_qc}",
        )
    )
    whole = pd.read_csv(tmp_path / "results/hamner-run" / trial / "so_activations.csv")
    split = pd.read_csv(tmp_path / "results/hamner-run-chunked" / trial / "so_activations.csv")
    assert len(list((tmp_path / "results/hamner-run-chunked" / trial / "so_chunks").glob("*-of-3"))) == 3
    assert split["time_s"].tolist() == whole["time_s"].tolist()
    difference = (split.drop(columns="time_s") - whole.drop(columns="time_s")).abs()
    worst = difference.max().idxmax()
    assert difference.to_numpy().max() <= 0.01, f"{worst} differs by {difference[worst].max():.4f}"
