"""The `retrorun` command (pyproject [project.scripts]); each subcommand's logic is in its module."""

from __future__ import annotations

import argparse
import sys

from . import __version__, scaffold


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retrorun", description="retrorun helper commands")
    parser.add_argument("--version", action="version", version=f"retrorun {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser(
        "new-study",
        help="write config.yaml, subjects.tsv and trials.tsv from a folder of recordings",
        description=scaffold.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    new.add_argument(
        "export_dir", help="folder of the lab's export (C3D, or TRC + MOT; sub-folder per subject or flat)"
    )
    new.add_argument("--out", required=True, help="study folder to write (config.yaml, subjects.tsv, trials.tsv)")
    new.add_argument(
        "--condition",
        action="append",
        metavar="PATTERN=LABEL",
        help="file-name pattern (regular expression, case-insensitive) of a condition and its label; repeat per "
        "condition (default: 'fwd|forward=forward' and 'bwd|backward|back|retro=backward')",
    )
    new.add_argument(
        "--static",
        default=scaffold.DEFAULT_STATIC_PATTERN,
        metavar="PATTERN",
        help=f"file-name pattern of static trials (default {scaffold.DEFAULT_STATIC_PATTERN!r})",
    )
    new.add_argument(
        "--subject-pattern",
        metavar="REGEX",
        help="take the subject from the file name (its first group, else the match) even in sub-folders "
        f"(default: the sub-folder, else {scaffold.DEFAULT_SUBJECT_PATTERN!r})",
    )
    new.add_argument("--model", help="the generic OpenSim model (.osim)")
    new.add_argument("--marker-set", help="a separate OpenSim MarkerSet XML, when the model has no markers")
    new.add_argument("--scale-setup", help="ScaleTool setup XML")
    new.add_argument("--ik-tasks", help="IK setup or IKTaskSet XML")
    new.add_argument("--external-loads", help="ExternalLoads XML (which GRF columns act on which foot)")
    new.add_argument("--force", action="store_true", help="overwrite the study files in --out")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        conditions = dict(scaffold.parse_condition(c) for c in args.condition) if args.condition else None
        result = scaffold.new_study(
            args.export_dir,
            args.out,
            conditions=conditions,
            static_pattern=args.static,
            subject_pattern=args.subject_pattern,
            model={
                "osim": args.model,
                "marker_set": args.marker_set,
                "scale_setup": args.scale_setup,
                "ik_tasks": args.ik_tasks,
                "external_loads": args.external_loads,
            },
            force=args.force,
        )
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"retrorun new-study: {err}", file=sys.stderr)
        return 2
    print(scaffold.summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
