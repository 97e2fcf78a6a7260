"""Shinsa (審査) — the browser app. Run: ``streamlit run review_app.py`` (add ``-- --demo`` for the demo round).

The shell only sets the page up, offers the language switch and builds the navigation for the current
user's role (:mod:`app.navigation`); every page lives in ``app/pages/``.
"""

import streamlit as st

from app.startup import freeze_server_heap, skip_direct_run_check  # noqa: E402

freeze_server_heap()      # before the app's imports: no full collection over the server's heap in the first run
skip_direct_run_check()   # before the first element: a check that costs ~130 ms of the first page (issue 15)
st.set_page_config(page_title="Shinsa 審査", page_icon=":material/balance:", layout="wide")

from app import ui  # noqa: E402
from app.auth import current_user, log_out, write_cookie  # noqa: E402
from app.demo import ensure_demo  # noqa: E402
from app.i18n import LANG_KEY, LANGS, current_lang, t  # noqa: E402
from app.language import language_changed, settle_language, write_language_cookie  # noqa: E402
from app.navigation import build_navigation  # noqa: E402
from app.session import warm_up  # noqa: E402
from app.settings import demo_mode  # noqa: E402

LANG_NAMES = {"ja": "日本語", "en": "English"}

user = current_user()
settle_language(user)    # the user's, the browser's or the session's choice (app/language.py)
with st.sidebar:
    st.radio(t("common.language"), LANGS, key=LANG_KEY, format_func=LANG_NAMES.get, horizontal=True,
             on_change=language_changed)
    write_language_cookie()
    if demo_mode():
        st.warning(t("common.demo_banner"), icon=":material/science:")
    if user is not None:
        st.caption(t("common.logged_in_as", name=user.display_name))
        if st.button(t("common.logout"), key="logout"):
            log_out()
            st.rerun()
    write_cookie()   # the login cookie: set after a login, cleared after a logout (once, invisible)
    ui.page_setup(current_lang())   # <html lang> = the interface language; a clear focus outline (issue 19)

try:
    build_navigation(user.role if user else None).run()
finally:
    # after the page, not before it: the first page after a server start is drawn without waiting for the store
    # to open or the demo data to be seeded; both go on in the background (issue 15, docs/app.md "Page speed")
    if demo_mode():  # issue 4: the demo round and accounts, on an empty database only
        ensure_demo()
    warm_up()
