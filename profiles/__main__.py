"""``python -m profiles validate FILE... [--profile URL|FILE] [--ig SRC ...] [--format ...]``.

The same command as ``mes-sandbox validate`` (:mod:`profiles.command`), parsed with the standard
library only: the quickest way to validate from a script or CI job. ``mes-sandbox validate``
(:mod:`profiles.cli`) hands its arguments to the same parser (:func:`run_validate`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from profiles.command import ExitCode, Format, Lang, run


def add_validate_arguments(v: argparse.ArgumentParser) -> None:
    """The options of ``validate`` (one definition for both entry points)."""
    v.add_argument("files", nargs="+", type=Path, help="FHIR JSON files (resources or Bundles)")
    v.add_argument("--profile", help="profile: canonical URL or StructureDefinition JSON file")
    v.add_argument("--ig", "--package", action="append", type=Path, default=[],
                   help="supporting definitions: FHIR package .tgz, folder or JSON file (repeatable)")
    v.add_argument("--format", choices=[f.value for f in Format], default="text", help="output format")
    v.add_argument("--lang", choices=[lang.value for lang in Lang], default="fr", help="language of the messages")
    v.add_argument("--policy", type=Path, help="JSON policy: message id -> severity|suppress")


def run_validate(args: argparse.Namespace) -> int:
    code, output = run(args.files, args.profile, args.ig, Format(args.format), Lang(args.lang), args.policy)
    if output:
        print(output, file=sys.stderr if code == ExitCode.USAGE else sys.stdout)
    return int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m profiles", description="FHIR R4 validator")
    sub = parser.add_subparsers(dest="command", required=True)
    add_validate_arguments(sub.add_parser("validate", help="validate FHIR JSON files"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return ExitCode.USAGE if exc.code else ExitCode.OK
    return run_validate(args)


if __name__ == "__main__":
    sys.exit(main())
