"""The file adapter: files and uploads (bytes) ↔ the core — no logic here, only the public names.

- :mod:`scoring.io.sources` — what a reader accepts (a path, bytes, a binary file object; ``name=`` for messages)
- :mod:`scoring.io.tables` — proposals JSON, reviewers CSV, reviews CSV read into validated models and tables
- :mod:`scoring.io.packs` — pack YAML files: ``read_pack_file``, ``load_pack`` (cached), ``pack_path``
- :mod:`scoring.io.call` — ``load_call``: a call from files, every problem of every file at once
- :mod:`scoring.io.safe` — formula-safe text, CSV bytes, whole-file writes

The review table's checks against a pack are the core's (:mod:`scoring.reviews`); they are re-exported here
for importers of the old ``scoring.io``.
"""

from ..reviews import REVIEW_COLUMNS, REVIEWER_COLUMNS, build_review_table, reviews_from_rows, split_by_pack
from .safe import FORMULA_PREFIXES, csv_bytes, safe_text, unguard_text, write_atomic
from .sources import Source
from .tables import (parse_proposals, parse_reviewers, read_csv_table, read_json, read_proposals,
                     read_proposals_raw, read_reviewers, read_reviews)

__all__ = ["REVIEW_COLUMNS", "REVIEWER_COLUMNS", "build_review_table", "reviews_from_rows", "split_by_pack",
           "FORMULA_PREFIXES", "csv_bytes", "safe_text", "unguard_text", "write_atomic", "Source",
           "parse_proposals", "parse_reviewers", "read_csv_table", "read_json", "read_proposals",
           "read_proposals_raw", "read_reviewers", "read_reviews"]
