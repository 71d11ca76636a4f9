"""Shared TLS contexts for e-mail: Apprise's plugin and the kept relay connections.

Apprise 1.x builds `ssl.create_default_context()` for every e-mail it sends, even over plain
SMTP; loading the CA bundle costs ~34 ms of CPU each time and caps a sender at ~30 messages per
second. Here the plugin gets a lazy context instead: nothing is loaded unless the connection
actually uses TLS, and then one context per verification setting is built once and shared
(an `SSLContext` is safe to share between threads once it is configured).
"""

from __future__ import annotations

import ssl
import threading
import types
from typing import Any

_contexts: dict[tuple[tuple[str, Any], ...], ssl.SSLContext] = {}
_lock = threading.Lock()


class _LazyContext:
    """Records the settings the plugin applies, builds (or reuses) the context on first use."""

    def __init__(self) -> None:
        object.__setattr__(self, "_settings", {})

    def __setattr__(self, name: str, value: Any) -> None:
        self._settings[name] = value

    def __getattr__(self, name: str) -> Any:
        return getattr(_shared(tuple(sorted(self._settings.items()))), name)


def _shared(settings: tuple[tuple[str, Any], ...]) -> ssl.SSLContext:
    with _lock:
        context = _contexts.get(settings)
        if context is None:
            context = ssl.create_default_context()
            # check_hostname must be off before verify_mode may drop to CERT_NONE.
            for name, value in sorted(settings, key=lambda kv: kv[0] != "check_hostname"):
                setattr(context, name, value)
            _contexts[settings] = context
        return context


def install() -> None:
    """Point Apprise's e-mail plugin at the lazy contexts (idempotent)."""
    from apprise.plugins.email import base

    if getattr(base.ssl, "_duban", False):
        return
    shim = types.ModuleType("ssl")
    shim.__dict__.update(ssl.__dict__)
    shim.create_default_context = _LazyContext  # type: ignore[attr-defined]
    shim._duban = True  # type: ignore[attr-defined]
    base.ssl = shim


def context(verify: bool) -> ssl.SSLContext:
    """The shared context for a connection of duban's own: the one Apprise's plugin would get
    for the same `verify=` setting."""
    if verify:
        return _shared(())
    return _shared(tuple(sorted({"check_hostname": False, "verify_mode": ssl.CERT_NONE}.items())))
