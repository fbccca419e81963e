"""Small model pages in Runware's docs page format, written inline by the importer's tests:
each test states only the facts it is about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from codegen.docs.importer import ImportResult, import_page, load_platform
from tests.conftest import SPEC_DIR

PLATFORM = load_platform(SPEC_DIR)
URL = "https://runware.ai/docs/models/acme-test-1"
INT = "`integer`"  # a Type cell
MODEL_FACTS = {
    "ID": "`acme:test@1`",
    "Status": "live",
    "Creator": "Acme",
    "Release Date": "March 3, 2026",
    "Capabilities": "Text to Video",
}


def param(
    name: str,
    facts: Mapping[str, str] | None = None,
    *,
    prose: str = "Says what it does.",
    allowed: Iterable[str] = (),
    level: int = 3,
    anchor: str | None = None,
    side: str = "request",
) -> str:
    """One parameter section: its heading, fact bullets (values as written), prose and
    inline allowed values."""
    anchor = anchor or f"{side}-{name.lower().replace('.', '-')}"
    lines = [f"{'#' * level} [{name}]({URL}#{anchor})", ""]
    lines += [f"- **{k}**: {v}" for k, v in (facts or {}).items()]
    lines += ["", prose, ""]
    values = list(allowed)
    if values:
        lines += ["**Allowed values**: " + " ".join(f"`{v}`" for v in values), ""]
    return "\n".join(lines) + "\n"


TASK_TYPE = param("taskType", {"Type": "`string`", "Required": "true", "Value": "`videoInference`"})
TASK_UUID = param("taskUUID", {"Type": "`string`", "Required": "true", "Format": "`UUID v4`"})
MODEL = param("model", {"Type": "`string`", "Required": "true", "Value": "`acme:test@1`"})
RESPONSE = param("taskUUID", {"Type": "`string`", "Required": "true"}, side="response")


def page(
    *request: str,
    facts: Mapping[str, str] = MODEL_FACTS,
    url: str | None = URL,
    pricing: str = "- **720p · 5s**: `$0.50`",
    validation: Iterable[str] = (),
    response: Iterable[str] = (RESPONSE,),
    examples: str = "",
    group: str = "**API Options**\n\nOptions of the task.\n",
    head: Iterable[str] = (TASK_TYPE, TASK_UUID, MODEL),
) -> str:
    """A whole page: front matter, facts, pricing, validation sentences (each its own block;
    a sentence may be a table), the request parameters (after the standard three, under
    ``group``, after ``head``), the response fields and the examples."""
    front = ["---", "title: Acme Test 1 | Runware Docs"]
    if url is not None:
        front.append(f"url: {url}")
    out = [*front, "---", "# Acme Test 1", ""]
    out += [f"- **{k}**: {v}" for k, v in facts.items()]
    out += ["", "## Pricing", "", pricing, "", "## Compatibility & Validation", ""]
    out += ["\n\n---\n\n".join(validation), "", "## Request Parameters", "", group]
    out += [*head, *request, "## Response Parameters", "", *response]
    out += ["## Examples", "", examples]
    return "\n".join(out) + "\n"


def imported(text: str, existing: str | None = None) -> ImportResult:
    return import_page(text, PLATFORM, existing)


def parameter(result: ImportResult, path: str, side: str = "parameters") -> dict[str, Any]:
    return next(p for p in result.spec[side] if p["path"] == path)


def messages(result: ImportResult, level: str | None = None) -> list[str]:
    return [n.message for n in result.notes if level is None or n.level == level]
