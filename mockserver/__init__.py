"""A Runware API mock: REST and WebSocket on the generated contract, async video lifecycle,
documented-example replay, scenarios, webhooks, uploads and real video files.

Imports lazily: pytest loads this package's plugin in every install, a client-only one
too, where the server's dependencies (the ``[mock]`` extra) are absent.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from .extras import MissingExtra, needs_extra, rerun_in_project_venv

if TYPE_CHECKING:
    from .core.config import MockConfig
    from .http.app import MockServer, create_app

__all__ = ["MockConfig", "MockServer", "create_app", "main"]

_LAZY = {"MockServer": ".http.app", "create_app": ".http.app", "MockConfig": ".core.config"}

if os.environ.get("RUNWARE_MOCK_COMPILED"):  # a --workers process of a compiled server
    from .compiled import inherit

    inherit()


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with needs_extra("mock", f"mockserver.{name}"):
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def main(*, as_module: bool = False) -> int:
    """``python -m mockserver`` / ``runware-mock``: one line and exit status 2 when the
    ``[mock]`` extra is missing, instead of a traceback. Run as ``python -m mockserver``
    (``as_module``) in a clone, it runs again in the clone's ``.venv`` first."""
    from .compiled import start

    start(sys.argv[1:])  # before the request path is imported: compiled, if built
    try:
        with needs_extra("mock", "the mock server"):
            from .cli import main as cli_main
    except MissingExtra as missing:
        if as_module:
            rerun_in_project_venv(sys.argv[1:])
        print(missing, file=sys.stderr)
        return 2
    return cli_main()
