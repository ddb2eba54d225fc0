"""python -m dlcourse <command>: the course library's commands for students.

    python -m dlcourse doctor NOTEBOOK [--timeout SECONDS] [--json]
        before you hand in: restart and run all in a fresh kernel as grading does, and report
        failing cells, cells run out of order, edited or deleted test cells, unanswered
        exercises and an estimated score

Exit status: 0 nothing wrong, 1 problems found, 2 the notebook could not be read or the
command was wrong.
"""

import argparse
import sys

from dlcourse import doctor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dlcourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("doctor", help="check a notebook before you hand it in",
                                description=doctor.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    doctor.add_arguments(check)
    check.set_defaults(run=doctor.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
