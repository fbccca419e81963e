"""The mutants a report left alive, each as a diff of the mutated line: what a test must tell
apart (``--table``: the scores per module instead). ``python -m tests.mutation.show
build/mutation.json [TARGET ...]``, run from the
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


def table(report: dict[str, Any]) -> str:
    """The report's scores as the Markdown table of docs/testing.md."""
    rows = ["| module | mutants | equivalent | before | after | left |",
            "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    totals = {"mutants": 0, "equivalent": 0, "before": 0, "after": 0}
    for result in report["targets"].values():
        for module, found in result["modules"].items():
            entries = found["mutants"]
            equivalent = sum(e["outcome"] == "equivalent" for e in entries)
            scored = len(entries) - equivalent
            after = sum(e["outcome"] == "killed" for e in entries)
            before = sum(bool(e["killed_before"]) for e in entries)
            left = scored - after
            rows.append(
                f"| `{module}` | {len(entries)} | {equivalent} | {percent(before, scored)} "
                f"| {percent(after, scored)} | {left} |"
            )
            for key, value in zip(totals, (len(entries), equivalent, before, after), strict=True):
                totals[key] += value
    scored = totals["mutants"] - totals["equivalent"]
    rows.append(
        f"| all | {totals['mutants']} | {totals['equivalent']} "
        f"| {percent(totals['before'], scored)} | {percent(totals['after'], scored)} "
        f"| {scored - totals['after']} |"
    )
    return "\n".join(rows)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / max(whole, 1):.1f}% ({part}/{whole})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--table", action="store_true", help="the scores, as a Markdown table")
    args = parser.parse_args()
    report = json.loads(Path(args.report).read_text(encoding="utf-8"))
    if "targets" not in report:  # a run's partial file: its modules only
        report = {"targets": {"partial": {"modules": report}}}
    if args.targets:
        report["targets"] = {k: v for k, v in report["targets"].items() if k in args.targets}
    if args.table:
        print(table(report))
        return
    for result in report["targets"].values():
        for module, found in result["modules"].items():
            for entry in found["mutants"]:
                if entry["outcome"] in ("killed", "equivalent"):
                    continue
                print(f"## {module}:{entry['line']} {entry['operator']}: {entry['outcome']}")
                print(diff(module, entry))


if __name__ == "__main__":
    main()
