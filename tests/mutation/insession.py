"""Mutants run inside one collected pytest session: the driver imports and collects the tests
once, then for each mutant forks a child that patches the mutated functions' code
(``patching.apply``) and runs only the chosen items. A mutant costs a fork and its tests, not
an interpreter, imports and collection."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable
from typing import IO

import pytest
from _pytest.runner import runtestprotocol

from tests.mutation import patching

NOT_PATCHED = 77  # the child's status when the mutant could not be put in place


class MutantLoop:
    """A pytest plugin: replaces the run of the collected tests by ``work(self)``, which
    calls ``run`` once per mutant (and once per unmutated check)."""

    def __init__(self, work: Callable[[MutantLoop], None]) -> None:
        self.work = work
        self.items: dict[str, pytest.Item] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        self.items = {item.nodeid: item for item in session.items}
        capman = session.config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            self.work(self)
        return True

    def run(
        self,
        tests: list[str],
        timeout: float,
        changes: dict[patching.Key, types.CodeType] | None = None,
        path: str = "",
    ) -> tuple[str, str | None, str]:
        """("killed" | "survived" | "timeout" | "unpatched" | "error", the first failing test, its
        report): ``tests`` (node ids of this session) in a forked child, ``changes`` put into
        the child first; the child's process group is killed when it ends or overruns."""
        items = [self.items[t] for t in tests if t in self.items]
        with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
            pid = os.fork()
            if pid == 0:
                _child(items, changes, path, out)
            deadline = time.monotonic() + timeout
            status = None
            while status is None:
                done, got = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = got
                elif time.monotonic() > deadline:
                    break
                else:
                    time.sleep(0.005)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # what the tests left running
            if status is None:
                os.waitpid(pid, 0)
                return "timeout", None, ""
            out.seek(0)
            report = out.read()
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return "survived", None, ""
        if code == NOT_PATCHED:
            return "unpatched", None, report
        if code != 1:  # (pytest's own machinery failed: no evidence either way)
            print(f"the mutant's child failed ({code}): {report[-2000:]}", flush=True)
            return "error", None, report
        first, _, rest = report.partition("\n")
        return "killed", first, rest[-1500:]


def _child(
    items: list[pytest.Item],
    changes: dict[patching.Key, types.CodeType] | None,
    path: str,
    out: IO[str],
) -> None:
    code = 3
    try:
        os.setpgid(0, 0)
        if changes is not None:
            try:
                patched = patching.apply(changes, path)
            except ValueError as error:  # a closure the new code does not fit
                out.write(f"{error}\n")
                patched = 0
            if not patched:
                code = NOT_PATCHED
                return
        for index, item in enumerate(items):
            following = items[index + 1] if index + 1 < len(items) else None
            reports = runtestprotocol(item, nextitem=following, log=False)
            failed = next((r for r in reports if r.failed), None)
            if failed is not None:
                out.write(f"{item.nodeid}\n{failed.longreprtext}\n")
                code = 1
                return
        code = 0
    except BaseException:  # (the child reports everything, then exits)
        with contextlib.suppress(Exception):
            out.write(traceback.format_exc())
    finally:
        with contextlib.suppress(Exception):
            out.flush()
        sys.stdout.flush()
        os._exit(code)
