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
