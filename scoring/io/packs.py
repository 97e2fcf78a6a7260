"""Criteria pack files: YAML → dict (step one) and the cached ``load_pack`` of a path, bytes or a shipped id.

Step two — dict → :class:`~scoring.packs.CriteriaPack`, every problem at once — is the core's
:func:`scoring.packs.validate_pack`. A pack is given as a shipped pack id (``autonomous_l4``), a path
(``str``/:class:`~pathlib.Path`; a ``str`` ending in ``.yaml``/``.yml`` or naming an existing file is a path),
or its content (bytes or a binary file object, with ``name=`` for messages — :mod:`scoring.io.sources`).
Shipped packs are named in messages relative to the project (``criteria/autonomous_l4.yaml``).

Every pack is read by the bounded safe loader of :mod:`scoring.io.bounded` (at most 512 KiB, 100 aliases,
50,000 values with aliases expanded, 32 levels of nesting, integers of at most 1,000 digits): a "billion laughs"
file is refused at once, naming its line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import PackError, Problem, quote
from ..packs import CriteriaPack, validate_pack
from . import bounded
from .sources import Source, is_path, read_text, source_name

CRITERIA_DIR = Path(__file__).resolve().parents[2] / "criteria"


def read_pack_file(source: Source, *, name: str | None = None) -> dict:
    """Step one: YAML → dict. Refuses unreadable files and YAML errors with the file named."""
    shown = source_name(source, name, "(pack)")
    text = read_text(source, shown, failure="cannot read", error=PackError, limit=bounded.LIMITS.pack_bytes)
    try:
        data = bounded.load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        what = "refused" if isinstance(exc, bounded.LimitExceeded) else "not valid YAML"
        raise PackError([Problem(shown, None, where, f"{what}: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise PackError([Problem(shown, None, "(root)", "a pack must be a mapping")])
    return data


def pack_path(pack: str | Path) -> Path:
    """The file of a pack given as a path or a shipped pack id (which need not exist)."""
    p = Path(pack)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return CRITERIA_DIR / f"{pack}.yaml"


def load_pack(pack: Source, *, name: str | None = None) -> CriteriaPack:
    """Read and validate a pack given a shipped pack id, a path or its content; a file is read once per change."""
    if not is_path(pack):  # content: nothing to cache by
        shown = source_name(pack, name, "(pack)")
        return validate_pack(read_pack_file(pack, name=shown), source=shown)
    path = pack_path(pack)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CRITERIA_DIR.glob("*.yaml")))
        raise PackError([Problem(str(pack), None, "pack", f"unknown pack {quote(str(pack))} (shipped packs: {known})")])
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns, name or shown_path(path))


@lru_cache(maxsize=64)
def _load_cached(resolved: str, mtime: int, shown: str) -> CriteriaPack:
    # keyed by the modification time too, so that an edited pack file is read again
    return validate_pack(read_pack_file(Path(resolved), name=shown), source=shown)


def shown_path(path: Path) -> str:
    """How a pack file is named in messages: relative to the project for shipped packs."""
    try:
        return str(path.resolve().relative_to(CRITERIA_DIR.parent))
    except ValueError:
        return str(path)


__all__ = ["CRITERIA_DIR", "read_pack_file", "pack_path", "load_pack", "shown_path"]
