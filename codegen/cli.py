"""Command line: ``python -m codegen <command>``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from .diff import LEVELS
from .spec.loader import SpecError, load_specs, read_model_text
from .spec.model import ModelSpec, SpecSet
from .spec.yaml_source import SpecIssue, read_text

DEFAULT_SPEC_DIR = Path("spec")
DEFAULT_OUT_DIR = Path("generated")
# What a missing, unreadable or malformed input file raises; reported in one line, exit 2.
INPUT_ERRORS = (OSError, ValueError, SpecIssue, SpecError)


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
    from .spec.checks import unpriced_resolutions
    from .spec.consistency import analyse, self_contradictions

    for model in spec.models:
        print(
            f"{model.id}: {len(model.parameters)} parameters, {len(model.response)} response "
            f"fields, {len(model.rules)} rules, {len(model.examples)} examples"
        )
        for cap in model.capabilities:
            if cap not in spec.platform.capabilities:
                print(f"{model.loc}: warning: capability {cap!r} is not one the kit knows")
        for finding in analyse(model):
            where = next((r.loc for r in model.rules if r.id in finding.rules), model.loc)
            print(f"{where}: warning: {finding.message()}")
        for issue in unpriced_resolutions(model):
            print(f"{issue.loc}: warning: {issue.message}")
        for rule, both in self_contradictions(model):
            state = "enforced" if rule.enforced else "not enforced"
            print(
                f"{rule.loc}: warning: contradiction: rule {rule.id!r} names "
                f"{', '.join(both)} on both sides ({state}): {rule.source.quote!r}"
            )
    print(f"spec OK: platform and {len(spec.models)} model(s) in {args.spec}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .emit import generate

    spec = _load(args.spec)
    if spec is None:
        return 1
    files = generate.build(spec, args.spec.name)
    try:
        generate.write(files, args.out)
    except OSError as exc:
        print(f"cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {args.out}/{generate.PACKAGE}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .emit import generate

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


PAGE_SUFFIXES = (".md", ".markdown")


def _read_specs(old: Path, new: Path, spec_dir: Path) -> tuple[ModelSpec, ModelSpec]:
    """The two sides of a diff as typed model specs. A docs page is imported as
    ``import-docs`` would: over the other side when that is a spec file (so a spec and the
    page it was imported from show no changes), on its own when both sides are pages."""
    from .docs.importer import import_page, load_platform

    paths = (old, new)
    texts = [read_text(path) for path in paths]
    pages = [path.suffix.lower() in PAGE_SUFFIXES for path in paths]
    models: list[ModelSpec | None] = [
        None if page else read_model_text(text, str(path))
        for path, text, page in zip(paths, texts, pages, strict=True)
    ]
    for i, path in enumerate(paths):
        if pages[i]:
            other = None if pages[1 - i] else texts[1 - i]
            result = import_page(texts[i], load_platform(spec_dir), other)
            for note in result.notes:  # what the page says that the diff cannot see
                print(note.format(str(path)), file=sys.stderr)
            models[i] = read_model_text(result.text, f"{path} (imported)")
    first, second = models
    assert first is not None and second is not None
    return first, second


def _import_docs(args: argparse.Namespace) -> int:
    from .docs.importer import import_file

    try:
        target, existing, result = import_file(args.page, args.spec, args.output)
    except INPUT_ERRORS as exc:
        print(exc, file=sys.stderr)
        return 2
    for note in result.notes:
        print(note.format(str(args.page)), file=sys.stderr)
    if not result.changed:
        print(f"{target}: no change")
    elif args.dry_run:
        print(f"{target}: would change (dry run)")
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            print(f"cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"{target}: {'written' if existing is None else 'merged'}")
    problems = [n for n in result.notes if n.level in ("warning", "conflict")]
    return 1 if args.strict and problems else 0


def _diff(args: argparse.Namespace) -> int:
    from .diff import diff, fails, render_json, render_text

    try:
        old, new = _read_specs(args.old, args.new, args.spec)
    except INPUT_ERRORS as exc:
        print(exc, file=sys.stderr)
        return 2
    changes = diff(old, new)
    sys.stdout.write(render_json(changes) + "\n" if args.format == "json" else render_text(changes))
    return 1 if fails(changes, args.fail_on) else 0


def _regenerate(args: argparse.Namespace) -> int:
    from . import regenerate

    try:
        return regenerate.run(args.page, args.spec, args.out, args.report, args.fail_on)
    except INPUT_ERRORS as exc:
        print(exc, file=sys.stderr)
        return 2


class _Parser(argparse.ArgumentParser):
    """A command-line mistake is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _version() -> str:
    try:
        return metadata.version("runware-contract-kit")
    except metadata.PackageNotFoundError:  # a clone that was never installed
        return "unknown (not installed)"


# One example per command, shown at the end of its --help.
EXAMPLES = {
    "lint-spec": "python -m codegen lint-spec --spec spec",
    "generate": "python -m codegen generate --spec spec --out generated",
    "check": "python -m codegen check   # exit 1 and a diff when generated/ is stale",
    "import-docs": "python -m codegen import-docs page.md --dry-run --strict",
    "diff": "python -m codegen diff old.yaml new.md --format json --fail-on ERR",
    "regenerate": "python -m codegen regenerate page.md --fail-on ERR",
}


def _command(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=text,
        description=text,
        epilog=f"example:\n  {EXAMPLES[name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _spec_option(parser: argparse.ArgumentParser, what: str = "spec folder") -> None:
    parser.add_argument(
        "--spec", type=Path, default=DEFAULT_SPEC_DIR, help=f"{what} (default: spec)"
    )


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder (default: generated)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    lint = _command(sub, "lint-spec", "check every spec file; exit 1 on any problem")
    _spec_option(lint)
    lint.set_defaults(func=_lint_spec)
    for name, func, text in (
        ("generate", _generate, "write the generated package from the spec"),
        ("check", _check, "exit 1 with a diff when the generated package is stale"),
    ):
        cmd = _command(sub, name, text)
        _spec_option(cmd)
        _out_option(cmd)
        cmd.set_defaults(func=func)
    imp = _command(
        sub, "import-docs", "import a model docs page into the spec (merging into an existing file)"
    )
    imp.add_argument("page", type=Path, help="the docs page (markdown)")
    imp.add_argument(
        "-o", "--output", type=Path, help="spec file (default: SPEC/models/<slug>.yaml)"
    )
    _spec_option(imp)
    imp.add_argument("--dry-run", action="store_true", help="report, write nothing")
    imp.add_argument("--strict", action="store_true", help="exit 1 on any warning or conflict")
    imp.set_defaults(func=_import_docs)
    dif = _command(sub, "diff", "classify the changes between two specs (or docs pages)")
    dif.add_argument("old", type=Path, help="old spec file (.yaml) or docs page (.md)")
    dif.add_argument("new", type=Path, help="new spec file (.yaml) or docs page (.md)")
    dif.add_argument("--format", choices=["text", "json"], default="text", help="(default: text)")
    dif.add_argument(
        "--fail-on", type=str.upper, choices=LEVELS, help="exit 1 from this level (any case)"
    )
    _spec_option(dif, "spec folder, for the platform")
    dif.set_defaults(func=_diff)
    reg = _command(sub, "regenerate", "import a page, report the spec diff, regenerate the package")
    reg.add_argument("page", type=Path, help="the docs page (markdown)")
    _spec_option(reg)
    _out_option(reg)
    reg.add_argument(
        "--report",
        type=Path,
        default=Path("build/spec-diff"),
        help="report path stem, .txt and .json (default: build/spec-diff)",
    )
    reg.add_argument(
        "--fail-on", type=str.upper, choices=LEVELS, help="stop before generating (any case)"
    )
    reg.set_defaults(func=_regenerate)
    return parser


def path_problem(args: argparse.Namespace) -> str | None:
    """A folder or file argument that cannot be what the command needs, in one line."""
    spec: Path | None = getattr(args, "spec", None)
    if spec is not None and not spec.is_dir():
        return f"--spec {spec}: {'not a folder' if spec.exists() else 'no such folder'}"
    out: Path | None = getattr(args, "out", None)
    if out is not None and out.exists() and not out.is_dir():
        return f"--out {out}: a file, not a folder"
    if out is not None and args.command == "check" and not out.is_dir():
        return f"--out {out}: no such folder (nothing was generated there: run generate first)"
    output: Path | None = getattr(args, "output", None)
    if output is not None and output.is_dir():
        return f"-o {output}: a folder; name the spec file to write"
    if output is not None and not output.parent.is_dir():
        return f"-o {output}: no such folder {output.parent}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (problem := path_problem(args)) is not None:
        print(problem, file=sys.stderr)
        return 2
    result: int = args.func(args)
    return result
