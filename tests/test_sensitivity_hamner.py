"""End to end: the Hamner running example (first cycle per side) with one static
optimization sensitivity variant. The variant reads the main run's scaled model, IK and
ID, runs its own SO and analysis, and enters tables/sensitivity.csv and the front page."""

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

VARIANT = "static_optimization.activation_exponent-3"
TABLES = ["cycles.csv", "subjects.csv", "comparison.csv", "spm.csv", "cycle_counts.csv", "curves.csv"]


@pytest.fixture(scope="module")
def hamner(hamner_one_cycle):
    """The example's first cycle per side with the variant (conftest.hamner_one_cycle)."""
    *_, results = hamner_one_cycle
    return results, results / "sensitivity" / VARIANT


def test_the_variant_writes_the_main_runs_tables(hamner):
    results, variant = hamner
    for name in TABLES:
        main, mine = pd.read_csv(results / "tables" / name), pd.read_csv(variant / "tables" / name)
        assert list(mine.columns) == list(main.columns), name
        assert len(mine) == len(main), name


def test_the_variant_reuses_scaling_ik_and_id_and_runs_its_own_so(hamner):
    results, variant = hamner
    trial = variant / "trials" / "subject02" / "run"
    assert not (variant / "subjects").exists()
    for name in ("ik.mot", "grf.mot", "id_generalized_forces.csv", "cycles.csv"):
        assert not (trial / name).exists(), name
    main = pd.read_csv(results / "trials" / "subject02" / "run" / "so_activations.csv")
    mine = pd.read_csv(trial / "so_activations.csv")
    assert list(mine["time_s"]) == list(main["time_s"])
    # a cubic cost spreads the load over more muscles: the activations change
    muscles = [c for c in main.columns if c.startswith(("vas_", "rect_fem", "semimem", "bifem"))]
    assert (mine[muscles] - main[muscles]).abs().to_numpy().max() > 0.01


def test_the_sensitivity_table_and_front_page_say_there_is_nothing_to_compare(hamner):
    results, _ = hamner
    table = pd.read_csv(results / "tables" / "sensitivity.csv")
    assert set(table["variant"]) == {"main", VARIANT}
    assert (table.groupby("variant").size() == 4).all()  # the example's four primary outcomes
    # one subject, forward only: no difference, so no conclusion is claimed either way
    assert table["matches_main"].isna().all()
    assert "no forward-backward difference to compare" in (results / "report" / "front_page.rst").read_text()
    assert (results / "figures" / "sensitivity.png").stat().st_size > 0
