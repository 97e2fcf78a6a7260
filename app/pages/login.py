"""ログイン — the login form (anonymous visitors only).

Reads like the page: the title; with an organisation login (OIDC) one button, else the name and password form;
on a fresh installation how to create the first chair; in demo mode the demo accounts; a pointer to the
self-check. A refused login says only that the name or password is wrong (or that the account is locked for a
while). The checks themselves are :mod:`app.auth`'s.
"""

import streamlit as st

from app.auth import LoginRefused, authenticate, current_user, log_in, oidc_configured, remember
from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_ready, wait_demo
from app.i18n import t
from app.navigation import elsewhere_title
from app.session import get_store, store_ready
from app.settings import demo_mode
from app.ui import error_boundary


def ready() -> bool:
    """Whether what this page reads is there: the store open (and in demo mode the demo data seeded). Right after
    a server start both are still being prepared in the background (review_app.py)."""
    return store_ready() and (not demo_mode() or demo_ready())


@st.fragment(run_every=0.5)
def until_ready() -> None:
    """While the store opens (and the demo data are seeded) after a server start: the page is drawn at once, with
    a note in demo mode, and drawn again when they are ready."""
    if ready():
        st.rerun(scope="app")
    if demo_mode():
        st.info(t("login.demo_preparing"), icon=":material/hourglass_top:")


def oidc_login() -> None:
    st.button(t("auth.oidc_login"), key="login_oidc", on_click=st.login, icon=":material/login:")
    try:
        if st.user.is_logged_in and current_user() is None:
            st.error(t("auth.oidc_unknown"))
    except Exception:
        pass


def password_login() -> None:
    with st.form("login_form"):
        username = st.text_input(t("login.username"), key="login_username")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"))
    if submitted:
        if demo_mode():
            wait_demo()         # a login right after a server start: the demo accounts are being created
        try:
            user = authenticate(username.strip(), password)
        except LoginRefused as exc:
            st.error(t("auth.locked_until", until=exc.until) if exc.locked else t("login.failed"))
        else:
            log_in(user)
            remember(user)
            st.rerun()


def render() -> None:
    st.title(t("login.title"))
    wanted = elsewhere_title()       # the address of a page that needs a login (a link from an e-mail, say)
    if wanted:
        st.info(t("nav.login_first", page=wanted), icon=":material/login:")
    if oidc_configured():
        oidc_login()
    else:
        password_login()
    if not ready():
        until_ready()
    elif not demo_mode() and not oidc_configured():
        if not get_store().users.has_accounts():     # a fresh installation: say how to create the first chair
            st.info(t("login.first_chair"), icon=":material/person_add:")
    if demo_mode():
        st.info(t("auth.demo_accounts", password=DEMO_PASSWORD) + "\n\n" + "\n".join(
            f"- `{a.username}` — {t('auth.role.' + a.role)}（{a.name}）" for a in DEMO_ACCOUNTS),
            icon=":material/science:")
    st.caption(t("login.self_check_hint"))


with error_boundary("login"):
    render()
