"""``parse``: ``ast.parse`` for tests that read the project's own source.

CPython 3.11 before 3.11.8 keeps the AST builder's recursion count per interpreter, not per
thread (python/cpython#106905): while another thread builds a tree too (3.11's traceback
printing parses the failing line to place its ``^^^`` marks, and a mock server's thread may
print one), ``ast.parse`` can fail with a spurious "AST constructor recursion depth mismatch"
SystemError. The source is fine; parsing it again succeeds.
"""

from __future__ import annotations

import ast

ATTEMPTS = 5


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``source``'s tree; a spurious recursion-depth SystemError is retried, any other error
    (and that one, five times over) raised."""
    for attempt in range(ATTEMPTS):
        try:
            return ast.parse(source, filename)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
