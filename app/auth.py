"""Who is logged in: built-in accounts through the store (bcrypt, lockout), or ``st.login`` when an OIDC
provider is configured in ``.streamlit/secrets.toml`` (``[auth]``); then accounts are matched by identity
(the OIDC subject is the user's ``external_id`` in the store).

Pages ask :func:`require` (the acting user, or the page stops) or :func:`actor`; the shell asks
:func:`current_user` and builds the navigation from its role. Nothing here keeps a password. Built on
:mod:`app.session` (the store); the login form itself is the page ``app/pages/login.py``.

A built-in login survives a page reload, a new tab and a server restart: after the password check the store
opens a login (:meth:`UserService.open_session`: a random token, only its SHA-256 stored) and the browser keeps
the token in a first-party cookie (``shinsa_session_<db>``: ``SameSite=Strict``, ``Secure`` on HTTPS, expires with the
login). A new Streamlit session reads it from the request (``st.context.cookies``) and resumes the login if the
store still knows it. Logging out ends the login in the store and clears the cookie. See docs/app.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from scoring.store.errors import AccountLocked, AuthenticationFailed, NotFound

from .i18n import t
from .session import get_store

if TYPE_CHECKING:
    from scoring.store import UserInfo

USER_KEY = "auth_user"
TOKEN_KEY = "auth_token"              # this session's login token (built-in accounts)
COOKIE_ACTION_KEY = "auth_cookie"     # ("set", token) or ("clear",): written into the browser on the next run
RESUME_TRIED_KEY = "auth_resume_tried"
COOKIE = "shinsa_session"            # + "_" + 8 hex digits of the database (see cookie_name)


def cookie_name() -> str:
    """The login cookie's name for this app's database: browsers send a host's cookies to every port, so two
    instances on one host (say a training copy and the real one) must not read or clear each other's login."""
    url = get_store().db.engine.url.render_as_string(hide_password=True)
    return f"{COOKIE}_{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}"


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str            # the store's role: "reviewer" | "chair" | "secretariat" (see app.navigation.ROLE_PAGES)
    reviewer_id: str | None = None


class LoginRefused(Exception):
    """A refused login; ``locked`` when the account is locked after repeated failures."""

    def __init__(self, locked: bool = False, until: str = ""):
        super().__init__("locked" if locked else "refused")
        self.locked = locked
        self.until = until


def _from_info(info) -> User:
    return User(username=info.username, display_name=info.display_name or info.username, role=info.role,
                reviewer_id=info.username if info.role in ("reviewer", "chair") else None)


def authenticate(username: str, password: str) -> User:
    """Check a username and password with the store (bcrypt; lockout after repeated failures).

    Raises :class:`LoginRefused` (one message for unknown user and wrong password: no user enumeration)."""
    if not username or not password:
        raise LoginRefused()
    try:
        info = get_store().users.authenticate(username, password)
    except AccountLocked as exc:
        from scoring.store.times import local_time

        raise LoginRefused(locked=True, until=local_time(exc.until)) from None
    except AuthenticationFailed:
        raise LoginRefused() from None
    return _from_info(info)


def oidc_configured() -> bool:
    """True when ``secrets.toml`` has an ``[auth]`` section (then ``st.login`` is used)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_user() -> User | None:
    """The store account linked to the OIDC identity of this browser session, if any."""
    try:
        if not st.user.is_logged_in:
            return None
        subject = st.user.get("sub") or st.user.get("email")
    except Exception:
        return None
    if not subject:
        return None
    info = get_store().users.by_external_id(str(subject))
    return _from_info(info) if info is not None else None


def _cookie_token() -> str | None:
    """The login token the browser sent with this session's request, if any. Without any login cookie at all
    (a first visit) the store is not asked for the cookie's name: the first page needs no store (issue 15)."""
    try:
        cookies = st.context.cookies
        if not any(name.startswith(COOKIE + "_") for name in cookies):
            return None
        token = cookies.get(cookie_name())
    except Exception:  # no request context (bare script runs)
        return None
    return token or None


def _resumed_user() -> User | None:
    """The user of the login cookie, once per session (a logged-out session never resumes from a stale cookie)."""
    if st.session_state.get(RESUME_TRIED_KEY):
        return None
    st.session_state[RESUME_TRIED_KEY] = True
    token = _cookie_token()
    if token is None:
        return None
    info = get_store().users.resume_session(token)
    if info is None:
        st.session_state[COOKIE_ACTION_KEY] = ("clear",)   # expired or ended: drop the dead cookie
        return None
    st.session_state[TOKEN_KEY] = token
    return _from_info(info)


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    if isinstance(user, User):
        return user
    if oidc_configured():
        user = _oidc_user()
        if user is not None:
            log_in(user)
            return user
        return None
    user = _resumed_user()
    if user is not None:
        log_in(user)
    return user


def log_in(user: User) -> None:
    st.session_state[USER_KEY] = user


def remember(user) -> None:
    """Open a store login for ``user`` (a :class:`User` or the store's UserInfo: anything with a ``username``)
    after the password check, and have the browser keep its token."""
    token = get_store().users.open_session(user.username)
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_ACTION_KEY] = ("set", token)


def write_cookie() -> None:
    """Carry out a pending cookie change in the browser (an invisible script element, emitted once). The token
    is URL-safe base64 from :func:`secrets.token_urlsafe`, so it needs no escaping inside the script."""
    action = st.session_state.pop(COOKIE_ACTION_KEY, None)
    if not action:
        return
    if action[0] == "set":
        from scoring.store.times import session_hours

        token = action[1]
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,200}", token):   # never anything that could leave the string
            return
        value, max_age = token, int(session_hours() * 3600)
    else:
        value, max_age = "", 0
    st.html(f"""<script>document.cookie = "{cookie_name()}={value}; Path=/; Max-Age={max_age}; SameSite=Strict"
        + (location.protocol === "https:" ? "; Secure" : "");</script>""", unsafe_allow_javascript=True)


def log_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        get_store().users.end_session(token)
        st.session_state[COOKIE_ACTION_KEY] = ("clear",)
    st.session_state.pop(USER_KEY, None)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("rv_", "chair_", "adm_"))]:
        del st.session_state[key]
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:
            pass


def actor() -> UserInfo | None:
    """The logged-in user as the store knows them now (re-read: a deactivated user is logged out at once)."""
    user = current_user()
    if user is None:
        return None
    try:
        info = get_store().users.get(user.username)
    except NotFound:
        return None
    return info if info.active else None


def require(*roles: str) -> UserInfo:
    """The acting user if their role is one of ``roles``; otherwise a message and the page stops.

    Navigation already hides pages a role may not see; this is the second lock on the door."""
    me = actor()
    if me is None or me.role not in roles:
        st.error(t("app.err.permission"), icon=":material/block:")
        st.stop()
    return me
