"""The models a mock serves: the generated package's, and those brought at run time with
``--spec DIR`` (model spec files) and ``--page PAGE.md`` (a docs page imported in memory).

``ModelRegistry`` is the one registry a server is given: the package's models, then each
loaded one (a model ID the package already serves is replaced by the one given: the newer
page wins), each with where it came from. The engine validates and dispatches through it;
the package's own ``runware_contract.MODELS`` is never changed.

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

KIT_SPEC = Path(__file__).resolve().parents[2] / "spec"


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
    )
    return module


class ModelRegistry(Registry):
    """The models one server serves, by id, each knowing its source (``sources``): the
    package's, then ``loaded`` (module, source) in order, a later one replacing an earlier
    one of the same ID."""

    def __init__(self, loaded: Iterable[tuple[ModuleType, Source]] = ()) -> None:
        models = dict(rc.MODELS)
        self.sources = dict.fromkeys(models, PACKAGE)
        for module, source in loaded:
            models[module.MODEL_ID] = module
            self.sources[module.MODEL_ID] = source
        super().__init__(models)

    @property
    def names(self) -> list[str]:
        return sorted(self.models)


def load(spec_dirs: Iterable[Path], pages: Iterable[Path]) -> ModelRegistry:
    """The package's models and those of every ``--spec`` folder and ``--page`` file;
    ModelLoadError on any problem (each file's problems at file:line). Without either,
    nothing is read and codegen is not imported: the plain mock needs neither the
    [codegen] extra nor a spec folder."""
    spec_dirs, pages = list(spec_dirs), list(pages)
    if not spec_dirs and not pages:
        return ModelRegistry()
    from codegen.docs.importer import NotAModelPage, import_page
    from codegen.emit.tables import model_tables
    from codegen.spec.loader import SpecError, load_model_text, load_platform
    from codegen.spec.yaml_source import read_text

    platform = load_platform(KIT_SPEC)
    texts: list[tuple[str, Source, str]] = []  # (file name, source, spec text)
    for folder in spec_dirs:
        files = sorted([*folder.glob("*.yaml"), *folder.glob("models/*.yaml")])
        if not files:
            raise ModelLoadError(f"--spec {folder}: no model spec files (*.yaml) found")
        texts += [
            (str(f), Source("spec", str(f)), read_text(f))
            for f in files
            if f.name != "platform.yaml"
        ]
    for page in pages:
        try:
            text = import_page(read_text(page), platform).text
            texts.append((str(page), Source("page", str(page)), text))
        except NotAModelPage as exc:
            raise ModelLoadError(f"--page {page}: {exc}") from None
    loaded = []
    for name, source, text in texts:
        try:
            model = load_model_text(text, name, platform)
        except SpecError as exc:
            raise ModelLoadError("\n".join(map(str, exc.issues))) from None
        loaded.append((module_for(model_tables(model, platform)), source))
    return ModelRegistry(loaded)
