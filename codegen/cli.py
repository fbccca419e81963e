"""Command line: ``python -m codegen <command>``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .spec_loader import SpecError, load_specs

DEFAULT_SPEC_DIR = Path("spec")


def _lint_spec(args: argparse.Namespace) -> int:
    try:
        spec = load_specs(args.spec)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in {args.spec}", file=sys.stderr)
        return 1
    for model in spec.models:
        print(
            f"{model.id}: {len(model.parameters)} parameters, {len(model.response)} response "
            f"fields, {len(model.rules)} rules, {len(model.examples)} examples"
        )
    print(f"spec OK: platform and {len(spec.models)} model(s) in {args.spec}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint-spec", help="check every spec file; exit 1 on any problem")
    lint.add_argument(
        "--spec", type=Path, default=DEFAULT_SPEC_DIR, help="spec folder (default: spec)"
    )
    lint.set_defaults(func=_lint_spec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
