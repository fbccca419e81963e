"""The admin dashboard at ``/__admin/ui``: what the mock is doing, live, in a browser
(``routes.Dashboard``; its security in ``session``, its live stream in ``live``)."""

from __future__ import annotations

from .routes import Dashboard

__all__ = ["Dashboard"]
