"""Once-per-process costs of the first page that buy nothing under ``streamlit run`` (issue 15)."""

from __future__ import annotations


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
