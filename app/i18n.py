"""One message catalog for the whole app: ``app/messages/*.yaml``, one file per area.

Each file maps a key (e.g. ``dry_run.title``) to ``{ja: …, en: …}``. Japanese is the default language; the
sidebar switch keeps the choice in ``st.session_state["lang"]``. A missing key is an error under tests
(``PYTEST_CURRENT_TEST`` or ``SHINSA_I18N_STRICT=1``) and shows the key itself, logged once, in production.
"""

from __future__ import annotations

import datetime
import logging
import os
from functools import lru_cache
from pathlib import Path

import streamlit as st

from scoring.labels import VocabularyError, read_entries, vocabulary_files  # the core vocabulary joins the catalog

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
LANG_KEY = "lang"

log = logging.getLogger(__name__)


class CatalogError(ValueError):
    """The message catalog is malformed (bad file, duplicate key, missing language)."""


class MissingMessage(KeyError):
    """A key that is not in the catalog (raised in strict mode)."""


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """Every message, validated: both languages present, same placeholders, no key in two files."""
    try:
        out, problems = read_entries([*sorted(MESSAGES_DIR.glob("*.yaml")), *vocabulary_files()])
    except VocabularyError as exc:
        raise CatalogError(str(exc)) from None
    if problems:
        if strict():
            raise CatalogError("; ".join(problems))
        log.error("message catalog problems: %s", "; ".join(problems))  # the app still starts
    return out


def strict() -> bool:
    return os.environ.get("SHINSA_I18N_STRICT") == "1" or "PYTEST_CURRENT_TEST" in os.environ


def current_lang() -> str:
    try:
        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # outside a Streamlit run (CLI, unit tests)
        lang = DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


_warned: set[str] = set()


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The message ``key`` in the current (or given) language, formatted with ``fmt``."""
    entry = catalog().get(key)
    if entry is None:
        if strict():
            raise MissingMessage(key)
        if key not in _warned:
            _warned.add(key)
            log.warning("missing message key %s", key)
        return key
    text = entry[lang or current_lang()]
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    return key in catalog()


def t_or(key: str, default: str, lang: str | None = None, **fmt: object) -> str:
    """Like :func:`t` for keys that may legitimately be absent (e.g. a fact of a committee's own pack)."""
    return t(key, lang, **fmt) if has(key) else default


def _plain(value) -> bool:
    """A widget value the app may assign back to its key (never a button's bool, an upload or an editor's
    state): strings, numbers, dates and flat tuples/lists of them."""
    simple = (str, int, float, datetime.date, datetime.time)
    if isinstance(value, bool):
        return False
    if isinstance(value, simple):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0   # [] may be an empty multi-file upload: nothing
            and all(isinstance(v, simple) and not isinstance(v, bool) for v in value))   # to relabel anyway


def relabel_widgets() -> None:
    """``on_change`` of the language switch. The browser keeps a choice widget's value as its *label*
    ("4 優れている"); after a switch that label matches no option of the new language, and Streamlit would
    show nothing chosen and then fall back to the default on the next run — a reviewer's level or a chair's
    what-if choice silently lost. Assigning every such value back to its key makes Streamlit send the value
    again, labelled in the new language."""
    ss = st.session_state
    for key in list(ss.keys()):
        if key == LANG_KEY or not isinstance(key, str):
            continue
        try:
            value = ss[key]
            if _plain(value):
                ss[key] = value
        except Exception:  # a key Streamlit does not let the app set: leave it as it is
            continue
