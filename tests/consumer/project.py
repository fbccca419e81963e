"""Lay out the consumer project in a folder: ``python tests/consumer/project.py DEST``.

Standard library only: it runs in a fresh virtualenv before anything but the kit is there.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parents[1] / "README.md"
USAGE_SECTION = "Using the generated package"
PROPERTY_SECTION = "Property tests with the shipped strategies"
# (file in this folder, name in the project)
FILES = (
    ("my_integration.py", "my_integration.py"),
    ("installed.py", "installed.py"),
    ("client_only.py", "test_client_only.py"),
    ("fixtures_check.py", "test_fixtures.py"),
    ("mock_page.py", "mock_page.py"),
)
# A docs page this project wrote, for mock_page.py (the real pages are not ours to ship).
PAGE = HERE.parent / "data" / "pages" / "acme-motion-2.md"
PROPERTY_TEST = "test_readme_property.py"


def python_block(section: str, readme: Path = README) -> str:
    """The first ```python block under the ``## section`` heading of the README, verbatim."""
    text = readme.read_text(encoding="utf-8")
    heading = re.search(rf"^## {re.escape(section)}$", text, re.MULTILINE)
    if heading is None:
        raise LookupError(f"README has no section '## {section}'")
    block = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    found = block.search(text, heading.end())
    next_heading = re.compile(r"^## ", re.MULTILINE).search(text, heading.end())
    if found is None or (next_heading is not None and found.start() > next_heading.start()):
        raise LookupError(f"README's section '## {section}' has no python block")
    return found.group(1)


def write_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for source, name in FILES:
        shutil.copy(HERE / source, dest / name)
    (dest / PROPERTY_TEST).write_text(python_block(PROPERTY_SECTION), encoding="utf-8")
    shutil.copy(PAGE, dest / "page.md")
    return dest


if __name__ == "__main__":
    print(write_project(Path(sys.argv[1])))
