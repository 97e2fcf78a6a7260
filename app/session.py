"""The app's one door to the store (issue 4): the shared :class:`~scoring.store.Store`, store errors shown as
messages, the round and programme pickers, and the calls and analyses cached for every session of a round.

Layering (one way only): :mod:`app.i18n` ← ``app.session`` ← :mod:`app.auth` (who is logged in, the acting
user, :func:`~app.auth.require`) and :mod:`app.demo` (seeding) ← the pages. This module imports no page and
nothing of the login, so the login can be built on top of it.

Pages call the store's public services only (no SQL, no arithmetic). A store error becomes a clear message in
the current language; nothing is retried silently.
"""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import streamlit as st

from scoring.errors import InputError
from scoring.store.errors import (AccountLocked, AccountRefused, ConflictOfInterest, Duplicate, IncompleteReview,
                                  NotFound, PermissionDenied, ReviewLocked, RoundLocked, StaleResolution, StaleReview,
                                  StoreError)

from .i18n import current_lang, has, t
from .kept import Kept
from .problems import markdown_escaped, problem_lines, show_input_error

if TYPE_CHECKING:   # the store's code is loaded when the store is first opened (see get_store)
    from scoring.store import Store, UserInfo

ROUND_KEY = "app_round_id"

# --- the process-wide store ----------------------------------------------------------------------------------
#
# Opened once per server process. Opening it the first time loads the store's code (its services, SQLAlchemy's ORM,
# pandas, SciPy: seconds on a loaded machine) and checks the schema; the first page after a server start — the login
# form — does not need it, so it is drawn first and the store opened in the background (:func:`warm_up`, issue 15).

_store: Store | None = None
_store_lock = threading.Lock()
_warm_lock = threading.Lock()
_warming: threading.Thread | None = None


def get_store() -> Store:
    """The process-wide store (``DATABASE_URL`` or SQLite under ``SHINSA_DATA_DIR``); schema upgraded on first use."""
    store = _store
    if store is not None:
        return store
    return _open_store()


def _open_store() -> Store:
    global _store
    with _store_lock:     # one opening at a time: the background warm-up and a request wait for each other
        if _store is None:
            from scoring.store import Store

            _store = Store(create=True)
        return _store


def store_ready() -> bool:
    """Whether :func:`get_store` answers at once: the store is open, or opening it loads no code any more (a
    process that has the store's code already — a test run, say — opens it in a few milliseconds)."""
    return _store is not None or "scoring.store.store" in sys.modules


def warm_up() -> None:
    """Open the store in a background thread (once per process) if it is not open yet: called at the end of every
    run, so the first page after a server start is drawn before the store is opened, not after."""
    global _warming
    with _warm_lock:      # never waits for an opening under way (the demo seeding's, say)
        if _warming is not None or _store is not None:
            return
        _warming = threading.Thread(target=_open_and_freeze, name="shinsa-open-store", daemon=True)
        _warming.start()


def _open_and_freeze() -> None:
    """Open the store, then move everything loaded so far (the app's and its libraries' modules, the catalog,
    the packs) out of the garbage collector's sight (:func:`gc.freeze`): those objects live as long as the
    process, and without them Python's own full collections walk a fraction of the heap. Streamlit's collection
    after every run is switched off in ``.streamlit/config.toml`` (``runner.postScriptGC``; issue 15)."""
    get_store()
    gc.collect()
    gc.freeze()


def reset_store() -> None:
    """Forget the process-wide store, so the next :func:`get_store` opens the database the environment names
    now (tests point ``SHINSA_DATA_DIR`` at a fresh copy)."""
    global _store, _warming
    with _store_lock, _warm_lock:
        _store = None
        _warming = None


def error_text(exc: BaseException) -> str:
    """A store (or input) error in the user's language."""
    if isinstance(exc, StaleReview):
        return t("app.err.stale", detail=str(exc))
    if isinstance(exc, StaleResolution):
        return t("chair.detail.resolution_changed")
    if isinstance(exc, AccountLocked):
        return t("auth.locked")
    if isinstance(exc, AccountRefused):   # a username or password rule of the store: its reason's message
        return t(f"account.refused.{exc.reason}")
    if isinstance(exc, IncompleteReview):
        return t("app.err.incomplete", n=len(exc.missing))
    if isinstance(exc, ReviewLocked):    # the reason in the user's words, no English detail (issue 14)
        return t(f"app.err.review_locked.{exc.reason}") if has(f"app.err.review_locked.{exc.reason}") \
            else t("app.err.review_locked")
    for cls, key in ((ConflictOfInterest, "app.err.conflict"),
                     (RoundLocked, "app.err.round_locked"), (PermissionDenied, "app.err.permission"),
                     (NotFound, "app.err.not_found"), (Duplicate, "app.err.duplicate")):
        if isinstance(exc, cls):
            return t(key) + f"（{exc}）"
    if isinstance(exc, InputError):   # shown as Markdown by the caller: every line escaped (app/problems.py)
        return t("app.err.input") + "\n\n" + "\n".join(f"- {markdown_escaped(line)}"
                                                         for line in problem_lines(exc.problems))
    return t("app.err.store") + f"（{exc}）"


@contextmanager
def store_errors() -> Iterator[None]:
    """Show a store or input error as a message (the page goes on)."""
    try:
        yield
    except AccountRefused as exc:        # one rule of the store, said in the user's words
        st.error(error_text(exc), icon=":material/error:")
    except InputError as exc:
        show_input_error(exc)
    except StoreError as exc:
        st.error(error_text(exc), icon=":material/error:")


ROUND_PICK = "app_round_pick"


def select_round(round_id: int) -> None:
    """Make ``round_id`` the round every picker shows from now on (a round just created, say: the next import
    must not go to the round picked before). Call it before this run draws the round picker."""
    st.session_state[ROUND_KEY] = round_id
    st.session_state[ROUND_PICK] = round_id


def pick_round(me: UserInfo, key: str = ROUND_PICK):
    """Choose the round to work on (kept for the session). None when there is none yet."""
    rounds = get_store().rounds.list_rounds(me)
    if not rounds:
        return None
    ids = [r.id for r in rounds]
    by_id = {r.id: r for r in rounds}
    picked = st.session_state.get(key)
    if picked not in ids:
        remembered = st.session_state.get(ROUND_KEY)
        picked = remembered if remembered in ids else ids[-1]
    # set on every run: a picker drawn on another page (a new widget) starts from the round chosen last,
    # not from its first option
    st.session_state[key] = picked
    # labels made now, in this run's language (a format_func read later — AppTest does — would see no session)
    names = {i: by_id[i].name + ("（" + t("app.round_locked") + "）" if by_id[i].status == "locked" else "")
             for i in ids}
    rid = st.selectbox(t("app.round"), ids, key=key, format_func=names.get, placeholder=t("common.choose"))
    st.session_state[ROUND_KEY] = rid
    return by_id[rid]


def pick_pack(round_info, key: str = "app_pack_pick") -> str:
    packs = list(round_info.packs)
    if st.session_state.get(key) not in packs:
        st.session_state[key] = packs[0]
    labels = {p: pack_label(round_info.id, p) for p in packs}
    return st.selectbox(t("app.pack"), packs, key=key, format_func=labels.get, placeholder=t("common.choose"))


def round_pack_header(me: UserInfo, title_key: str, pack_hint=None):
    """A chair page's head: its title, then the round and programme pickers side by side.

    ``pack_hint(round)``: a programme to show instead of the one picked before (the one of a proposal named
    in the page's address), or None. Returns ``(round, pack_id, third column)`` — the free column is for the
    page's own picker — or ``None`` (with a message) when there is no round yet."""
    st.title(t(title_key))
    top = st.columns([2, 3, 2])   # the programme's name is the longest: its picker gets the room
    with top[0]:
        rnd = pick_round(me)
    if rnd is None:
        st.info(t("app.no_round"))
        return None
    with top[1]:
        hint = pack_hint(rnd) if pack_hint is not None else None
        if hint in rnd.packs:
            st.session_state["app_pack_pick"] = hint
        pack_id = pick_pack(rnd)
    return rnd, pack_id, top[2]


def programme_label(pack_id: str, lang: str | None = None) -> str:
    """A shipped programme by its code and name in the current language (the create-round form, the audit
    log); an id that is not a shipped pack as it is."""
    from scoring.io.packs import load_pack
    from scoring.packs import SHIPPED_PACKS

    if pack_id not in SHIPPED_PACKS:
        return pack_id
    pack = load_pack(pack_id)
    return f"{pack.programme.code} {pack.programme.name.get(lang or current_lang())}"


def pack_label(round_id: int, pack_id: str) -> str:
    """A programme as the pickers show it: its code and its name in the current language."""
    pack = get_store().rounds.pack(round_id, pack_id)
    return f"{pack.programme.code} {pack.programme.name.get(current_lang())}"


# --- the chair's call, cached across reruns and sessions until the round changes -----------------------------

_calls: dict[tuple, tuple] = {}
_calls_lock = threading.Lock()


def change_marker(me: UserInfo, round_id: int) -> int:
    """The newest audit-log line of the round: every stored change (review, resolution, import, conflict)
    writes one, so an unchanged marker means unchanged inputs."""
    entries = get_store().audit.query(me, round_id, limit=1)
    return entries[0].id if entries else 0


def round_call(me: UserInfo, round_id: int, pack: str, marker: int | None = None):
    """``(call, resolutions)`` of one pack of the round (:meth:`RoundService.call`), reused while the round's
    data are unchanged; what-if then only re-ranks (:meth:`scoring.call.Call.rank`). ``marker``: the round's
    :func:`change_marker` when the caller has just read it (one audit query instead of two)."""
    if marker is None:
        marker = change_marker(me, round_id)
    # per user: a chair's call leaves out what their conflicts of interest withhold (call.withheld)
    key = (str(get_store().db.engine.url), round_id, pack, me.username)
    with _calls_lock:
        hit = _calls.get(key)
    if hit is not None and hit[0] == marker:
        return hit[1]
    value = get_store().rounds.call(me, round_id, pack)
    with _calls_lock:
        _calls[key] = (marker, value)
    return value


# --- the chair's analyses (bootstrap etc.), computed once per round state and what-if settings ---------------

_analyses = Kept(32)


def round_analysis(key: tuple, compute):
    """The analyses of one state of a round: ``key`` holds everything that determines them — the database,
    the round, the pack, the audit marker (any stored change) and the what-if settings — so a result is
    shared only where it is the same for every chair. Only chair pages call this (after
    :func:`app.auth.require` with ``"chair"``)."""
    return _analyses.get((str(get_store().db.engine.url),) + tuple(key), compute)


# --- what a chair page draws for one state of a round, shared across reruns, sessions and chairs -------------

_views = Kept(24)


def round_view(me: UserInfo, key: tuple, compute):
    """What a chair page derives from one state of a round — the ranking of a what-if, its table and chart —
    computed once and shared (issue 15: a programme switch, a new tab or another chair looking at the same
    state no longer ranks and draws it again). ``key`` must hold everything the value depends on: the round,
    the pack, the audit marker (:func:`change_marker`: any stored change), the what-if settings, the
    language; the database and the user (a chair's conflicts of interest withhold proposals from their call) are
    added here. Values are shared, never changed by a reader (:class:`app.kept.Kept`, the last 24)."""
    return _views.get((str(get_store().db.engine.url), me.username) + tuple(key), compute)
