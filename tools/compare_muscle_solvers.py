"""Two muscle solvers on the same trials: a study's main run against one of its
sensitivity variants (e.g. `sensitivity: {static_optimization.solver: [moco_inverse]}`).

    python tools/compare_muscle_solvers.py results/<study> [--variant NAME] [--out DIR]

Per trial: QC's saturated-frame share and peak reserve share (of the ID moment) of both
runs, the Pearson r of every muscle's activation between them (frames both solved), and
per muscle group the r and the peaks of the mean-cycle curves (cycle_curves.csv, each
side). With EMG in the study: tables/emg_agreement_sensitivity.csv's channel rows, both
runs side by side. Writes <out>/solver_comparison.csv (one row per trial, side and group)
and <out>/solver_group_curves.png (each trial's and side's group curves, both solvers).
--variant defaults to the study's only variant that changes static_optimization.solver.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QC_COLUMNS = ["saturated_frame_share", "reserve_peak_share", "reserve_worst_coordinate"]


def pick_variant(study: Path) -> str:
    variants = sorted(p.name for p in (study / "sensitivity").glob("static_optimization.solver-*"))
    if len(variants) != 1:
        raise SystemExit(f"{study}/sensitivity: give --variant (solver variants found: {variants or 'none'})")
    return variants[0]


def trial_folders(study: Path, variant_root: Path):
    for folder in sorted((study / "trials").glob("*/*")):
        other = variant_root / "trials" / folder.parent.name / folder.name
        if (folder / "so_activations.csv").exists() and (other / "so_activations.csv").exists():
            yield folder, other


def qc_of(folder: Path) -> dict:
    path = folder / "qc.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    return {key: values.get(key) for key in QC_COLUMNS}


def muscle_r(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    both = a.merge(b, on="time_s", suffixes=("_a", "_b"))
    r = {}
    for name in a.columns:
        if name == "time_s" or f"{name}_b" not in both:
            continue
        x, y = both[f"{name}_a"].to_numpy(float), both[f"{name}_b"].to_numpy(float)
        if x.std() > 1e-3 and y.std() > 1e-3:
            r[name] = float(np.corrcoef(x, y)[0, 1])
    return r


def group_rows(subject, trial, main_curves: pd.DataFrame, other_curves: pd.DataFrame) -> list[dict]:
    groups = [c[: -len("_activation")] for c in main_curves.columns if c.endswith("_activation")]
    rows = []
    for side in sorted(set(main_curves["side"])):
        a = main_curves[main_curves["side"] == side].groupby("pct").mean(numeric_only=True)
        b = other_curves[other_curves["side"] == side].groupby("pct").mean(numeric_only=True)
        for group in groups:
            column = f"{group}_activation"
            if column not in b or b.empty:
                continue
            x, y = a[column].to_numpy(float), b[column].reindex(a.index).to_numpy(float)
            rows.append(
                {
                    "subject": subject,
                    "trial": trial,
                    "side": side,
                    "group": group,
                    "r_mean_cycle": float(np.corrcoef(x, y)[0, 1]) if x.std() > 1e-6 and y.std() > 1e-6 else np.nan,
                    "peak_main": float(np.nanmax(x)),
                    "peak_variant": float(np.nanmax(y)),
                    "mean_main": float(np.nanmean(x)),
                    "mean_variant": float(np.nanmean(y)),
                }
            )
    return rows


def figure(curves: list[tuple[str, str, pd.DataFrame, pd.DataFrame]], groups: list[str], variant: str, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(label, side, a, b) for label, _, a, b in curves for side in sorted(set(a["side"]))]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), squeeze=False)
    for ax, (label, side, a, b) in zip(axes[:, 0], panels):
        mean_a = a[a["side"] == side].groupby("pct").mean(numeric_only=True)
        mean_b = b[b["side"] == side].groupby("pct").mean(numeric_only=True)
        for index, group in enumerate(groups):
            colour = f"C{index}"
            ax.plot(mean_a.index, mean_a[f"{group}_activation"], color=colour, label=f"{group} (main)")
            ax.plot(
                mean_b.index, mean_b[f"{group}_activation"], color=colour, linestyle="--", label=f"{group} ({variant})"
            )
        ax.set_title(f"{label}, side {side}: mean cycle")
        ax.set_xlabel("% gait cycle (foot strike to foot strike)")
        ax.set_ylabel("activation")
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", type=Path, help="results/<study> of a run with a solver sensitivity variant")
    parser.add_argument("--variant", help="the variant's folder name under sensitivity/")
    parser.add_argument("--groups", nargs="+", default=["quadriceps", "hamstrings"], help="groups in the figure")
    parser.add_argument("--out", type=Path, help="where to write the table and figure (default: the study folder)")
    args = parser.parse_args()
    study = args.study.resolve()
    variant = args.variant or pick_variant(study)
    variant_root = study / "sensitivity" / variant
    out = args.out or study
    out.mkdir(parents=True, exist_ok=True)
    rows, curves = [], []
    for folder, other in trial_folders(study, variant_root):
        subject, trial = folder.parent.name, folder.name
        main_qc, other_qc = qc_of(folder), qc_of(other)
        print(f"{subject} {trial}")
        for key in QC_COLUMNS:
            print(f"  {key}: main {main_qc[key]}, {variant} {other_qc[key]}")
        r = muscle_r(pd.read_csv(folder / "so_activations.csv"), pd.read_csv(other / "so_activations.csv"))
        if r:
            values = np.array(list(r.values()))
            worst = sorted(r, key=r.get)[:5]
            print(
                f"  activation r per muscle ({len(r)} muscles that vary): median {np.median(values):.2f}, "
                f"10th percentile {np.percentile(values, 10):.2f}; lowest {', '.join(f'{m} {r[m]:.2f}' for m in worst)}"
            )
        a, b = folder / "cycle_curves.csv", other / "cycle_curves.csv"
        if a.exists() and b.exists():
            main_curves, other_curves = pd.read_csv(a), pd.read_csv(b)
            found = group_rows(subject, trial, main_curves, other_curves)
            for row in found:
                row.update({f"{k}_main": main_qc[k] for k in QC_COLUMNS})
                row.update({f"{k}_variant": other_qc[k] for k in QC_COLUMNS})
                row["muscle_r_median"] = float(np.median(list(r.values()))) if r else np.nan
                print(
                    f"  {row['side']} {row['group']}: r {row['r_mean_cycle']:.2f}, peak {row['peak_main']:.3f} -> "
                    f"{row['peak_variant']:.3f}, mean {row['mean_main']:.3f} -> {row['mean_variant']:.3f}"
                )
            rows += found
            curves.append((f"{subject} {trial}", trial, main_curves, other_curves))
    if not rows:
        raise SystemExit(f"{study}: no trial has cycle curves in both the main run and {variant}")
    table = pd.DataFrame(rows)
    table.insert(0, "variant", variant)
    table.to_csv(out / "solver_comparison.csv", index=False)
    emg = study / "tables" / "emg_agreement_sensitivity.csv"
    if emg.exists():
        agreement = pd.read_csv(emg)
        wide = agreement.pivot_table(index="name", columns="variant", values="r_mean_cycle", sort=False)
        print("EMG agreement, r of the mean cycles:")
        print(wide.round(2).to_string())
    figure(curves, args.groups, variant, out / "solver_group_curves.png")
    print(f"wrote {out / 'solver_comparison.csv'} and {out / 'solver_group_curves.png'}")


if __name__ == "__main__":
    main()
