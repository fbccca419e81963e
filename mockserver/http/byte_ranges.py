"""HTTP byte ranges for media answers (RFC 9110 14): browsers seek in a video by asking for
part of it (``Range: bytes=a-b``), and players need ``206 Partial Content`` to do that.

One range is answered with 206 and ``Content-Range``; a range no byte of the file satisfies
with 416 and ``Content-Range: bytes */length``. What the mock does not serve as ranges (more
than one range, another unit, a header that does not parse, an ``If-Range`` that does not
match the file's ETag) gets the whole file with 200, which RFC 9110 allows: a server may
ignore ``Range``. Every answer says ``Accept-Ranges: bytes``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from starlette.responses import JSONResponse, Response

from ..core.reply import error, status_of

# One range: first-last, first- (to the end) or -suffix (the last bytes). At most 18 digits a
# number (beyond any file the mock serves), so a hostile header cannot make a huge integer.
_ONE = re.compile(
    r"bytes=(?:(?P<first>[0-9]{1,18})-(?P<last>[0-9]{0,18})|-(?P<suffix>[0-9]{1,18}))"
)


class Unsatisfiable(Exception):
    """The range names no byte of the file."""


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The (first, last) bytes, inclusive, that ``header`` asks of a file of ``length``
    bytes; None for the whole file (no header, or one the mock ignores: see the module);
    Unsatisfiable when it names no byte."""
    if header is None:
        return None
    match = _ONE.fullmatch(header.strip())
    if match is None:
        return None  # another unit, several ranges, or not a range at all: the whole file
    if match["suffix"] is not None:
        suffix = int(match["suffix"])
        if suffix == 0 or length == 0:
            raise Unsatisfiable
        return max(0, length - suffix), length - 1
    first = int(match["first"])
    last = int(match["last"]) if match["last"] else None
    if last is not None and last < first:
        return None  # invalid (RFC 9110 14.1.1): ignored
    if first >= length:
        raise Unsatisfiable
    return first, length - 1 if last is None else min(last, length - 1)


def etag_of(data: bytes) -> str:
    """A strong ETag of the bytes (what ``If-Range`` compares with)."""
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def media_response(
    headers: Mapping[str, str], method: str, data: bytes, media_type: str
) -> Response:
    """``data`` as the answer to a GET or HEAD with these request ``headers``: 200 whole,
    206 one range, or 416."""
    etag = etag_of(data)
    common = {"Accept-Ranges": "bytes", "ETag": etag}
    if_range = headers.get("if-range")
    wanted = headers.get("range") if if_range is None or if_range.strip() == etag else None
    try:
        span = byte_range(wanted, len(data))
    except Unsatisfiable:
        code = "rangeNotSatisfiable"
        message = f"The Range {wanted!r:.100} names no byte of this {len(data)}-byte file."
        return JSONResponse(
            {"errors": [error(code, message, parameter="Range")]},
            status_code=status_of(code),
            headers={**common, "Content-Range": f"bytes */{len(data)}"},
        )
    if span is None:
        body, status = data, 200
    else:
        first, last = span
        body, status = data[first : last + 1], 206
        common["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(
        body if method != "HEAD" else b"",
        status_code=status,
        media_type=media_type,
        headers={**common, "Content-Length": str(len(body))},
    )
