"""The demo's error budget table (retrorun/demo/error_budget.py), without OpenSim: stage
rows measure against the truth through the pipeline's solver, the whole chain reproduces
ground_truth.csv's difference errors with their sign."""

import numpy as np
import pandas as pd
import pytest

from retrorun.demo import checks, error_budget

COMPARE = ["forward", "backward"]
PRIMARY = [
    "quadriceps_hamstrings.quadriceps_share_stance",
    "quadriceps.mean_stance",
    "hamstrings.mean_stance",
    "knee.peak_extension_moment_nm_per_kg",
]


def cycle_metrics(scale: dict[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Per-cycle primary outcomes of 4 subjects, 2 cycles per side and condition."""
    rng = np.random.default_rng(4)
    base = {
        ("quadriceps", "mean_stance"): {"forward": 0.20, "backward": 0.26},
        ("hamstrings", "mean_stance"): {"forward": 0.08, "backward": 0.06},
        ("knee", "peak_extension_moment_nm_per_kg"): {"forward": 2.6, "backward": 2.1},
        ("cycle", "stance_pct"): {"forward": 37.0, "backward": 31.0},
    }
    rows = []
    for s in range(4):
        for condition in COMPARE:
            for side in ("r", "l"):
                for cycle in range(2):
                    q = base[("quadriceps", "mean_stance")][condition] * (1 + 0.1 * rng.standard_normal())
                    h = base[("hamstrings", "mean_stance")][condition] * (1 + 0.1 * rng.standard_normal())
                    k = base[("knee", "peak_extension_moment_nm_per_kg")][condition] * (
                        1 + 0.05 * rng.standard_normal()
                    )
                    values = {
                        ("quadriceps", "mean_stance"): q,
                        ("hamstrings", "mean_stance"): h,
                        ("knee", "peak_extension_moment_nm_per_kg"): k,
                        ("quadriceps_hamstrings", "ratio_mean_stance"): q / h,
                        ("quadriceps_hamstrings", "quadriceps_share_stance"): q / (q + h),
                        ("cycle", "stance_pct"): base[("cycle", "stance_pct")][condition],
                    }
                    for (group, metric), value in values.items():
                        factor = (scale or {}).get((group, metric), 1.0)
                        factor = factor[condition] if isinstance(factor, dict) else factor
                        rows.append(
                            {
                                "subject": f"S{s}",
                                "condition": condition,
                                "trial": f"{condition}_1",
                                "side": side,
                                "cycle": cycle,
                                "strike_s": 0.6 + cycle,
                                "group": group,
                                "metric": metric,
                                "value": value * factor,
                            }
                        )
    return pd.DataFrame(rows)


def test_whole_chain_reproduces_ground_truth_and_stages_are_measured_alone():
    truth = cycle_metrics()
    # the pipeline: quadriceps 10 % low backward only (the difference shrinks), knee 4 % low both ways
    distortion = {
        ("quadriceps", "mean_stance"): {"forward": 1.0, "backward": 0.9},
        ("knee", "peak_extension_moment_nm_per_kg"): 0.96,
    }
    pipeline = cycle_metrics(distortion)
    truth_differences = checks.truth_differences(truth, compare=COMPARE, primary_outcomes=PRIMARY)
    pipeline_differences = checks.truth_differences(pipeline, compare=COMPARE, primary_outcomes=PRIMARY)
    # the baseline (truth through the pipeline's solver) 2 % above the truth in quadriceps;
    # the filter row takes the knee 4 % down from that baseline, every other stage changes nothing
    baseline = cycle_metrics({("quadriceps", "mean_stance"): 1.02})
    stages = [baseline.assign(stage="baseline")]
    for stage in error_budget.STAGES:
        if stage != "so":
            scale = {("quadriceps", "mean_stance"): 1.02}
            if stage == "filter":
                scale[("knee", "peak_extension_moment_nm_per_kg")] = 0.96
            stages.append(cycle_metrics(scale).assign(stage=stage))
    table = error_budget.budget_table(
        pd.concat(stages, ignore_index=True),
        truth,
        pipeline,
        pipeline_differences=pipeline_differences,
        truth_differences=truth_differences,
        compare=COMPARE,
        primary_outcomes=PRIMARY,
        residual_reduction_method="none",
    ).set_index(["outcome", "stage"])

    ground_truth = checks.difference_rows(pipeline_differences, truth_differences, compare=COMPARE)
    for row in ground_truth.itertuples(index=False):
        outcome = row.quantity.split(" ")[0]
        whole = table.loc[(outcome, error_budget.WHOLE_CHAIN)]
        assert abs(whole["difference_error_pct"]) == pytest.approx(row.value, rel=1e-12, abs=1e-12)
    knee = "knee.peak_extension_moment_nm_per_kg"
    assert table.loc[(knee, "filter"), ["forward_error_pct", "backward_error_pct"]].to_numpy() == pytest.approx(
        [-4.0, -4.0]
    )
    assert table.loc[(knee, "filter"), "difference_error_pct"] == pytest.approx(-4.0)  # shrank by 4 %
    assert table.loc[(knee, "events"), "forward_error_pct"] == pytest.approx(0.0, abs=1e-9)
    quadriceps = "quadriceps.mean_stance"
    assert table.loc[(quadriceps, "so"), "forward_error_pct"] == pytest.approx(2.0)
    assert table.loc[(quadriceps, "filter"), "forward_error_pct"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc[(quadriceps, error_budget.WHOLE_CHAIN), "difference_error_pct"] < -10  # shrunk difference
    assert set(table.index.get_level_values("stage")) == {*error_budget.STAGES, error_budget.WHOLE_CHAIN}
    # the outcomes judged are the study's primary ones (config analysis.primary_outcomes)
    assert list(dict.fromkeys(table.index.get_level_values("outcome"))) == PRIMARY


def test_the_truth_grf_moves_into_the_frame_of_the_pipeline_coordinates(tmp_path):
    """The IK row pairs the pipeline's IK (its facing frame: origin at the pelvis markers'
    mean, retrorun.heading) with the truth's GRF: the centres of pressure move with it."""
    from retrorun.demo.error_budget import in_pipeline_frame
    from retrorun.heading import Heading

    grf = pd.DataFrame({"time": [0.0, 0.01]})
    for side in ("r", "l"):
        for pattern in ("ground_force_{s}_v{a}", "ground_force_{s}_p{a}"):
            for axis, value in zip("xyz", (1.0, 2.0, 3.0)):
                grf[pattern.format(s=side, a=axis)] = value
        for axis in "xyz":
            grf[f"ground_torque_{side}_{axis}"] = 0.5
    for heading_deg, origin, expected in (
        (0.0, (4.0, 0.0, 1.0), (-3.0, 2.0, 2.0)),
        (180.0, (4.0, 0.0, 1.0), (5.0, 2.0, 4.0)),
    ):
        path = tmp_path / f"heading_{heading_deg:g}.json"
        Heading(heading_deg=heading_deg, spread_deg=0.0, origin_m=origin, markers=("RASI",), frames=1).write(path)
        moved = in_pipeline_frame(grf, path)
        assert moved[["ground_force_r_px", "ground_force_r_py", "ground_force_r_pz"]].iloc[0].tolist() == pytest.approx(
            list(expected)
        )
        assert (moved["ground_force_l_vx"] == 1.0).all() and (moved["ground_torque_r_y"] == 0.5).all()


def test_only_the_judged_outcomes_are_compared(monkeypatch):
    """The paired tests of every other metric were 90 % of the budget's CPU; a ratio
    outcome still gets its subject means from the metrics it is built from."""
    from retrorun import analysis

    compared = []
    comparison = analysis.comparison

    def recording(subjects, **kwargs):
        compared.extend(zip(subjects["group"], subjects["metric"]))
        return comparison(subjects, **kwargs)

    monkeypatch.setattr(analysis, "comparison", recording)
    judged = [*PRIMARY, "quadriceps_hamstrings.ratio_mean_stance"]
    values = error_budget._study_values(cycle_metrics(), compare=COMPARE, primary_outcomes=judged)
    assert {f"{g}.{m}" for g, m in compared} == set(judged)
    assert np.isfinite(values.loc["quadriceps_hamstrings.ratio_mean_stance", "difference"])
    compared.clear()
    truth = checks.truth_differences(cycle_metrics(), compare=COMPARE, primary_outcomes=judged)
    assert {f"{g}.{m}" for g, m in compared} == set(judged) and len(truth) == len(judged)
