"""Command line: ``python -m codegen <command>``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .spec_loader import SpecError, load_specs
from .spec_model import SpecSet

DEFAULT_SPEC_DIR = Path("spec")
DEFAULT_OUT_DIR = Path("generated")


def _load(spec_dir: Path) -> SpecSet | None:
    try:
        return load_specs(spec_dir)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in {spec_dir}", file=sys.stderr)
        return None


def _lint_spec(args: argparse.Namespace) -> int:
    spec = _load(args.spec)
    if spec is None:
        return 1
    for model in spec.models:
        print(
            f"{model.id}: {len(model.parameters)} parameters, {len(model.response)} response "
            f"fields, {len(model.rules)} rules, {len(model.examples)} examples"
        )
    print(f"spec OK: platform and {len(spec.models)} model(s) in {args.spec}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from . import generate

    spec = _load(args.spec)
    if spec is None:
        return 1
    files = generate.build(spec, args.spec.name)
    generate.write(files, args.out)
    print(f"wrote {len(files)} files to {args.out}/{generate.PACKAGE}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from . import generate

    spec = _load(args.spec)
    if spec is None:
        return 1
    diff = generate.stale_diff(generate.build(spec, args.spec.name), args.out)
    if diff:
        sys.stdout.write(diff)
        print(
            f"{args.out}/ is stale: run `python -m codegen generate` and commit the result",
            file=sys.stderr,
        )
        return 1
    print(f"{args.out}/ is up to date with {args.spec}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint-spec", help="check every spec file; exit 1 on any problem")
    lint.add_argument(
        "--spec", type=Path, default=DEFAULT_SPEC_DIR, help="spec folder (default: spec)"
    )
    lint.set_defaults(func=_lint_spec)
    for name, func, text in (
        ("generate", _generate, "write the generated package from the spec"),
        ("check", _check, "exit 1 with a diff when the generated package is stale"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR, help="spec folder")
        cmd.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
        cmd.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
