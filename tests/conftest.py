"""Shared fixtures: where the repo, the spec and the real docs page are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen import SpecSet, load_specs

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO / "spec"
DOCS_PAGE_ENV = "RUNWARE_DOCS_PAGE"
DEFAULT_DOCS_PAGE = REPO.parent / "shared" / "docs" / "klingai-video-3-0-pro.md"


@pytest.fixture(scope="session")
def spec() -> SpecSet:
    return load_specs(SPEC_DIR)


@pytest.fixture(scope="session")
def docs_page_text() -> str:
    """The real Kling VIDEO 3.0 Pro docs page; tests that need it skip when it is absent."""
    path = Path(os.environ.get(DOCS_PAGE_ENV, DEFAULT_DOCS_PAGE))
    if not path.is_file():
        pytest.skip(
            f"docs page not found at {path}: set {DOCS_PAGE_ENV} to the page's path "
            "(it is not committed to this repository)"
        )
    return path.read_text(encoding="utf-8")


TINY_SPEC_MODELS = REPO / "tests" / "data" / "tiny-spec" / "models"


def make_tiny_spec_dir(root: Path) -> Path:
    """A spec folder with the real platform.yaml and the tiny test model."""
    import shutil

    spec_dir = root / "spec"
    (spec_dir / "models").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "platform.yaml", spec_dir / "platform.yaml")
    for path in TINY_SPEC_MODELS.glob("*.yaml"):
        shutil.copy(path, spec_dir / "models" / path.name)
    return spec_dir


@pytest.fixture(scope="session")
def tiny_spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_spec_dir(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_spec(tiny_spec_dir: Path) -> SpecSet:
    return load_specs(tiny_spec_dir)
