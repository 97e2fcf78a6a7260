"""Shinsa (審査) — the pure scoring core: packs, models, eligibility, aggregation, bonus, selection.

Adapters (command line, store, Excel, app) call :func:`scoring.call.load_call` / :func:`scoring.selection.rank`;
nothing here imports Streamlit or a database.
"""

__version__ = "0.1.0"
