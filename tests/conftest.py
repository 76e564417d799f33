"""Shared test fixtures: where the reference data live, and how to skip without them."""

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared(*parts: str) -> Path:
    """A file in ../shared/data; the test is skipped, saying why, when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"reference data {path} is absent (../shared/data beside the repository holds the "
            "OpenSim example models and recordings these tests read)"
        )
    return path


@pytest.fixture(scope="session")
def hamner_example(tmp_path_factory):
    """The Hamner running example run once as the README says, from the root of a clone
    (`snakemake --cores all --configfile config/examples/hamner-run/config.yaml
    --keep-going`): the clone and Snakemake's result. Several test files read the same
    run (the workflow's outputs, the fast solver against OpenSim's) instead of each
    running the 26-cycle example again."""
    from workflow_runner import clone_repository, run_in

    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    clone = clone_repository(tmp_path_factory.mktemp("hamner_example"))
    config = "config/examples/hamner-run/config.yaml"
    return clone, run_in(clone, clone, "--cores", "all", "--configfile", config, "--keep-going")


HAMNER_ONE_CYCLE_CONFIG = (
    # analysis.cycles 1: the first cycle of each side (config/README.md); the example's
    # default, all 26 cycles, is `hamner_example`
    "analysis={cycles: 1}",
    # one static optimization variant (config `sensitivity`): its own SO and analysis
    "sensitivity={static_optimization.activation_exponent: [3]}",
)


@pytest.fixture(scope="session")
def hamner_one_cycle(tmp_path_factory):
    """The Hamner example over its first cycle per side with one SO sensitivity variant,
    run once for the analysis and the sensitivity tests: the work directory, the config,
    the --config overrides and the study's results folder."""
    from workflow_runner import ok, snakemake

    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    workdir = tmp_path_factory.mktemp("hamner_one_cycle")
    config = REPO / "config" / "examples" / "hamner-run" / "config.yaml"
    overrides = ("--config", *HAMNER_ONE_CYCLE_CONFIG)
    ok(snakemake(workdir, config, *overrides))
    return workdir, config, overrides, workdir / "results" / "hamner-run"


def random_decimals(seed: int, n: int, max_digits: int, *, exponent_share=1.0, empty_share=0.0) -> list[str]:
    """n random decimal cells of 1 to max_digits significant digits, signed half the time,
    with an exponent (-330 to 309) in ``exponent_share`` of them and empty in ``empty_share``:
    what a parser must round as float() does."""
    rng = np.random.default_rng(seed)
    cells = []
    for n_digits in rng.integers(1, max_digits + 1, n):
        digits = "".join(str(d) for d in rng.integers(0, 10, n_digits))
        point = int(rng.integers(0, n_digits + 1))
        sign = "-" if rng.random() < 0.5 else ""
        with_exponent = exponent_share >= 1 or rng.random() < exponent_share
        exponent = f"e{int(rng.integers(-330, 310))}" if with_exponent else ""
        empty = empty_share > 0 and rng.random() < empty_share
        cells.append("" if empty else f"{sign}{digits[:point]}.{digits[point:]}{exponent}")
    return cells
