"""ログイン — the login form (anonymous visitors only)."""

from app.auth import login_page
from app.ui import error_boundary

with error_boundary("login"):
    login_page()
