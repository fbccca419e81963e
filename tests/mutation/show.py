"""The mutants a report left alive, each as a diff of the mutated line: what a test must tell
apart. ``python -m tests.mutation.show build/mutation.json [TARGET ...]``, run from the
checkout the report measured (its sources unchanged since); a run's ``*.partial.json`` (what
an unfinished run has measured so far) is read too."""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any


def diff(module: str, entry: dict[str, Any]) -> str:
    """The mutant's change to ``module``, applied to a copy by cosmic-ray's own operator."""
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.plugins import get_operator

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(module).name
        shutil.copy(module, copy)
        operator = get_operator(entry["operator"])()
        with use_mutation(copy, operator, entry["occurrence"]) as (original, mutated):
            if mutated is None:
                return "(no longer applies)\n"
            return "".join(
                difflib.unified_diff(
                    original.splitlines(keepends=True),
                    mutated.splitlines(keepends=True),
                    f"{module}",
                    f"{module} ({entry['operator']})",
                    n=1,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args()
    report = json.loads(Path(args.report).read_text(encoding="utf-8"))
    if "targets" not in report:  # a run's partial file: its modules only
        report = {"targets": {"partial": {"modules": report}}}
    for name, result in report["targets"].items():
        if args.targets and name not in args.targets:
            continue
        for module, found in result["modules"].items():
            for entry in found["mutants"]:
                if entry["outcome"] in ("killed", "equivalent"):
                    continue
                print(f"## {module}:{entry['line']} {entry['operator']}: {entry['outcome']}")
                print(diff(module, entry))


if __name__ == "__main__":
    main()
