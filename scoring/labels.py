"""The one bilingual vocabulary (ja / en) of the core: decisions, statuses, reasons, workbook headers, analytics
readings and the labels of every closed set.

Files: ``scoring/vocabulary/*.yaml``, one per area, each mapping a key to ``{ja: …, en: …}`` (placeholders in
``{braces}`` identical in both). The app's message catalog (``app.i18n``) includes these files, so a page, a
workbook and a reason all say the same word. The vocabulary is package data shipped with the code, never a user's
file.
"""

from __future__ import annotations

import string
from enum import Enum
from functools import lru_cache
from importlib import resources

import yaml

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"


class VocabularyError(ValueError):
    """The shipped vocabulary is malformed (a developer's mistake, caught by the tests)."""


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# libyaml's safe loader when PyYAML has it (the same documents, ~10× faster: the message catalog is read on the
# first page after a server start, issue 15), else the pure-Python one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def vocabulary_files() -> list:
    folder = resources.files("scoring") / "vocabulary"
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def read_entries(paths) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Entries of bilingual YAML files (``key: {ja, en}``) and every problem found: a key in two files, a missing
    or empty language, an unexpected key (e.g. an unquoted comma split a flow mapping), placeholders that differ
    between ja and en. Shared by the core's vocabulary and the app's message catalog."""
    out: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        if not isinstance(data, dict):
            raise VocabularyError(f"{path.name}: must be a mapping of key → {{ja, en}}")
        for key, entry in data.items():
            key = str(key)
            if key in out:
                problems.append(f"{path.name}: {key}: also defined in {where[key]}")
                continue
            if not isinstance(entry, dict) or any(not isinstance(entry.get(lg), str) or not entry.get(lg)
                                                  for lg in LANGS):
                problems.append(f"{path.name}: {key}: needs non-empty ja and en texts")
                continue
            if set(entry) != set(LANGS):
                problems.append(f"{path.name}: {key}: unexpected keys {sorted(map(str, set(entry) - set(LANGS)))}"
                                " (quote texts that contain a comma)")
            if _fields(entry["ja"]) != _fields(entry["en"]):
                problems.append(f"{path.name}: {key}: placeholders differ between ja and en")
            out[key] = {lg: entry[lg] for lg in LANGS}
            where[key] = path.name
    return out, problems


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, str]]:
    """Every entry, validated (:func:`read_entries`); any problem is a developer's mistake and raises."""
    out, problems = read_entries(vocabulary_files())
    if problems:
        raise VocabularyError("; ".join(problems))
    return out


def has(key: str) -> bool:
    return key in vocabulary()


def label(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The entry ``key`` in ``lang`` (``ja`` unless ``en``), formatted with ``fmt``; KeyError if unknown."""
    entry = vocabulary()[key]
    text = entry["en" if lang == "en" else "ja"]
    return text.format(**fmt) if fmt else text


def label_of(prefix: str, value: str | Enum, lang: str = DEFAULT_LANG) -> str:
    """The label of a closed-set value, e.g. ``label_of("decision", Decision.selected, "en")``."""
    v = value.value if isinstance(value, Enum) else value
    return label(f"{prefix}.{v}", lang)


def both(key: str) -> tuple[str, str]:
    """``(ja, en)`` of an entry."""
    entry = vocabulary()[key]
    return entry["ja"], entry["en"]
