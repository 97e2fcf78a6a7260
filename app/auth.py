"""Who is logged in: built-in accounts through the store (bcrypt, lockout), or ``st.login`` when an OIDC
provider is configured in ``.streamlit/secrets.toml`` (``[auth]``); then accounts are matched by identity
(the OIDC subject is the user's ``external_id`` in the store).

Pages ask :func:`current_user`; navigation is built from its role. Nothing here keeps a password.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from .i18n import t

USER_KEY = "auth_user"


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
    from scoring.store import AccountLocked, AuthenticationFailed

    from .backend import get_store

    if not username or not password:
        raise LoginRefused()
    try:
        info = get_store().users.authenticate(username, password)
    except AccountLocked as exc:
        from scoring.store.services import local_time

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
    from .backend import get_store

    info = get_store().users.by_external_id(str(subject))
    return _from_info(info) if info is not None else None


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


def log_in(user: User) -> None:
    st.session_state[USER_KEY] = user


def log_out() -> None:
    st.session_state.pop(USER_KEY, None)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("rv_", "chair_", "adm_"))]:
        del st.session_state[key]
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:
            pass


def login_page() -> None:
    """The login form. A refused login says only that the name or password is wrong (or that the account is
    locked for a while); in demo mode the demo accounts are listed."""
    from .settings import demo_mode

    st.title(t("login.title"))
    if oidc_configured():
        st.button(t("auth.oidc_login"), key="login_oidc", on_click=st.login, icon=":material/login:")
        try:
            if st.user.is_logged_in and current_user() is None:
                st.error(t("auth.oidc_unknown"))
        except Exception:
            pass
    else:
        with st.form("login_form"):
            username = st.text_input(t("login.username"), key="login_username")
            password = st.text_input(t("login.password"), type="password", key="login_password")
            submitted = st.form_submit_button(t("login.submit"))
        if submitted:
            try:
                user = authenticate(username.strip(), password)
            except LoginRefused as exc:
                st.error(t("auth.locked_until", until=exc.until) if exc.locked else t("login.failed"))
            else:
                log_in(user)
                st.rerun()
    if demo_mode():
        from .demo import DEMO_ACCOUNTS, DEMO_PASSWORD

        st.info(t("auth.demo_accounts", password=DEMO_PASSWORD) + "\n\n" + "\n".join(
            f"- `{a.username}` — {t('auth.role.' + a.role)}（{a.name}）" for a in DEMO_ACCOUNTS),
            icon=":material/science:")
    st.caption(t("login.self_check_hint"))
