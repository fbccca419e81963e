"""The one log format of a mock process: every logger (uvicorn's, the mock's, the request
and delivery lines) goes through the single handler ``configure`` installs on the root
logger, with one formatter that masks every line it writes (``security.mask``: API keys,
bearer tokens and media signatures never reach a line; ``security.redact_logs`` adds the
filter that shortens uvicorn's WebSocket frames to their kind and size).

``--log-format text`` (default) writes ``<time> <LEVEL> <logger>: <message>``;
``--log-format json`` one JSON object per line with the stable keys ``time`` (ISO 8601,
UTC, milliseconds), ``level``, ``logger``, ``message``, then the event's own fields
(``event`` names its kind: ``request``, ``delivery``, ``startup``; see ``request_log`` and
``delivery``) and ``exception`` when there is a traceback.

Text lines cannot be forged: control characters in a message (a taskUUID holding
``\n<fake line>``, a taskType with CRLF, a path with ``%0A``, ANSI escape sequences) are
written escaped (``\n``, ``\r``, ``\x1b``), so every record is one line and a terminal
shows what was sent, never what it asks for; only a traceback keeps its own line breaks.
(JSON lines escape them already.)

A record carries its structured fields in ``extra={"fields": {...}}``: the text format
shows only the message (built to say the same), the JSON format adds the fields.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

import orjson

from .security import mask, redact_logs

FORMATS = ("text", "json")
LEVELS = ("critical", "error", "warning", "info", "debug")
FIELDS = "fields"  # the LogRecord attribute holding an event's structured fields


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    whole = int(record.created)
    if _second[0] != whole:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int(record.msecs):03d}Z"


# C0 controls, DEL and C1 controls (CSI is U+009B), and the Unicode line and paragraph
# separators some viewers break lines at: written as Python escapes.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)}


def escaped(text: str) -> str:
    """``text`` with its control characters escaped (unchanged, and fast, when it has none)."""
    if text.isprintable():
        return text
    return text.translate(_CONTROLS)


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO mockserver.request: rest POST /v1 200 1.2 ms ...``"""

    def format(self, record: logging.LogRecord) -> str:
        message = escaped(record.getMessage())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {message}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        return mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (keys in the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        # default=str: a field of an unexpected type is written as text, never a lost line
        return mask(orjson.dumps(entry, default=str).decode())


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure`` installs (found again by its type, so it is installed once)."""


def configure(level: str = "info", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Route every logger of this process through one handler on the root logger, writing
    ``fmt`` lines at ``level`` and above to ``stream`` (stderr). Called again (a worker
    process, a test), it replaces the handler it installed before."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    redact_logs()
    # No line shows the thread or process: LogRecord need not look them up (a request line
    # costs less).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "mockserver"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn's own dictConfig handlers, if any were installed
        logger.setLevel(logging.NOTSET)
        # uvicorn's access log is off: request_log's lines replace it (uvicorn logs access
        # whenever that logger has a handler, its parents' included).
        logger.propagate = name != "uvicorn.access"
