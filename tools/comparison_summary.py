"""Print the headline rows of one or more comparison tables side by side (the note on
issue 9 used it for the demo's table before and after).

    python tools/comparison_summary.py results/demo/tables/comparison.csv [other.csv ...]
"""

import sys

import pandas as pd

ROWS = [
    ("quadriceps_hamstrings", "quadriceps_share_stance"),
    ("quadriceps_hamstrings", "ratio_mean_stance"),
    ("quadriceps_hamstrings", "cci_stance_pct"),
    ("quadriceps", "mean_stance"),
    ("hamstrings", "mean_stance"),
    ("cycle", "stance_pct"),
    ("cycle", "duration_s"),
    ("knee", "peak_extension_moment_nm_per_kg"),
    ("knee", "peak_extension_moment_timing_pct_stance"),
]
COLUMNS = [
    "n_subjects",
    "mean_a",
    "mean_b",
    "difference_mean",
    "ratio_of_geometric_means",
    "p_holm",  # the primary test's (analysis.test), Holm-adjusted
    "t_test_p",
    "t_test_p_holm",  # tables before issue 19
    "wilcoxon_p",
]

for path in sys.argv[1:]:
    table = pd.read_csv(path).set_index(["group", "metric"])
    print(f"== {path}")
    shown = table.loc[[row for row in ROWS if row in table.index], [c for c in COLUMNS if c in table.columns]]
    print(shown.to_string(float_format=lambda v: f"{v:.4g}"))
