"""Image model pages: the three real ones in ../shared/docs (GPT Image 2, Nano Banana Pro and
Nano Banana 2; skipped with a reason where absent, failed in CI) and pages this project
wrote for each image price form (tests/data/pages/images/): imported without refusals,
linted, priced as the pages say, and generated as one package beside Kling and the
committed image model, whose code is then run in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from codegen.docs.importer import import_page, load_platform
from codegen.emit.generate import build, write
from codegen.emit.tables import model_tables
from codegen.page_review import of_import
from codegen.spec.loader import load_specs, survey
from codegen.spec.model import ModelSpec
from runware_contract import platform as rc_platform
from runware_contract.model import CompiledModel, compile_model
from runware_contract.runtime import PriceUnavailable
from tests.conftest import REPO, SPEC_DIR
from tests.helpers import real_page, spec_with_pages

PLATFORM = load_platform(SPEC_DIR)
OWN = REPO / "tests" / "data" / "pages" / "images"
UUID = "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"
IMG = "https://example.com/ref.png"


def imported(page: Path) -> tuple[ModelSpec, list[str]]:
    """The page's model as the importer and review make it, and every warning said."""
    result = import_page(page.read_text(encoding="utf-8"), PLATFORM)
    review = of_import(result, f"{page.name} (imported)", PLATFORM)
    assert review.model is not None, [e.message for e in review.errors]
    assert review.errors == []
    warnings = [n.message for n in [*result.notes, *review.warnings] if n.level == "warning"]
    return review.model, warnings


def compiled(model: ModelSpec) -> CompiledModel:
    tables = SimpleNamespace(**model_tables(model, PLATFORM))
    return compile_model(
        tables, rc_platform.FORMATS, rc_platform.CONSTRAINT_CODES, rc_platform.RULE_CODES
    )


def task(model: ModelSpec, **fields: Any) -> dict[str, Any]:
    return {
        "taskType": "imageInference",
        "taskUUID": UUID,
        "model": model.id,
        "positivePrompt": "a harbour at dawn",
        **fields,
    }


# ── the real pages ──────────────────────────────────────────────────────────

# What each real page is served with: only what the page itself gets wrong (GPT Image 2's
# examples send referenceImages at the top level; its parameter list says inputs.).
REAL_WARNINGS = {
    "openai-gpt-image-2.md": {
        f"example '{title}' breaks the page's own parameter referenceImages: Unsupported "
        "parameter 'referenceImages': GPT Image 2 (openai:gpt-image@2) does not accept it."
        for title in (
            "Cabinet of Culinary Specimens",
            "Maximalist Curiosity Cabinet Collage",
            "Floating Herbarium Reading Nook",
        )
    },
    "google-nano-banana-pro.md": set(),
    "google-nano-banana-2.md": set(),
}


@pytest.mark.parametrize("name", sorted(REAL_WARNINGS))
def test_a_real_image_page_imports_and_lints_with_only_its_own_faults(
    name: str, tmp_path: Path
) -> None:
    model, warnings = imported(real_page(name))
    assert set(warnings) == REAL_WARNINGS[name]
    assert model.task_type == "imageInference"
    assert {"text-to-image", "image-to-image", "edit", "checkpoint"} <= set(model.capabilities)
    groups = {p.group for p in model.parameters}
    assert {"apiOptions", "core", "providerSettings"} <= groups
    spec_dir = spec_with_pages(tmp_path / "spec", SPEC_DIR, [real_page(name)])
    found = survey(spec_dir)
    assert found.errors == []
    assert {str(i.message) for i in found.issues} <= {
        f"example {ex!r}: request names 'referenceImages', which the spec lacks"
        for ex in (
            "cabinet-of-culinary-specimens",
            "maximalist-curiosity-cabinet-collage",
            "floating-herbarium-reading-nook",
        )
    }


def test_nano_banana_pro_prices_its_tiers() -> None:
    model, _ = imported(real_page("google-nano-banana-pro.md"))
    banana = compiled(model)
    assert banana.price(task(model, width=1024, height=1024)) == 0.138
    assert banana.price(task(model, width=2048, height=2048)) == 0.138
    assert banana.price(task(model, width=4096, height=4096)) == 0.244
    by_preset = task(model, resolution="4K", inputs={"referenceImages": [IMG]})
    assert banana.price(by_preset) == 0.244
    assert banana.task_price({**by_preset, "numberResults": 3}) == 0.732


def test_nano_banana_2_prices_its_tiers_and_add_ons() -> None:
    model, _ = imported(real_page("google-nano-banana-2.md"))
    assert model.dimensions is not None and model.dimensions.resolution_parameter == "resolution"
    banana = compiled(model)
    # "512x512" names the 0.5K tier's 1:1 row: every 0.5K row costs it
    assert banana.price(task(model, width=512, height=512)) == 0.04657
    assert banana.price(task(model, width=632, height=424)) == 0.04657
    assert banana.price(task(model, width=1376, height=768)) == 0.06895
    two = {"referenceImages": [IMG, IMG]}
    searched = {"google": {"webSearch": True}}
    full = task(model, resolution="2K", inputs=two, providerSettings=searched)
    assert banana.price(full) == 0.24311  # 0.10255 + 2 x 0.00028 + 0.14
    off = task(
        model, resolution="2K", inputs=two, providerSettings={"google": {"webSearch": False}}
    )
    assert banana.price(off) == 0.10311
    with pytest.raises(PriceUnavailable):  # no size and no preset: the tier is unknown
        banana.price(task(model, inputs=two))


def test_gpt_image_2_prices_by_size_and_quality_only_where_the_page_does() -> None:
    model, _ = imported(real_page("openai-gpt-image-2.md"))
    gpt = compiled(model)
    square = task(model, width=1024, height=1024)
    for quality, usd in (("low", 0.006), ("medium", 0.053), ("high", 0.211)):
        assert gpt.price({**square, "providerSettings": {"openai": {"quality": quality}}}) == usd
    with pytest.raises(PriceUnavailable, match=r"providerSettings\.openai\.quality='auto'"):
        gpt.price(square)  # the default quality has no price on the page
    with pytest.raises(PriceUnavailable):
        gpt.price(
            task(model, width=1536, height=1024, providerSettings={"openai": {"quality": "low"}})
        )


# ── pages this project wrote, one per price form ────────────────────────────


def test_a_size_label_prices_its_tier_and_prose_add_ons_are_read() -> None:
    """acme-prism-1: "256x256" is a row of the 0.25K tier; "1K", "2K" tiers; "for each input
    image used, an additional $X" per item; "when using grounded search, $Y ... on top"."""
    model, warnings = imported(OWN / "acme-prism-1.md")
    assert warnings == []
    prism = compiled(model)
    assert prism.price(task(model, width=384, height=192)) == 0.02
    assert prism.price(task(model, width=1344, height=768)) == 0.04
    refs = {"referenceImages": [IMG, IMG, IMG]}
    assert prism.price(task(model, resolution="2K", inputs=refs)) == 0.083
    on = {"google": {"webSearch": True}}
    assert prism.price(task(model, width=2048, height=2048, providerSettings=on)) == 0.13
    assert prism.task_price(task(model, width=256, height=256, numberResults=4)) == 0.08
    kinds = {e.kind for e in model.examples}
    assert kinds == {"text-to-image"}  # the Edit example shows a picture only
    assert {p.group for p in model.parameters} >= {"core", "settings", "features"}


def test_a_size_a_provider_setting_and_a_count_are_row_conditions() -> None:
    """acme-quill-1: "1024 x 1024 · fine · 40 steps": width, height, the provider's quality
    (not its moderation, which also has "draft") and steps, defaults applied."""
    model, warnings = imported(OWN / "acme-quill-1.md")
    assert warnings == []
    (row, *_) = model.pricing.rates if model.pricing else ()
    assert dict(row.values) == {
        "width": 768, "height": 768, "steps": 20, "providerSettings.acme.quality": "draft"
    }  # fmt: skip
    quill = compiled(model)

    def at(w: int, quality: str, **more: Any) -> dict[str, Any]:
        return task(
            model, width=w, height=w, providerSettings={"acme": {"quality": quality}}, **more
        )

    assert quill.price(at(768, "draft")) == 0.003  # steps 20 by default
    assert quill.price(at(768, "fine")) == 0.009
    assert quill.price(at(1024, "fine", steps=40)) == 0.02
    with pytest.raises(PriceUnavailable):
        quill.price(at(1024, "fine"))  # 20 steps at fine: the page has no such row
    assert {e.kind for e in model.examples} == {"text-to-image"}
    assert "checkpoint" in model.capabilities


def test_an_unreadable_price_line_is_a_warning_and_the_rest_is_kept() -> None:
    """acme-lumen-1: "1k" is the 1K tier; "per megapixel" and a "style preset" add-on are
    phrasings no rule reads: each is a warning, and the readable row still prices."""
    model, warnings = imported(OWN / "acme-lumen-1.md")
    assert "price not understood: per megapixel: $0.01" in warnings
    assert "price surcharge term not understood: 'style preset'" in warnings
    assert compiled(model).price(task(model, width=1216, height=832)) == 0.03


# ── one generated package: Kling, Nano Banana 2 and the pages above ─────────


GENERATED_CHECK = """
import json, runware_contract as rc
from runware_contract import platform
out = {"models": sorted(rc.MODELS)}
prism = rc.MODELS["acme:prism@1"]
task = {"taskType": "imageInference", "taskUUID": "@UUID@", "model": "acme:prism@1",
        "positivePrompt": "kites", "width": 1024, "height": 1024}
out["valid"] = rc.validate(task)
out["bad"] = [(e["code"], e["parameter"]) for e in rc.validate({**task, "width": 1000})]
out["price"] = prism.price(task)
out["typed"] = type(prism.Request.model_validate(task)).__name__
out["result"] = type(prism.Result.model_validate({"taskType": "imageInference",
    "taskUUID": "@UUID@", "imageUUID": "@UUID@", "imageURL": "https://x.test/a.jpg"})).__name__
out["sync"] = platform.answers_with_results(task)
out["video"] = rc.MODELS["klingai:kling-video@3-pro"].TASK_TYPE
print(json.dumps(out))
""".replace("@UUID@", UUID)


def test_image_models_and_kling_generate_into_one_package_that_runs(tmp_path: Path) -> None:
    pages = sorted(OWN.glob("*.md"))
    spec_dir = spec_with_pages(tmp_path / "spec", SPEC_DIR, pages)
    spec = load_specs(spec_dir)
    out = tmp_path / "out"
    write(build(spec), out)
    package = out / "runware_contract"
    assert (package / "acme_prism_1" / "request.schema.json").is_file()
    openapi = json.loads((package / "openapi.json").read_text())
    assert "AcmePrism1Request" in openapi["components"]["schemas"]
    assert openapi["components"]["schemas"]["ProcessingItem"]["properties"]["imageUUID"]
    done = subprocess.run(
        [sys.executable, "-c", GENERATED_CHECK],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(out)},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert set(found["models"]) == {
        "acme:lumen@1", "acme:prism@1", "acme:quill@1", "google:4@3", "klingai:kling-video@3-pro"
    }  # fmt: skip
    assert found["valid"] == []
    assert found["bad"] == [["unsupportedDimensions", "width"]]
    assert found["price"] == 0.04
    assert (found["typed"], found["result"]) == ("ImageInferenceRequest", "ImageInferenceResult")
    assert found["sync"] is True and found["video"] == "videoInference"
