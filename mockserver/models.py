"""Models brought at run time: ``--spec DIR`` (model spec files) and ``--page PAGE.md``
(a docs page imported in memory), served beside the generated package's models.

Each becomes a module shaped like a generated model module (``tables``, ``CONTRACT``,
``validate``, ``with_defaults``, ``price``, ``EXAMPLES``), built by the same path as the
generated code: codegen's ``model_tables`` gives the tables, the package's ``Contract``
compiles them with the package's platform codes. It is then registered in the package's
one registry (``runware_contract.MODELS``), which ``validate()`` and the engine read, so
nothing in the engine knows where a model came from. A model ID the package already
serves is replaced by the one given (the newer page wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import runware_contract as rc
from runware_contract import platform as rc_platform
from runware_contract.runtime import Contract, Example, PriceUnavailable, price_of
from runware_contract.typed import as_wire

KIT_SPEC = Path(__file__).resolve().parent.parent / "spec"


class ModelLoadError(ValueError):
    """A --spec or --page input that cannot become a model (its problems in the message)."""


def module_for(data: Mapping[str, Any]) -> ModuleType:
    """A model module from ``model_tables`` data, as the generated ``contract.py`` builds it."""
    tables = SimpleNamespace(**data)
    formats = {name: (rx, text) for name, (rx, text) in rc_platform.FORMATS.items()}
    contract = Contract(
        task_label=f"{data['MODEL_NAME']} ({data['MODEL_ID']})",
        docs=data["DOCS"],
        parameters=data["PARAMETERS"],
        rules=data["RULES"],
        formats=formats,
        constraint_codes=rc_platform.CONSTRAINT_CODES,
        rule_codes=rc_platform.RULE_CODES,
        dimensions=data["DIMENSIONS"],
    )

    def validate(task: Any) -> list[Any]:
        return contract.validate(as_wire(task))

    def with_defaults(task: Any) -> dict[str, Any]:
        return contract.with_defaults(as_wire(task))

    def price(task: Any, *, audio: bool | None = None) -> float:
        if data["PRICING"] is None:
            raise PriceUnavailable(f"{data['MODEL_ID']} has no pricing")
        return price_of(with_defaults(task), data["PRICING"], data["DIMENSIONS"], audio=audio)

    module = ModuleType(f"runware_mock_model_{data['MODEL_ID']}")
    module.__dict__.update(
        tables=tables,
        CONTRACT=contract,
        MODEL_ID=data["MODEL_ID"],
        MODEL_NAME=data["MODEL_NAME"],
        TASK_TYPE=data["TASK_TYPE"],
        DOCS=data["DOCS"],
        EXAMPLES=tuple(Example(**e) for e in data["EXAMPLES"]),
        validate=validate,
        with_defaults=with_defaults,
        price=price,
    )
    return module


def load(spec_dirs: Iterable[Path], pages: Iterable[Path]) -> list[ModuleType]:
    """The models of every ``--spec`` folder and ``--page`` file; ModelLoadError on any
    problem (each file's problems at file:line). Without either, nothing is read and codegen
    is not imported: the plain mock needs neither the [codegen] extra nor a spec folder."""
    spec_dirs, pages = list(spec_dirs), list(pages)
    if not spec_dirs and not pages:
        return []
    from codegen.docs.importer import NotAModelPage, import_page
    from codegen.emit.tables import model_tables
    from codegen.spec.loader import SpecError, load_model_text, load_platform
    from codegen.spec.yaml_source import read_text

    platform = load_platform(KIT_SPEC)
    texts: list[tuple[str, str, str]] = []  # (source kind, file, spec text)
    for folder in spec_dirs:
        files = sorted([*folder.glob("*.yaml"), *folder.glob("models/*.yaml")])
        if not files:
            raise ModelLoadError(f"--spec {folder}: no model spec files (*.yaml) found")
        texts += [("spec", str(f), read_text(f)) for f in files if f.name != "platform.yaml"]
    for page in pages:
        try:
            texts.append(("page", str(page), import_page(read_text(page), platform).text))
        except NotAModelPage as exc:
            raise ModelLoadError(f"--page {page}: {exc}") from None
    modules = []
    for kind, name, text in texts:
        try:
            model = load_model_text(text, name, platform)
        except SpecError as exc:
            raise ModelLoadError("\n".join(map(str, exc.issues))) from None
        module = module_for(model_tables(model, platform))
        module.__dict__["SOURCE"] = (kind, name)  # where it came from (the dashboard shows it)
        modules.append(module)
    return modules


def register(modules: Iterable[ModuleType]) -> None:
    """Serve ``modules`` through the package's one registry."""
    for module in modules:
        rc.MODELS[module.MODEL_ID] = module
