"""Issue 19, items 1, 6, 8 and 9: forward-backward comparisons that no step can bias.

Constructed tables and curves with known answers; each test fails on the code before
the issue (no quadriceps share, silent drops, SPM refused for one flat condition, one
fixed test, Holm ignored in the Wilcoxon note, no speed)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_metrics import SETTINGS, cycles_of, synthetic_trial
from test_stats import bump

from retrorun import analysis, front_page, metrics, speed, stats

ROOT = Path(__file__).resolve().parents[1]
COMPARE = ["forward", "backward"]
SILENT_BACKWARD = {"S2", "S5", "S7"}


def cycle_rows(subject, condition, *, q, h, n_cycles=3, stance_s=0.25, duration_s=0.7):
    """One subject's used cycles in one condition: quadriceps and hamstrings mean stance
    activation ``q`` and ``h`` (above the floor), as analyse_trial writes them."""
    rows = []
    for cycle in range(n_cycles):
        values = {
            ("cycle", "duration_s"): duration_s,
            ("cycle", "stance_pct"): 100 * stance_s / duration_s,
            ("quadriceps", "mean_stance"): q,
            ("hamstrings", "mean_stance"): h,
            ("quadriceps", "integrated_stance_s"): q * stance_s,
            ("hamstrings", "integrated_stance_s"): h * stance_s,
            ("quadriceps_hamstrings", "quadriceps_share_stance"): metrics.share(q, h),
            ("quadriceps_hamstrings", "ratio_mean_stance"): metrics.ratio(q, h),
        }
        rows += [
            {
                "subject": subject,
                "condition": condition,
                "trial": f"{condition}_1",
                "side": "r",
                "cycle": cycle,
                "group": group,
                "metric": metric,
                "value": value,
                "note": "",
            }
            for (group, metric), value in values.items()
        ]
    return rows


def eight_subjects_three_silent():
    """8 subjects; backward their quadriceps work more and their hamstrings less, and
    3 of them (the most extreme) have silent hamstrings in backward stance."""
    rows = []
    for k in range(8):
        subject = f"S{k}"
        rows += cycle_rows(subject, "forward", q=0.20 + 0.01 * k, h=0.10)
        h_back = 0.0 if subject in SILENT_BACKWARD else 0.06 + 0.002 * k
        rows += cycle_rows(subject, "backward", q=0.30 + 0.01 * k, h=h_back)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- item 1: quadriceps share


def test_silent_hamstrings_keep_the_subject_in_the_quadriceps_share_and_are_named_in_the_ratio():
    subjects = analysis.subject_means(eight_subjects_three_silent())
    table = analysis.comparison(
        subjects,
        compare=COMPARE,
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["quadriceps_hamstrings.quadriceps_share_stance"],
    ).set_index(["group", "metric"])
    share = table.loc[("quadriceps_hamstrings", "quadriceps_share_stance")]
    assert share["family"] == "primary" and share["n_subjects"] == 8 and share["scale"] == "linear"
    # the silent subjects' backward share is 1 (bounded), not dropped
    backward = subjects[(subjects["metric"] == "quadriceps_share_stance") & (subjects["condition"] == "backward")]
    assert backward.set_index("subject").loc[sorted(SILENT_BACKWARD), "mean"].tolist() == [1.0, 1.0, 1.0]
    ratio = table.loc[("quadriceps_hamstrings", "ratio_mean_stance")]
    assert ratio["n_subjects"] == 5
    assert "3 subject(s) left out" in ratio["note"]
    for subject in SILENT_BACKWARD:
        assert f"{subject} (backward: hamstrings at their activation floor" in ratio["note"]
    # the front page names them under the primary row they leave
    as_primary = analysis.comparison(
        subjects,
        compare=COMPARE,
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=["quadriceps_hamstrings.ratio_mean_stance"],
    )
    counts = pd.DataFrame(
        [
            {"subject": f"S{k}", "trial": f"{c}_1", "condition": c, "side": "r", "status": "done", "n_used": 3}
            for k in range(8)
            for c in COMPARE
        ]
    )
    qc = pd.DataFrame(columns=["subject", "trial", "condition", "status", "pass", "flags"])
    text = front_page.front_page(study="s", comparison=as_primary, counts=counts, qc=qc, qc_gate="exclude", alpha=0.05)
    line = next(line for line in text.splitlines() if "(``quadriceps_hamstrings.ratio_mean_stance``)" in line)
    assert "3 subject(s) left out" in line and all(f"{subject} (backward" in line for subject in SILENT_BACKWARD)
    # and, with the subjects table, every row each subject leaves, with the reason
    text = front_page.front_page(
        study="s", comparison=as_primary, counts=counts, qc=qc, qc_gate="exclude", alpha=0.05, subjects=subjects
    )
    section = text.split("Subjects left out of a comparison row")[1].split("Quality checks")[0]
    assert (
        "- S2: quadriceps:hamstrings ratio of mean activation in stance, Q/H "
        "(``quadriceps_hamstrings.ratio_mean_stance``): backward: hamstrings at their activation floor" in section
    )
    assert "S0" not in section and "quadriceps_share" not in section


def test_the_share_is_bounded_and_defined_whenever_either_group_is_active():
    assert metrics.share(0.2, 0.0) == 1.0 and metrics.share(0.0, 0.2) == 0.0
    assert metrics.share(0.3, 0.1) == pytest.approx(0.75)
    assert np.isnan(metrics.share(0.0, 0.0))
    # no knife edge at the silence threshold: just above and below it the share is ~1
    assert metrics.share(0.2, 0.0011) == pytest.approx(metrics.share(0.2, 0.0009), abs=0.001)
    pair = metrics.pair_metrics(np.linspace(0, 100, 101), np.full(101, 0.3), np.zeros(101), stance_pct=40.0)
    assert pair["quadriceps_share_stance"] == 1.0 and np.isnan(pair["ratio_mean_stance"])


def test_the_default_primary_outcome_is_the_quadriceps_share_and_the_ratio_stays_secondary():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    primary = schema["properties"]["analysis"]["properties"]["primary_outcomes"]["default"]
    assert primary[0] == "quadriceps_hamstrings.quadriceps_share_stance"
    assert not any(name.startswith("quadriceps_hamstrings.ratio") for name in primary)
    assert "ratio_mean_stance" in metrics.PAIR_METRICS


def test_subjects_left_out_for_too_few_cycles_or_a_missing_condition_are_named():
    rows = eight_subjects_three_silent()
    rows = rows[~((rows["subject"] == "S0") & (rows["condition"] == "backward"))]  # S0 ran no backward cycle
    rows = rows[~((rows["subject"] == "S1") & (rows["condition"] == "forward") & (rows["cycle"] > 0))]
    table = analysis.comparison(analysis.subject_means(rows), compare=COMPARE, min_cycles=2, min_subjects=3)
    row = table.set_index(["group", "metric"]).loc[("quadriceps", "mean_stance")]
    assert row["n_subjects"] == 6
    assert "S0 (backward: no used cycle)" in row["note"]
    assert "S1 (forward: 1 cycle(s) with a value, analysis.min_cycles 2)" in row["note"]


# ---------------------------------------------------------------- item 6: SPM


def test_spm_runs_when_only_one_condition_is_flat_in_every_subject():
    rng = np.random.default_rng(6)
    forward = np.array([bump(30) + rng.normal(0, 0.05, 101) for _ in range(8)])
    backward = forward + rng.normal(0, 0.05, (8, 101))
    backward[:, 40:51] = 0.0  # backward at the activation floor in every subject, forward active
    rows = stats.spm_paired(forward, backward, alpha=0.05, condition_a="forward", condition_b="backward")
    assert np.isfinite(rows[0]["cluster"]), rows
    assert any(r["direction"] == "backward < forward" and r["start_pct"] <= 41 and r["end_pct"] >= 49 for r in rows)


def test_curves_are_also_normalised_to_stance_and_spm_says_which():
    grf, activations, ik, id_forces = synthetic_trial()
    result = analysis.analyse_trial(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS,
        mass_kg=70.0,
    )
    stance = result.stance_curves
    assert len(stance) == 2 * 101 and stance["pct"].max() == 100.0
    # quadriceps 0.5 throughout stance, knee extension a 2 N·m/kg half sine peaking at mid-stance
    inner = stance[(stance["pct"] > 3) & (stance["pct"] < 97)]
    np.testing.assert_allclose(inner["quadriceps_activation"], 0.5, atol=1e-6)
    peak = stance.loc[stance[analysis.KNEE_MOMENT].idxmax()]
    assert peak[analysis.KNEE_MOMENT] == pytest.approx(2.0, abs=0.01) and peak["pct"] == pytest.approx(50, abs=3)
    curves = pd.DataFrame(
        [
            {"subject": f"s{k}", "condition": c, "variable": "v", "pct": p, "value": 0.1 * k + (c == "backward")}
            | {"n_cycles": 2}
            for k in range(4)
            for c in COMPARE
            for p in np.linspace(0, 100, 101)
        ]
    )
    spm = analysis.spm_table(
        curves, variables=["v"], compare=COMPARE, alpha=0.05, min_subjects=3, normalised_to="stance"
    )
    assert list(spm["normalised_to"]) == ["stance"] and "no variance" in spm["note"].iloc[0]


# ---------------------------------------------------------------- item 8: statistics


def test_the_configured_test_gives_the_p_of_each_row_holm_adjusted():
    subjects = analysis.subject_means(eight_subjects_three_silent())
    common = dict(compare=COMPARE, min_cycles=1, min_subjects=3, primary_outcomes=["quadriceps.mean_stance"])
    for test, column in (("t", "t_test_p"), ("wilcoxon", "wilcoxon_p")):
        table = analysis.comparison(subjects, test=test, **common)
        assert (table["test"] == test).all()
        np.testing.assert_array_equal(table["p"], table[column])
        for family in ("primary", "secondary"):
            own = table[table["family"] == family]
            np.testing.assert_allclose(own["p_holm"], stats.holm(own[column]))
    assert "t_test_p_holm" not in table and "wilcoxon_p_holm" not in table


def test_the_wilcoxon_minimum_n_note_accounts_for_holm_over_the_family():
    # 4 primary outcomes: Holm's smallest threshold is 0.05 / 4; 2 / 2**7 > 0.0125 >= 2 / 2**8
    assert stats.wilcoxon_min_subjects(0.05 / 4) == 8
    note = stats.wilcoxon_family_note(7, alpha=0.05, family_size=4, family="primary")
    assert "below 8 subjects" in note and "4 primary outcome(s)" in note
    assert stats.wilcoxon_family_note(8, alpha=0.05, family_size=4) == ""
    rows = eight_subjects_three_silent()
    rows = rows[rows["subject"] != "S7"]  # 7 subjects
    primary = [
        "quadriceps_hamstrings.quadriceps_share_stance",
        "quadriceps.mean_stance",
        "hamstrings.mean_stance",
        "cycle.stance_pct",
    ]
    table = analysis.comparison(
        analysis.subject_means(rows),
        compare=COMPARE,
        min_cycles=1,
        min_subjects=3,
        primary_outcomes=primary,
        test="wilcoxon",
    )
    first = table.iloc[0]
    assert first["n_subjects"] == 7 and "no Holm-adjusted p can reach alpha 0.05 below 8 subjects" in first["note"]


def test_cycles_of_qc_excluded_trials_are_flagged_in_the_cycle_table():
    info = [{"subject": "s1", "condition": c, "trial": f"{c}_1"} for c in COMPARE]
    table = pd.DataFrame({"side": ["r"], "cycle": [0], "group": ["cycle"], "metric": ["duration_s"], "value": [0.7]})
    table["note"] = ""
    long = analysis.long_cycles([(i, table) for i in info], excluded={("s1", "backward_1"): "QC failed: x"})
    assert dict(zip(long["trial"], long["qc_excluded"])) == {"forward_1": False, "backward_1": True}


# ---------------------------------------------------------------- item 9: groups and speed


def test_the_shipped_hamstrings_are_the_biarticular_ones_and_the_short_head_stands_alone():
    # gait2392/Hamner names, and the Rajagopal lineage's
    biarticular = [{"semimem", "semiten", "bifemlh"}, {"semimem", "semiten", "bflh"}]
    for path in [ROOT / "config/config.yaml", *sorted((ROOT / "config/examples").glob("*/config*.yaml"))]:
        groups = yaml.safe_load(path.read_text())["muscle_groups"]
        assert set(groups["hamstrings"]) in biarticular, path
    assert yaml.safe_load((ROOT / "config/config.yaml").read_text())["muscle_groups"]["bifemsh"] == ["bifemsh"]


def test_speed_is_the_pelvis_horizontal_speed_whichever_way_the_runner_faces():
    time = np.linspace(0.0, 1.0, 101)
    for direction in (1.0, -1.0):
        ik = pd.DataFrame({"time_s": time, "pelvis_tx_m": 5.0 + direction * 3.0 * time, "pelvis_tz_m": 0.4 * time})
        found = speed.cycle_speed_m_s(ik, start_s=0.2, end_s=0.9, coordinates=["pelvis_tx", "pelvis_tz"])
        assert found == pytest.approx(np.hypot(3.0, 0.4))
    grf, activations, ik, id_forces = synthetic_trial()
    ik["pelvis_tx_m"] = -2.5 * ik["time_s"]
    common = dict(
        cycles=cycles_of(grf),
        activations=activations,
        ik=ik,
        id_forces=id_forces,
        groups={"quadriceps": ["vas", "rf"], "hamstrings": ["bf"]},
        sides={"r": "_r", "l": "_l"},
        settings=SETTINGS,
        mass_kg=70.0,
    )
    found = analysis.analyse_trial(**common).metrics.set_index(["group", "metric"]).loc[("cycle", "speed_m_s")]
    np.testing.assert_allclose(found["value"], 2.5)
    assert speed.trial_speed_m_s(analysis.analyse_trial(**common).metrics) == pytest.approx(2.5)
    # a treadmill: the pelvis stays put, so no speed but a note, unless the trials sheet gives the belt's
    common["ik"] = ik.assign(pelvis_tx_m=0.01 * ik["time_s"])
    still = analysis.analyse_trial(**common).metrics.set_index(["group", "metric"]).loc[("cycle", "speed_m_s")]
    assert still["value"].isna().all() and still["note"].str.contains("a treadmill").all()
    belt = analysis.analyse_trial(**common, speed_m_s=3.2).metrics.set_index(["group", "metric"])
    np.testing.assert_allclose(belt.loc[("cycle", "speed_m_s"), "value"], 3.2)


def test_subjects_whose_conditions_differ_in_speed_are_flagged_on_the_row_and_the_front_page():
    rows = []
    for k, backward_speed in enumerate([3.0, 3.1, 2.7, 3.0]):  # S2 runs backward 10 % slower
        for condition, value in (("forward", 3.0), ("backward", backward_speed)):
            own = cycle_rows(f"S{k}", condition, q=0.2 + 0.01 * k, h=0.1)
            rows += [r | {"metric": "speed_m_s", "value": value} for r in own if r["metric"] == "duration_s"]
            rows += own
    subjects = analysis.subject_means(pd.DataFrame(rows))
    flagged = speed.speed_mismatches(subjects, compare=COMPARE, max_difference=0.05)
    assert list(flagged["subject"]) == ["S2"] and flagged["relative_difference"].iloc[0] == pytest.approx(-0.1)
    table = analysis.comparison(
        subjects,
        compare=COMPARE,
        min_cycles=1,
        min_subjects=3,
        notes={("cycle", "speed_m_s"): "; ".join(flagged["note"])},
    )
    assert "S2 ran backward at 2.70 m/s" in table.set_index(["group", "metric"]).loc[("cycle", "speed_m_s"), "note"]
    counts = pd.DataFrame(
        [
            {"subject": f"S{k}", "trial": f"{c}_1", "condition": c, "side": "r", "status": "done", "n_used": 3}
            for k in range(4)
            for c in COMPARE
        ]
    )
    qc = pd.DataFrame(columns=["subject", "trial", "condition", "status", "pass", "flags"])
    text = front_page.front_page(
        study="s", comparison=table, counts=counts, qc=qc, qc_gate="exclude", alpha=0.05, subjects=subjects
    )
    assert "Running speed" in text and "S2 ran backward at 2.70 m/s and forward at 3.00 m/s (-10.0 %" in text


def test_no_used_cycle_leaves_an_empty_table_with_its_columns():
    """With allow_empty and no used cycle anywhere, the study tables are empty, not broken:
    an untyped empty qc_excluded made long[~long["qc_excluded"]] select no columns."""
    info = {"subject": "s1", "condition": "forward", "trial": "forward_1"}
    long = analysis.long_cycles([(info, pd.DataFrame(columns=analysis.METRIC_COLUMNS))])
    kept = long[~long["qc_excluded"]].drop(columns="qc_excluded")
    assert kept.empty and "value" in kept
    assert analysis.per_source(analysis.subject_means, kept, shared_groups=[analysis.CYCLE_GROUP]).empty


def test_a_condition_compared_with_itself_has_no_speed_mismatch():
    """compare: [walk, walk] (a one-condition study, e.g. the EMG walking example) used to
    raise KeyError 'walk' in the speed check and stop the tables."""
    from retrorun import speed

    subjects = pd.DataFrame(
        {"subject": ["s1"], "condition": ["walk"], "group": ["cycle"], "metric": ["speed_m_s"], "mean": [1.3]}
    )
    assert speed.speed_mismatches(subjects, compare=["walk", "walk"], max_difference=0.05).empty


def _left_out_one_subject_at_a_time(table, everyone, *, compare, min_cycles, log_scale):
    """left_out_subjects as first written: a filtered copy of the table per subject, each
    condition's row a Series (the reasons are analysis.condition_left_out's)."""
    reasons = {}
    for subject in sorted(everyone):
        own = table[table["subject"] == subject].set_index("condition")
        why = [
            analysis.condition_left_out(c, own.loc[c] if c in own.index else None, min_cycles, log_scale)
            for c in compare
        ]
        if any(why):
            reasons[subject] = "; ".join(reason for reason in why if reason)
    return reasons


@pytest.mark.parametrize("subject_names", ["text", "numbers"])
def test_left_out_subjects_gives_every_reason_of_the_subject_by_subject_reading(subject_names):
    from retrorun.analysis import left_out_subjects

    rng = np.random.default_rng(5)
    for _ in range(60):
        rows = []
        subjects = [f"S{i:02d}" if subject_names == "text" else i for i in range(rng.integers(1, 9))]
        for subject in subjects:
            for condition in ("forward", "backward", "sideways"):
                if rng.random() < 0.2:
                    continue  # no used cycle in this condition
                mean = rng.choice([np.nan, 0.0, -0.1, 0.3, 1.2])
                note = rng.choice(["", "quadriceps at their floor", None])
                rows.append(
                    {"subject": subject, "condition": condition, "n_cycles": int(rng.integers(0, 5))}
                    | {"mean": mean, "note": note}
                )
        table = pd.DataFrame(rows, columns=["subject", "condition", "n_cycles", "mean", "note"])
        everyone = set(subjects) | ({"S99"} if subject_names == "text" and rng.random() < 0.3 else set())
        for log_scale in (False, True):
            settings = dict(compare=["forward", "backward"], min_cycles=int(rng.integers(1, 4)), log_scale=log_scale)
            expected = _left_out_one_subject_at_a_time(table, everyone, **settings)
            assert left_out_subjects(table, everyone, **settings) == expected
