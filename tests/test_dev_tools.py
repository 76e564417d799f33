"""The developer tools CI relies on: the lint filter and the two-runs comparison."""

import importlib.util
import sys
from pathlib import Path

import pandas as pd

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


LINT_OUTPUT = """Lints for snakefile /x/workflow/rules/imports.smk:
    * Mixed rules and functions in same snakefile.:
      Small one-liner functions used only once should be defined as lambda

Lints for rule scale_model (line 4, /x/workflow/rules/scaling.smk):
    * Specify a conda environment or container for each rule.:
      This way, the used software for each specific step is documented, and
"""


def test_lint_filter_counts_every_lint_but_the_conda_one():
    lint = _tool("lint_workflow")
    found = lint.lints(LINT_OUTPUT)
    assert found == [
        ("snakefile /x/workflow/rules/imports.smk", "Mixed rules and functions in same snakefile."),
        (
            "rule scale_model (line 4, /x/workflow/rules/scaling.smk)",
            "Specify a conda environment or container for each rule.",
        ),
    ]
    assert [title for _, title in found if title not in lint.ACCEPTED] == [
        "Mixed rules and functions in same snakefile."
    ]


def test_comparison_finds_a_changed_number_and_ignores_each_runs_own_folder(tmp_path):
    compare = _tool("compare_study_results")
    for run, value in (("old", 1.0), ("new", 1.0)):
        table = tmp_path / run / "results" / "demo" / "qc.csv"
        table.parent.mkdir(parents=True)
        pd.DataFrame({"model": [str(tmp_path / run / "results/demo/S01.osim")], "rms_m": [value]}).to_csv(
            table, index=False
        )
    old, new = tmp_path / "old/results/demo", tmp_path / "new/results/demo"
    assert compare.main([str(old), str(new)]) == 0
    pd.DataFrame({"model": [str(tmp_path / "new/results/demo/S01.osim")], "rms_m": [1.0 + 1e-12]}).to_csv(
        new / "qc.csv", index=False
    )
    assert compare.main([str(old), str(new)]) == 1
    assert compare.main([str(old), str(new), "--rtol", "1e-9"]) == 0
