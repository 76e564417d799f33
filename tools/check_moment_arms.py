"""Moment-arm check of the built-in planar model against gait10dof18musc.

Builds the model from models/retrorun_planar/ (or reads --model), and writes two tables:
per muscle and crossed coordinate, the anatomical sign across the check range and the
peak moment arm against the reference muscle (the lumped one where the reference lumps:
vasti, hamstrings); and, for information, the summed max isometric force per reference
muscle. Exits 1 when any row fails.

    python tools/check_moment_arms.py --out results/model_check
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrorun.demo import model as demo_model  # noqa: E402
from retrorun.formats import write_csv  # noqa: E402

# Peak moment arm within +-30 % of the reference muscle (the acceptance of issue 3).
TOLERANCE = 0.30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default=str(REPO / "models" / "retrorun_planar"), help="parameter table folder")
    parser.add_argument("--model", help="a built model (default: build one from --params in a temporary folder)")
    parser.add_argument(
        "--reference",
        default=str(REPO.parent / "shared" / "data" / "gait10dof18musc" / "gait10dof18musc.osim"),
        help="reference model (default: ../shared/data/gait10dof18musc/gait10dof18musc.osim)",
    )
    parser.add_argument("--out", default=str(REPO / "results" / "model_check"), help="folder for the CSV tables")
    parser.add_argument("--side", default="r", choices=sorted(demo_model.SIDES))
    args = parser.parse_args(argv)

    reference = Path(args.reference)
    if not reference.is_file():
        print(f"reference model {reference} is absent: checking signs only", file=sys.stderr)
        reference = None
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else demo_model.build_model(params_dir=args.params, out_dir=tmp)
        arms = demo_model.moment_arm_table(
            model_path=model, params_dir=args.params, reference_path=reference, side=args.side, tolerance=TOLERANCE
        )
        strength = (
            demo_model.strength_table(
                model_path=model, reference_path=reference, params_dir=args.params, side=args.side
            )
            if reference
            else None
        )
    out = Path(args.out)
    write_csv(out / "moment_arms.csv", arms)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 30):
        shown = [
            c
            for c in (
                "muscle",
                "coordinate",
                "expected_sign",
                "moment_arm_min_m",
                "moment_arm_max_m",
                "sign_ok",
                "peak_abs_moment_arm_cm",
                "reference_peak_abs_moment_arm_cm",
                "ratio",
                "pass",
            )
            if c in arms
        ]
        print(arms[shown].round(4).to_string(index=False))
        if strength is not None:
            write_csv(out / "strength.csv", strength)
            print()
            print(strength.round(3).to_string(index=False))
    print(f"\nwrote {out / 'moment_arms.csv'}" + (f" and {out / 'strength.csv'}" if strength is not None else ""))
    failed = arms[~arms["pass"]]
    if len(failed):
        print(
            f"{len(failed)} row(s) failed: {', '.join(failed['muscle'] + '@' + failed['coordinate'])}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
