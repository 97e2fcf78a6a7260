"""Once-per-process costs of the first page that buy nothing under ``streamlit run`` (issue 15)."""

from __future__ import annotations

import gc
import threading

_frozen_lock = threading.Lock()
_frozen = False


def freeze_server_heap() -> bool:
    """Once per server process, before the first run imports the app: move every object the server has made so
    far (Streamlit, Starlette, uvicorn, the protobuf classes: ~95,000 tracked objects) out of the garbage
    collector's sight (:func:`gc.freeze`). They live as long as the process; without this, the first run's own
    allocations (the app's modules, the message catalog) set off a full collection that walks all of them —
    ~60 ms of the first page after a server start, inside the catalog's read alone (measured in the server:
    80-100 ms with, 21-31 ms without). Nothing is collected first: a full collection is the cost avoided, and
    what is garbage at that moment is a one-time, bounded amount. Later runs freeze nothing more
    (:func:`app.session._open_and_freeze` collects and freezes once more after the store opens). Returns whether
    this call froze (False outside a running server, and after the first call)."""
    global _frozen
    from streamlit import runtime

    if not runtime.exists():
        return False
    with _frozen_lock:
        if _frozen:
            return False
        _frozen = True
    gc.freeze()
    return True


def skip_direct_run_check() -> bool:
    """Streamlit checks, at the first element a process draws, whether it was started by ``streamlit run``
    rather than in a Python shell (``env_util.is_repl()``: ``inspect.stack()`` reads the source of every frame
    and walks every loaded module, ~130 ms of the first page after a server start) — only to print a console
    hint when it was not. Under a running server (``runtime.exists()``) the hint is never printed, so the check is
    marked as done. Returns whether it was (False outside a server, or if Streamlit no longer has the flag)."""
    from streamlit import delta_generator, runtime

    if not runtime.exists() or not hasattr(delta_generator, "_use_warning_has_been_displayed"):
        return False
    delta_generator._use_warning_has_been_displayed = True
    return True
