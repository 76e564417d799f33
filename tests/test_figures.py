"""Figures and study tables from constructed tables, including a study without any used
gait cycle (every figure must still be drawn, saying why it is empty)."""

import numpy as np
import pandas as pd

from retrorun import analysis, figures
from retrorun.cycles import PERCENT


def curves_table(n_subjects=4):
    rows, rng = [], np.random.default_rng(1)
    for k in range(n_subjects):
        for condition, shift in (("forward", 0.0), ("backward", 0.2)):
            curve = (
                0.3 * np.exp(-0.5 * ((PERCENT - 20) / 8) ** 2)
                + shift * (PERCENT > 50)
                + 0.01 * k
                + rng.normal(0, 0.01, PERCENT.size)
            )
            rows += [
                {
                    "subject": f"s{k}",
                    "condition": condition,
                    "variable": "quadriceps_activation",
                    "pct": p,
                    "value": v,
                    "n_cycles": 2,
                }
                for p, v in zip(PERCENT, curve)
            ]
    return pd.DataFrame(rows)


def test_figures_are_written_as_png_and_svg(tmp_path):
    curves = curves_table()
    spm = analysis.spm_table(
        curves, variables=["quadriceps_activation"], compare=["forward", "backward"], alpha=0.05, min_subjects=3
    )
    assert spm["cluster"].notna().any()  # the step after 50 % is found
    figure = figures.mean_sd_curves(
        curves, variables={"quadriceps_activation": "quadriceps"}, compare=["forward", "backward"], title="t", spm=spm
    )
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "forward (n=4)" in labels and "backward (n=4)" in labels and "SPM p < 0.05" in labels
    figures.save(figure, png=tmp_path / "a.png", svg=tmp_path / "a.svg")
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG" and b"<svg" in (tmp_path / "a.svg").read_bytes()[:2000]


def test_a_study_without_used_cycles_still_gets_tables_and_figures(tmp_path):
    empty_metrics = pd.DataFrame(columns=analysis.METRIC_COLUMNS)
    info = {"subject": "s1", "condition": "forward", "trial": "t1"}
    long = analysis.long_cycles([(info, empty_metrics)])
    subjects = analysis.subject_means(long)
    comparison = analysis.comparison(subjects, compare=["forward", "backward"], min_cycles=1, min_subjects=3)
    assert len(comparison) == 1 and "no used gait cycle" in comparison["note"].iloc[0]
    curves = analysis.mean_curves(
        [(info, pd.DataFrame(columns=["side", "cycle", "pct", "quadriceps_activation"]))],
        variables=["quadriceps_activation"],
    )
    spm = analysis.spm_table(
        curves, variables=["quadriceps_activation"], compare=["forward", "backward"], alpha=0.05, min_subjects=3
    )
    assert spm["n_subjects"].iloc[0] == 0 and "need at least 3" in spm["note"].iloc[0]
    counts = analysis.cycle_counts(
        [(info, pd.DataFrame(columns=["side", "status"]))],
        [{"subject": "s2", "condition": "forward", "trial": "t2", "stage": "inverse_kinematics"}],
        sides=["r", "l"],
    )
    qc = pd.DataFrame(
        {
            "subject": ["s1", "s2"],
            "trial": ["t1", "t2"],
            "status": ["done", "failed"],
            "pass": [True, False],
            "flags": ["", "failed:inverse_kinematics"],
        }
    )
    for name, figure in {
        "curves": figures.mean_sd_curves(
            curves, variables={"quadriceps_activation": "q"}, compare=["forward", "backward"], title="t", spm=spm
        ),
        "ratio": figures.paired_ratio(
            subjects, compare=["forward", "backward"], metrics={"ratio_mean_cycle": "r"}, group="quadriceps_hamstrings"
        ),
        "qc": figures.qc_overview(counts, qc),
        "chains": figures.chains(curves, subjects, compare=["forward", "backward"], stance_pct={}),
        "placement": figures.foot_placement(subjects, compare=["forward", "backward"]),
    }.items():
        figures.save(figure, png=tmp_path / f"{name}.png", svg=tmp_path / f"{name}.svg")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert "failed:inverse_kinematics" in set(counts["status"])


def test_chain_and_foot_placement_figures_draw_both_conditions(tmp_path):
    chains = curves_table()
    chains = pd.concat(
        [
            chains.assign(variable="front_chain_activation"),
            chains.assign(variable="rear_chain_activation", value=chains["value"] * 0.5),
        ],
        ignore_index=True,
    )
    rows = []
    for k in range(4):
        for condition, sign in (("forward", 1.0), ("backward", -1.0)):
            means = {
                ("front_chain", "mean_stance"): 0.3,
                ("rear_chain", "mean_stance"): 0.2,
                ("cycle", "stance_pct"): 38.0,
                ("placement", "com_to_ankle_at_contact_m"): 0.2 * sign,
                ("placement", "com_to_ankle_at_toe_off_m"): -0.2 * sign,
                ("placement", "com_to_cop_at_contact_m"): 0.15 * sign,
                ("placement", "com_to_cop_at_toe_off_m"): -0.15 * sign,
                ("com_hip", "offset_stance_mean_m"): 0.01 * k,
            }
            rows += [
                {"subject": f"s{k}", "condition": condition, "group": g, "metric": m, "mean": v, "n_cycles": 2}
                for (g, m), v in means.items()
            ]
    subjects = pd.DataFrame(rows)
    compare = ["forward", "backward"]
    chain_figure = figures.chains(chains, subjects, compare=compare, stance_pct={"forward": 38.0, "backward": 35.0})
    assert len(chain_figure.axes) == 3 and [a.get_title() for a in chain_figure.axes[:2]] == compare
    assert all(len(axis.lines) >= 2 for axis in chain_figure.axes)
    placement = figures.foot_placement(subjects, compare=compare)
    # two points (ankle, COP) and the hips per condition
    assert len(placement.axes[0].lines) >= 6
    for name, figure in (("chains", chain_figure), ("placement", placement)):
        figures.save(figure, png=tmp_path / f"{name}.png", svg=tmp_path / f"{name}.svg")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_qc_overview_of_a_large_study_has_a_row_per_subject(tmp_path):
    """1000 trials (50 subjects x 20) made one row per trial and side: a 700-inch figure,
    27 MB of PNG, two minutes and 2 GB to draw. Above figures.MAX_TRIAL_ROWS rows each
    subject is one row, its trials summed, with its failed trials and QC verdicts counted."""
    from retrorun.cycle_plan import STATUSES

    counts_rows, qc_rows = [], []
    no_cycles = {f"n_{status}": 0 for status in STATUSES}
    for s in range(50):
        for t in range(20):
            subject, trial = f"s{s:03d}", f"t{t:02d}"
            failed = s == 3 and t == 7
            if failed:
                counts_rows.append({"subject": subject, "trial": trial, "side": "", "status": "failed:ik"} | no_cycles)
            else:
                for side in ("r", "l"):
                    row = {"subject": subject, "trial": trial, "side": side, "status": "done"}
                    counts_rows.append(row | no_cycles | {"n_used": 3})
            flags = "" if t % 2 else "ik_marker_rms;residual_force"
            qc_rows.append(
                {
                    "subject": subject,
                    "trial": trial,
                    "status": "failed" if failed else "done",
                    "pass": not failed and not flags,
                    "flags": flags,
                }
            )
    counts = pd.DataFrame(counts_rows)
    figure = figures.qc_overview(counts, pd.DataFrame(qc_rows))
    left, right = figure.axes
    assert len(left.get_yticks()) == 50 and len(right.get_yticks()) == 50
    assert figure.get_figheight() < 25
    assert left.get_yticklabels()[3].get_text() == "s003 (20 trials)"
    assert "trials 1 failed" in [text.get_text() for text in left.texts]
    # s003: the odd trials pass but t07, which failed; the even ones are flagged; its flags counted
    widths = [patch.get_width() for patch in right.patches if abs(patch.get_y() + patch.get_height() / 2 - 3) < 1e-9]
    assert widths == [9, 10, 1]
    assert any(text.get_text().startswith("ik_marker_rms 10") for text in right.texts)
    figures.save(figure, png=tmp_path / "qc.png", svg=tmp_path / "qc.svg")
    assert (tmp_path / "qc.png").stat().st_size < 1_000_000
