"""アカウント — the logged-in user's own account: change the password (built-in accounts).

Reads like the page: who I am and my role; the current password, the new one twice; 変更. A new password ends
every other login of the account (other browsers must log in again) and keeps this one. With an organisation
login (OIDC) there is no password here.
"""

from __future__ import annotations

import streamlit as st

from app.auth import oidc_configured, remember, require
from app.i18n import t
from app.session import error_text, get_store
from app.ui import error_boundary
from scoring.errors import InputError
from scoring.store import AccountLocked, AuthenticationFailed, StoreError


def change_password(me) -> None:
    with st.form("account_password_form", clear_on_submit=True):
        current = st.text_input(t("account.current"), type="password", key="account_current")
        new = st.text_input(t("account.new"), type="password", key="account_new", help=t("account.rules"))
        again = st.text_input(t("account.again"), type="password", key="account_again")
        submitted = st.form_submit_button(t("account.submit"), type="primary")
    if not submitted:
        return
    if new != again:
        st.error(t("account.mismatch"))
        return
    store = get_store()
    try:
        store.users.authenticate(me.username, current)       # the current password first (lockout applies)
    except AuthenticationFailed as exc:
        st.error(error_text(exc) if isinstance(exc, AccountLocked) else t("account.wrong_current"))
        return
    try:
        store.users.set_password(me, me.username, new)       # ends every login of the account …
    except (InputError, StoreError) as exc:
        st.error(error_text(exc))                            # the rule refused (AccountRefused) in ja/en
        return
    remember(me)                                              # … and this browser gets a new one
    st.success(t("account.changed"), icon=":material/check_circle:")


def render() -> None:
    me = require("reviewer", "chair", "secretariat")
    st.title(t("account.title"))
    st.markdown(f"**{me.display_name or me.username}**（`{me.username}`）　" + t(f"auth.role.{me.role}"))
    st.subheader(t("account.password"))
    if oidc_configured():
        st.info(t("account.oidc"))
        return
    change_password(me)


with error_boundary("account"):
    render()
