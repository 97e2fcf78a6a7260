"""The charts' Plotly theme: Japanese-capable fonts, registered as Plotly's default template on import.

Imported by the modules that build figures (:mod:`app.charts`, :mod:`app.ranking_view`), not by the shell: Plotly
is loaded by the first page that draws a chart, not by the login page (issue 15).
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

FONT_FAMILY = "Noto Sans CJK JP, Hiragino Sans, Meiryo, sans-serif"
TEMPLATE_NAME = "shinsa"

# merged with plotly_white once here: a default named "a+b" is merged again for every figure (~17 ms each)
pio.templates[TEMPLATE_NAME] = pio.templates.merge_templates("plotly_white", go.layout.Template(layout=go.Layout(
    font=dict(family=FONT_FAMILY, size=13),
    title=dict(font=dict(family=FONT_FAMILY)),
    hoverlabel=dict(font=dict(family=FONT_FAMILY)),
    legend=dict(font=dict(family=FONT_FAMILY)),
)))
pio.templates.default = TEMPLATE_NAME
