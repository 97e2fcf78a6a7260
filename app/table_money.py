"""Money in a table's number column (issue 14): 万円 in Japanese, yen in English, kept sortable.

Apart from :mod:`app.ui` so that the pages without a table (the login page first of all) do not import pandas
(issue 15, docs/app.md "Page speed")."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import english

MAN_YEN = 10_000


def table_money(values, lang: str | None = None) -> pd.api.extensions.ExtensionArray:
    """Amounts for a number column of a table, kept sortable: 万円 in Japanese (``148000000`` → ``14800.0``;
    exact — 12,345,678 yen is 1,234.5678 万円, and yen below 2**53 divide without a rounding error that shows),
    yen in English. Missing stays missing. Say the unit in the column's label (「交付額（万円）」, "Funded (yen)")
    and format it with :func:`money_column`."""
    amounts = pd.array(values, dtype="Int64")
    if english(lang):
        return amounts
    return amounts.astype("Float64") / MAN_YEN


def money_column(lang: str | None = None, **kwargs) -> "st.column_config.NumberColumn":
    """The column of :func:`table_money`: thousands separators, 万円 with only the decimals an amount has
    (``%,f``: 14,800 · 1,234.5678), whole yen in English (``%,d``: 148,000,000) — the same in every browser
    (``localized`` followed the browser's locale)."""
    return st.column_config.NumberColumn(format="%,d" if english(lang) else "%,f", **kwargs)
