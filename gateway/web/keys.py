"""Typed application state keys (aiohttp AppKey)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from gateway.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
