"""Problems of an input (:class:`scoring.errors.InputError`) as a user reads them (issue 14 item 7).

Every problem, in the user's language, as plain text: the file by the name the user gave it (never the
server's temporary folder), the row and the field, then what is wrong — from the catalog (``problem.<code>``,
app/messages/problems.yaml) when the core gave the problem a code, else the core's English message. Shown with
``st.text``, so nothing in a file name or a value is read as Markdown (``:id:`` stays ``:id:``, not an emoji).
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Iterable, Mapping

import streamlit as st

from scoring.errors import InputError, Problem

from .i18n import catalog, has, t

# field names the core uses for a whole file / row / header: said in words, not as "(file)"
_PLACEHOLDER_FIELDS = ("(file)", "(root)", "(row)", "(header)", "(csv)", "(json)", "(more)")


def file_label(file: str, names: Mapping[str, str] | None = None) -> str:
    """The file as the user knows it: the uploaded name for a path the app wrote, else the last path part."""
    if names and file in names:
        return names[file]
    if file.startswith("(") and file.endswith(")"):       # "(proposals)", "(password)": no file at all
        return ""
    return PurePath(file).name or file


def row_label(row: str | None, lang: str | None = None) -> str:
    if row is None or row == "":
        return ""
    if row.isdigit():
        return t("problem.where.line", lang, n=row)                # a CSV line (header = 1)
    m = re.fullmatch(r"\[(\d+)\]", row)
    if m:
        return t("problem.where.item", lang, n=int(m.group(1)) + 1)   # a JSON list's element, counted from 1
    m = re.fullmatch(r"line (\d+)", row)
    if m:
        return t("problem.where.line", lang, n=m.group(1))
    return row                                                     # a workbook cell (応募!B3) as it is


# a wrong choice's field (its last name) → the vocabulary of its closed set, where several would fit
_CHOICES = {"kind": "kind", "technologies": "tech", "category": "cost.category"}


def _prefixes_of(value: str) -> set[str]:
    """The catalog prefixes that label ``value`` (``kind`` for ``kind.company``)."""
    end = "." + value
    return {k[: -len(end)] for k in catalog() if k.endswith(end)}


def choice_labels(field: str, expected: str, lang: str | None = None) -> str:
    """The allowed values of a wrong choice (the core's ``'a', 'b' or 'c'``) as labels in the user's language,
    never as raw ids (``local_government``); values no vocabulary labels stay as they are."""
    values = re.findall(r"'([^']*)'", expected)
    if not values:
        return expected
    common = set.intersection(*(_prefixes_of(v) for v in values))
    name = re.sub(r"\[\d+\]$", "", field.rsplit(".", 1)[-1])
    prefix = _CHOICES.get(name) if _CHOICES.get(name) in common else (min(common) if len(common) == 1 else None)
    return t("common.list_sep", lang).join(t(f"{prefix}.{v}", lang) if prefix else v for v in values)


def problem_text(p: Problem, names: Mapping[str, str] | None = None, lang: str | None = None) -> str:
    """One problem as one line of plain text in the current (or given) language."""
    where = [x for x in (file_label(p.file, names), row_label(p.row, lang)) if x]
    if p.field and p.field not in _PLACEHOLDER_FIELDS:
        where.append(t("problem.where.field", lang, field=p.field))
    key = f"problem.{p.code}"
    if p.code and has(key):
        args = dict(p.args)
        if p.code == "value.enum" and "expected" in args:
            args["expected"] = choice_labels(p.field, args["expected"], lang)
        try:
            what = t(key, lang, **args)
        except (KeyError, IndexError, ValueError):   # a value the message does not take: the core's words
            what = p.message
        if p.args.get("subject"):
            what = t("problem.subject", lang, subject=p.args["subject"]) + what
    else:
        what = p.message
    return (t("common.list_sep", lang).join(where) + t("common.label_sep", lang) if where else "") + what


def problem_lines(problems: Iterable[Problem], names: Mapping[str, str] | None = None,
                  lang: str | None = None) -> list[str]:
    return [problem_text(p, names, lang) for p in problems]


def markdown_escaped(text: str) -> str:
    """``text`` for a Markdown message (st.error): Markdown's characters escaped, and a zero-width space
    (U+200B) after a colon that would start a ``:word:`` shortcode (an emoji or an icon)."""
    text = "".join("\\" + c if c in "\\`*_{}[]()#+!<>|~$" else c for c in text)
    return re.sub(r":(?=[\w+-]+:)", ":\u200b", text)


def show_input_error(exc: InputError, names: Mapping[str, str] | None = None, heading: str = "problem.heading") -> None:
    """A heading (message key ``heading``) naming how many problems there are, then every one as plain text."""
    st.error(t(heading, n=len(exc.problems)), icon=":material/error:")
    st.text("\n".join(problem_lines(exc.problems, names)))
