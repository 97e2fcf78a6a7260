"""The answer to the address of a page the user's role does not have (e.g. a reviewer opening /ranking):
which page it is and that it is not available to this role, in the user's language — not Streamlit's English
"Page not found". The page itself stays unreachable (app/navigation.py registers this script under its address).
"""

import streamlit as st

from app.auth import current_user
from app.i18n import t, t_or
from app.navigation import elsewhere_title
from app.ui import error_boundary


def render() -> None:
    user = current_user()
    role = t_or(f"auth.role.{user.role}", user.role) if user is not None else ""
    st.title(t("nav.unavailable.title"))
    st.warning(t("nav.unavailable.body", page=elsewhere_title() or "—", role=role), icon=":material/block:")
    st.caption(t("nav.unavailable.hint"))


with error_boundary("not_available"):
    render()
