"""The models a mock serves: the generated package's, and those brought at run time with
``--spec DIR`` (model spec files) and ``--page PAGE.md`` (a docs page imported in memory).

``ModelRegistry`` is the one registry a server is given: the package's models, then each
loaded one (a model ID the package already serves is replaced by the one given: the newer
page wins, and the banner says so), each with where it came from and what it is served with
(its warnings). A page with errors (a spec that cannot be served) is refused in one line.
The engine validates and dispatches through it; the package's own ``runware_contract.MODELS``
is never changed.

A loaded model becomes a module shaped like a generated model module (``tables``,
``CONTRACT``, ``validate``, ``with_defaults``, ``price``, ``EXAMPLES``), made by the same
factory as the generated ``contract.py`` (``runware_contract.model.compile_model``) from
codegen's ``model_tables``, so nothing in the engine knows where a model came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, NamedTuple

import runware_contract as rc
from runware_contract import platform as rc_platform
from runware_contract.model import compile_model
from runware_contract.registry import Registry
from runware_contract.runtime import Example


class Source(NamedTuple):
    """Where a served model came from: ``kind`` package, spec or page, and its file (the
    package's module for its own models); as text, what the banner says."""

    kind: str
    file: str

    def __str__(self) -> str:
        return (
            "the runware_contract package"
            if self.kind == "package"
            else f"--{self.kind} {self.file}"
        )


PACKAGE = Source("package", "runware_contract")  # the source of the package's own models

# The platform spec the package was generated from (shipped in it: an installed wheel has
# no source tree): models brought at run time are built against the same platform.
KIT_SPEC = Path(rc.__file__).resolve().parent


class ModelLoadError(ValueError):
    """A --spec or --page input that cannot become a model (its problems in the message)."""


def module_for(data: Mapping[str, Any]) -> ModuleType:
    """A model module from ``model_tables`` data, made as the generated ``contract.py`` is."""
    tables = SimpleNamespace(**data)
    model = compile_model(
        tables, rc_platform.FORMATS, rc_platform.CONSTRAINT_CODES, rc_platform.RULE_CODES
    )
    module = ModuleType(f"runware_mock_model_{data['MODEL_ID']}")
    module.__dict__.update(
        tables=tables,
        CONTRACT=model.contract,
        RESULT_CONTRACT=model.result_contract,
        MODEL_ID=data["MODEL_ID"],
        MODEL_NAME=data["MODEL_NAME"],
        TASK_TYPE=data["TASK_TYPE"],
        DOCS=data["DOCS"],
        EXAMPLES=tuple(Example(**e) for e in data["EXAMPLES"]),
        validate=model.validate,
        validate_result=model.validate_result,
        with_defaults=model.with_defaults,
        price=model.price,
        task_price=model.task_price,
    )
    return module


class ModelRegistry(Registry):
    """The models one server serves, by id, each knowing its source (``sources``): the
    package's, then ``loaded`` (module, source) in order, a later one replacing an earlier
    one of the same ID."""

    def __init__(
        self,
        loaded: Iterable[tuple[ModuleType, Source]] = (),
        warnings: Mapping[str, list[str]] | None = None,
    ) -> None:
        models = dict(rc.MODELS)
        self.sources = dict.fromkeys(models, PACKAGE)
        self.replaced: dict[str, Source] = {}  # model id -> the source it replaced
        for module, source in loaded:
            if module.MODEL_ID in models:
                self.replaced[module.MODEL_ID] = self.sources[module.MODEL_ID]
            models[module.MODEL_ID] = module
            self.sources[module.MODEL_ID] = source
        # model id -> what it is served with (a page's importer and review notes; a spec
        # file's loader warnings), in the order they weaken the contract
        self.warnings = dict(warnings or {})
        super().__init__(models)

    @property
    def names(self) -> list[str]:
        return sorted(self.models)

    def describe(self, model_id: str) -> str:
        """Where a served model comes from, as the banner says it: ``package``, ``--page
        FILE`` or ``--spec FILE``, and which source it replaces."""
        source = self.sources[model_id]
        if source.kind == "package":
            return "package"
        replaced = self.replaced.get(model_id)
        if replaced is None:
            return str(source)
        return f"{source}, replacing {'the packaged model' if replaced == PACKAGE else replaced}"

    def summary(self) -> list[str]:
        """One line per model served with warnings: how many, and the first."""
        return [
            f"{self.sources[model_id]}: {model_id} served with {len(said)} warning(s), "
            f"first: {said[0]}"
            for model_id, said in self.warnings.items()
            if said
        ]


def load(spec_dirs: Iterable[Path], pages: Iterable[Path]) -> ModelRegistry:
    """The package's models and those of every ``--spec`` folder and ``--page`` file;
    ModelLoadError on any problem that keeps one from being served (a page's in one line,
    a spec file's at file:line). Each model brought keeps what it is served with (its
    warnings: the importer's notes and the review's, for a page; the loader's, for a spec
    file). Without either flag, nothing is read and codegen is not imported: the plain mock
    needs neither the [codegen] extra nor a spec folder."""
    spec_dirs, pages = list(spec_dirs), list(pages)
    if not spec_dirs and not pages:
        return ModelRegistry()
    from codegen.docs.importer import NotAModelPage, import_page
    from codegen.emit.tables import model_tables
    from codegen.page_review import of_import
    from codegen.spec.loader import SpecError, checked_model_text, load_platform
    from codegen.spec.yaml_source import read_text

    platform = load_platform(KIT_SPEC)
    found: list[tuple[Source, Any, list[str]]] = []  # (source, model, warnings)
    for folder in spec_dirs:
        files = sorted([*folder.glob("*.yaml"), *folder.glob("models/*.yaml")])
        if not files:
            raise ModelLoadError(f"--spec {folder}: no model spec files (*.yaml) found")
        for f in (f for f in files if f.name != "platform.yaml"):
            try:
                model, issues = checked_model_text(read_text(f), str(f), platform)
            except SpecError as exc:
                raise ModelLoadError("\n".join(map(str, exc.issues))) from None
            found.append((Source("spec", str(f)), model, [i.line() for i in issues]))
    for page in pages:
        try:
            result = import_page(read_text(page), platform)
        except NotAModelPage as exc:
            raise ModelLoadError(f"--page {page}: {exc}") from None
        review = of_import(result, f"{page} (imported)", platform)
        if review.model is None:
            first, more = review.errors[0].message, len(review.errors) - 1
            also = f" (and {more} more: python -m codegen import-docs {page} --dry-run)"
            raise ModelLoadError(f"--page {page}: {first}{also if more else ''}")
        notes = [n for n in [*result.notes, *review.warnings] if n.level != "change"]
        # What weakens the contract first: facts the page states but could not be read,
        # then parameters its rules make impossible, then prices missing; the rest after.
        lost = {u.line for u in result.unreadable}
        notes.sort(key=lambda n: 0 if n.line in lost else _rank(n.message))
        found.append(
            (Source("page", str(page)), review.model, [n.format(str(page)) for n in notes])
        )
    loaded = [(module_for(model_tables(m, platform)), source) for source, m, _ in found]
    warnings = {
        module.MODEL_ID: said for (module, _), (_, _, said) in zip(loaded, found, strict=True)
    }
    return ModelRegistry(loaded, warnings)


def _rank(message: str) -> int:
    for rank, words in enumerate(("can never be", "analysis gave up", "incomplete pricing"), 1):
        if words in message:
            return rank
    return 4
