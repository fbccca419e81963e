"""Lay out the consumer project in a folder: ``python tests/consumer/project.py DEST``.

README's second path (``my_integration.py`` and ``test_my_integration.py``, taken from its
blocks verbatim) beside the checks of this folder. Also: the README's code blocks, for
``tests/test_readme.py`` and ``nox -s install_testing``.

Standard library only: it runs in a fresh virtualenv before anything but the kit is there.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
README = REPO / "README.md"
CONTRACT_SECTION = "2. Contract tests offline"
# (file in this folder, name in the project)
FILES = (
    ("installed.py", "installed.py"),
    ("client_only.py", "test_client_only.py"),
    ("fixtures_check.py", "test_fixtures.py"),
    ("mock_page.py", "mock_page.py"),
)
# A docs page this project wrote, for mock_page.py (the real pages are not ours to ship).
PAGE = HERE.parent / "data" / "pages" / "acme-motion-2.md"
# files README's second path shows, each a python block whose first line is "# NAME"
README_FILES = ("my_integration.py", "test_my_integration.py")
PROPERTY_TEST = "test_my_integration.py"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)


class Block(NamedTuple):
    """A fenced code block: the ``##`` section it is in, its language, its text, its line."""

    section: str
    lang: str
    text: str
    line: int


def blocks(path: Path = README) -> list[Block]:
    """Every fenced code block of a markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    headings = [(m.start(), m.group(2)) for m in HEADING.finditer(text) if m.group(1) == "##"]
    found = []
    for match in FENCE.finditer(text):
        section = next((h for at, h in reversed(headings) if at < match.start()), "")
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(section, match.group(1), match.group(2), line))
    return found


def section_blocks(section: str, lang: str, path: Path = README) -> list[Block]:
    """The ``lang`` blocks under ``## section``, in order (LookupError if none)."""
    found = [b for b in blocks(path) if b.section == section and b.lang == lang]
    if not found:
        raise LookupError(f"{path.name} has no {lang} block under '## {section}'")
    return found


def python_block(section: str, readme: Path = README) -> str:
    """The first ```python block under the ``## section`` heading, verbatim."""
    return section_blocks(section, "python", readme)[0].text


def readme_file(name: str, readme: Path = README) -> str:
    """The python block of README's second path that is the file ``name``."""
    for block in section_blocks(CONTRACT_SECTION, "python", readme):
        if block.text.startswith(f"# {name}\n"):
            return block.text
    raise LookupError(f"README's '## {CONTRACT_SECTION}' shows no file {name}")


def install_command(path: str, readme: Path = README) -> list[str]:
    """README's ``pip install 'PATH[testing]'`` line, with ``PATH`` replaced by ``path``."""
    (block,) = section_blocks(CONTRACT_SECTION, "sh", readme)
    (line,) = [line for line in block.text.splitlines() if line.startswith("pip install")]
    words = shlex.split(line, comments=True)
    return [word.replace("PATH", path, 1) for word in words]


def write_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for source, name in FILES:
        shutil.copy(HERE / source, dest / name)
    for name in README_FILES:
        (dest / name).write_text(readme_file(name), encoding="utf-8")
    shutil.copy(PAGE, dest / "page.md")
    return dest


if __name__ == "__main__":
    print(write_project(Path(sys.argv[1])))
