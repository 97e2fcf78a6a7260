"""Organisation names compared as a committee means them (conflicts of interest by organisation).

Two spellings of one organisation — 「株式会社　テスト7」 with a full-width space, 「㈱テスト8」, 「株式会社テスト９」 with a
full-width digit, 「(株)テスト」 — must match. :func:`organisation_key` reduces a name to a comparison key:

1. Unicode NFKC (full-width letters, digits and spaces become ASCII; ㈱ becomes (株); half-width kana full-width);
2. every whitespace character removed, letters case-folded;
3. the legal form removed wherever it stands (before or after the name): 株式会社 / (株), 有限会社 / (有), 合同会社 /
   (同), 合資会社 / (資), 合名会社 / (名), 一般社団法人 / (一社), 一般財団法人 / (一財), 公益社団法人 / (公社),
   公益財団法人 / (公財), 特定非営利活動法人 / NPO法人 / (特非), 学校法人 / (学), 国立大学法人, 公立大学法人,
   医療法人 / (医), 社会福祉法人 / (福), 独立行政法人 / (独), 国立研究開発法人, and in Latin script "co., ltd.",
   "co.,ltd.", "inc.", "corp.", "corporation", "k.k.", "ltd.", "llc";
4. the middle dot and the long-vowel/hyphen variants (・ ･ ー ‐ - ‑ – —) kept as one hyphen.

A name that is only a legal form keeps its text (never an empty key that would match everything).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LEGAL_FORMS_JA = ("特定非営利活動法人", "国立研究開発法人", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
                  "国立大学法人", "公立大学法人", "独立行政法人", "社会福祉法人", "株式会社", "有限会社", "合同会社",
                  "合資会社", "合名会社", "学校法人", "医療法人", "npo法人")
LEGAL_ABBREVIATIONS = ("(株)", "(有)", "(同)", "(資)", "(名)", "(一社)", "(一財)", "(公社)", "(公財)", "(特非)",
                       "(学)", "(医)", "(福)", "(独)")
LEGAL_FORMS_LATIN = ("co.,ltd.", "co.,ltd", "co.ltd.", "corporation", "corp.", "inc.", "k.k.", "ltd.", "llc")
_DASHES = re.compile(r"[‐‑–—―−ー･・\-]+")
_FORMS = re.compile("|".join(re.escape(f) for f in sorted(LEGAL_FORMS_JA + LEGAL_ABBREVIATIONS + LEGAL_FORMS_LATIN,
                                                          key=len, reverse=True)))


@lru_cache(maxsize=65536)
def organisation_key(name: str) -> str:
    """The comparison key of an organisation's name (see the module's rule)."""
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(text.split()).casefold()
    text = _DASHES.sub("-", text)
    stripped = _FORMS.sub("", text).strip(",.-")
    return stripped or text


def same_organisation(a: str, b: str) -> bool:
    return organisation_key(a) == organisation_key(b)
