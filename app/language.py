"""The language of a session, kept per user and per browser (issue 14 item 6).

Streamlit forgets a widget's value on some page switches (「評価する」 on 担当案件 is one) and every new session
(a reload, a typed address, a link) starts from nothing. So the choice is kept three times:

- in the session, under a plain key (:data:`CHOICE`) that no widget owns; the sidebar switch (``lang``) is set
  from it on every run, so no page switch can drop it;
- in the store for a logged-in user (``users.language``, :meth:`UserService.set_language`), so it follows the
  user to their next login, in any browser;
- in a cookie for the browser (:data:`COOKIE`), so anonymous visitors (the login page, the self-check) keep it
  too.

A new session starts from the user's stored choice, else the cookie, else Japanese. Logging in switches to the
user's stored choice if they have one (and keeps the browser's otherwise).
"""

from __future__ import annotations

import streamlit as st

from scoring.store import StoreError

from .auth import User, actor
from .i18n import DEFAULT_LANG, LANG_KEY, LANGS, relabel_widgets
from .session import get_store

CHOICE = "lang_choice"          # the session's language (plain state: survives every page switch)
OWNER = "lang_owner"            # the username the choice was last settled for (None: anonymous)
WRITTEN = "lang_cookie_written"  # the value this session has written into the cookie
COOKIE = "shinsa_lang"
COOKIE_DAYS = 365


def _valid(lang) -> str | None:
    return lang if lang in LANGS else None


def _cookie_lang() -> str | None:
    try:
        return _valid(st.context.cookies.get(COOKIE))
    except Exception:  # no request context (bare script runs)
        return None


def _stored_lang(user: User | None) -> str | None:
    if user is None:
        return None
    try:
        return _valid(get_store().users.get(user.username).language)
    except StoreError:
        return None


def settle_language(user: User | None) -> str:
    """Call once per run, before the language switch is drawn: the session's language, set into the switch."""
    ss = st.session_state
    owner = user.username if user is not None else None
    if _valid(ss.get(CHOICE)) is None:
        ss[CHOICE] = _stored_lang(user) or _cookie_lang() or DEFAULT_LANG
        ss[OWNER] = owner
    elif owner is not None and ss.get(OWNER) != owner:      # just logged in: the user's own choice, if any
        ss[CHOICE] = _stored_lang(user) or ss[CHOICE]
        ss[OWNER] = owner
    elif owner is None:
        ss[OWNER] = None
    ss[LANG_KEY] = ss[CHOICE]
    return ss[CHOICE]


def language_changed() -> None:
    """``on_change`` of the switch: keep the choice in the session and for the user; keep every widget's value."""
    ss = st.session_state
    lang = _valid(ss.get(LANG_KEY)) or DEFAULT_LANG
    ss[CHOICE] = lang
    relabel_widgets()
    me = actor()
    if me is not None:
        try:
            get_store().users.set_language(me, lang)
        except StoreError:   # a deactivated account, a database hiccup: the session keeps the choice anyway
            pass


def write_language_cookie() -> None:
    """Have the browser keep the session's language (an invisible script, only when the cookie differs)."""
    ss = st.session_state
    lang = _valid(ss.get(CHOICE))
    if lang is None or lang == (ss.get(WRITTEN) or _cookie_lang() or DEFAULT_LANG):   # the browser has it already
        return
    ss[WRITTEN] = lang
    # lang is "ja" or "en" (checked above): nothing of the user's reaches the script
    st.html(f"""<script>document.cookie = "{COOKIE}={lang}; Path=/; Max-Age={COOKIE_DAYS * 86400}; SameSite=Lax"
        + (location.protocol === "https:" ? "; Secure" : "");</script>""", unsafe_allow_javascript=True)
