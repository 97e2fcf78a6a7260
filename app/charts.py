"""Figures the pages draw (Plotly, in the app's theme from :mod:`app.chart_theme`), built from the core's results
so a page only places them."""

from __future__ import annotations

import numpy as np

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go

from . import chart_theme  # noqa: F401  (registers the charts' theme)
from .i18n import t


def numbered_labels(labels: Sequence[str], width: int) -> list[str]:
    """``1. label``, ``2. …``: each label cut to ``width`` characters (the last one ``…``) for a narrow column
    or a chart's spoke."""
    return [f"{k}. " + (x if len(x) <= width else x[:width - 1] + "…") for k, x in enumerate(labels, start=1)]


def radar(result: dict, pack, lang: str) -> go.Figure:
    """One proposal's criterion mean ratios (0–1) as a closed radar, a spoke per criterion of ``pack``."""
    labels = [c.label.get(lang) for c in pack.criteria]
    short = numbered_labels(labels, width=8)
    values = [result["criteria_ratio"].get(c.id) or 0.0 for c in pack.criteria]
    fig = go.Figure(go.Scatterpolar(r=values + values[:1], theta=short + short[:1], fill="toself",
                                    name=result["proposal_id"], customdata=labels + labels[:1],
                                    hovertemplate="%{customdata}<br>%{r:.2f}<extra></extra>",
                                    line=dict(color="#1565c0")))
    # a few ring labels along one spoke, away from the first criterion's label (six crowded the centre)
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 1], tickvals=[0.5, 1.0], ticktext=["0.5", "1.0"],
                                                 angle=90, tickangle=90, tickfont=dict(size=10)),
                                 angularaxis=dict(rotation=90, direction="clockwise")),
                      showlegend=False, height=420, margin=dict(l=125, r=125, t=50, b=40),
                      title=t("chair.detail.radar"))
    return fig


def radar_table(result: dict, pack, lang: str) -> pd.DataFrame:
    """The radar's figures as a table, its text alternative (issue 19): a row per spoke, numbered as on the
    chart, with the full criterion label and the mean ratio (2 decimals; "—" where no review counts)."""
    ratios = [result["criteria_ratio"].get(c.id) for c in pack.criteria]
    return pd.DataFrame({t("a11y.radar.no", lang): [str(k) for k in range(1, len(ratios) + 1)],
                         t("a11y.radar.criterion", lang): [c.label.get(lang) for c in pack.criteria],
                         t("a11y.radar.ratio", lang): ["—" if r is None else f"{r:.2f}" for r in ratios]})


def yen_ticks(top: float, n: int = 5) -> list[int]:
    """About ``n`` round tick values from 0 to at least ``top`` yen (steps of 1, 2 or 5 × 10^k)."""
    if top <= 0:
        return [0]
    raw = top / n
    power = 10 ** int(np.floor(np.log10(raw)))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [int(step * k) for k in range(int(np.ceil(top / step)) + 1)]
