"""Bounded readers: JSON and YAML parsed within limits of size, depth, count and number length, and the one zip
reader every archive a user hands us goes through.

Every file a user uploads or imports (proposals JSON, reviewers/reviews CSV, pack YAML) is read within
:data:`LIMITS` (see ``docs/security/text-inputs.md``); beyond them the reader refuses with an
:class:`~scoring.errors.InputError` naming the file and, where it can, the line, row and field — in time and
memory bounded by the limits, never by what the file would expand to.

- JSON (:func:`load_json`): the file size; ``[``/``{`` counted before parsing (an upper bound on the arrays and
  objects it makes); the stdlib parser's own recursion limit caught (a 200 KB ``[[[…]]]``); then one walk over
  the parsed data that refuses nesting deeper than ``json_depth``, texts longer than ``string_chars`` and numbers
  no field can hold (more than ``number_digits`` digits, beyond the float range, ``NaN``/``Infinity``), each
  named by its row and field path.
- YAML (:func:`load_yaml`): the file size, then a safe loader that counts while composing — nodes as expanded
  (an alias counts the nodes it repeats, so a 1 KB "billion laughs" stops after ``yaml_nodes``), aliases,
  nesting depth — and refuses an alias inside the node it names (a cycle) and integers of more than
  ``number_digits`` digits.
- zip (:func:`open_zip`, :class:`BoundedZip`): the one reader of the zip archives users hand us — a notice template
  (.docx, :mod:`scoring.io.docx_guard`), a workbook (.xlsx, :mod:`scoring.io.xlsx_guard`) and a batch of proposal
  documents (:mod:`scoring.io.documents`). Each caller gives its limits (:class:`ZipLimits`) and its words
  (:class:`ZipWording`); the reader checks, in this order and before anything is inflated, the archive's size, its
  central directory's size (read from the end record before :mod:`zipfile` parses the directory), that it is a
  zip, the number of entries; then per entry (:meth:`BoundedZip.check`) the compression method (stored or
  deflated), the declared uncompressed size, the expansion ratio above a floor (a "zip bomb") and the running
  total. An entry is read only through :meth:`BoundedZip.chunks` / :meth:`BoundedZip.read`, which never go past
  its declared size (nor does :mod:`zipfile`): an entry that lies about its size is cut short (its CRC then
  fails), never inflated further. Nothing is extracted to disk; an entry's name is only ever used as its base
  name (:func:`entry_name`: ``/`` and ``\\`` both separate, so ``../../x.pdf``, ``/etc/x.pdf`` and
  ``..\\..\\x.pdf`` are all ``x.pdf``). A zip inside a zip is an entry like any other: never opened.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any, Iterator

import yaml

from ..errors import InputError, Problem, quote


def _env_mb(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class TextLimits:
    """The limits of the text readers (defaults below; ``SHINSA_MAX_TEXT_MB`` sets ``file_bytes``)."""

    file_bytes: int = 32 * 2**20      # a proposals JSON, a reviewers or reviews CSV
    pack_bytes: int = 512 * 2**10     # a pack YAML (the shipped ones are 13–22 KB)
    rows: int = 1_000_000             # data rows of a CSV
    proposals: int = 50_000           # proposals of one file
    columns: int = 100                # columns of a CSV
    string_chars: int = 100_000       # one JSON text or CSV cell
    json_depth: int = 32              # arrays/objects nested in one another (a proposal file needs 5)
    json_containers: int = 2_000_000  # arrays and objects of one JSON file
    number_digits: int = 1_000        # digits of one integer (yen need 14; Python refuses beyond 4,300)
    yaml_nodes: int = 50_000          # YAML values, aliases expanded (a shipped pack has ~750)
    yaml_aliases: int = 100           # YAML aliases (*name) of one pack
    yaml_depth: int = 32              # YAML collections nested in one another


LIMITS = TextLimits(file_bytes=_env_mb("SHINSA_MAX_TEXT_MB", 32) * 2**20)
"""The limits in force (tests may replace this module attribute)."""


# --- JSON ----------------------------------------------------------------------------------------------------

class JsonSyntaxError(InputError):
    """Text that is not JSON at all (the one problem names the line)."""


class Unreadable:
    """A number of a JSON file that no field can hold (too many digits, infinite, NaN): kept as its text
    until :func:`load_json` reports it with its row and field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 40 else f"{self.text[:20]}…({len(self.text):,} characters)"


def _parse_int(text: str) -> int | Unreadable:
    return int(text) if len(text.lstrip("-")) <= LIMITS.number_digits else Unreadable(text)


def _parse_float(text: str) -> float | Unreadable:
    value = float(text)
    return value if math.isfinite(value) else Unreadable(text)


_TOKENS = re.compile(r'[\[\]{}"\\]')


def _deep_line(text: str, limit: int) -> int | None:
    """The line where arrays/objects first nest deeper than ``limit`` (for a file the parser gave up on)."""
    depth, in_string, skip = 0, False, -1
    for m in _TOKENS.finditer(text):
        pos, c = m.start(), m.group()
        if pos == skip:
            continue
        if in_string:
            if c == "\\":
                skip = pos + 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, pos) + 1
        elif c in "]}":
            depth -= 1
    return None


def _where(path: tuple, rows_at: tuple) -> tuple[str | None, str]:
    """(row, field) of a path in the data: ``[i]`` for the i-th element of the proposals list."""
    n = len(rows_at)
    if len(path) > n and path[:n] == rows_at and isinstance(path[n], int):
        row, rest = f"[{path[n]}]", path[n + 1:]
    else:
        row, rest = None, path
    field = ""
    for part in rest:
        field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + str(part)
    return row, field or "(root)"


def _walk(data: Any, shown: str, max_problems: int = 100) -> list[Problem]:
    """Depth, text length and unreadable numbers of parsed JSON, each named by row and field path."""
    lim = LIMITS
    rows_at: tuple = ("proposals",) if isinstance(data, dict) and "proposals" in data else ()
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        row, field = _where(path, rows_at)
        problems.append(Problem(shown, row, field, message))

    def check(value: Any, path: tuple) -> None:
        t = type(value)
        if t is str:
            if len(value) > lim.string_chars:
                report(path, f"a text of at most {lim.string_chars:,} characters (got {len(value):,}: "
                             f"{quote(value)})")
        elif t is Unreadable:
            report(path, f"not a number any field can hold (got {quote(value)})")

    if isinstance(data, (dict, list)):
        stack: list[tuple[Any, tuple]] = [(data, ())]
    else:
        check(data, ())
        stack = []
    while stack and len(problems) < max_problems:
        node, path = stack.pop()
        if len(path) >= lim.json_depth:
            report(path, f"nested deeper than {lim.json_depth} levels")
            continue
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            t = type(value)
            if t is dict or t is list:
                stack.append((value, path + (key,)))
            elif t is str or t is Unreadable:
                check(value, path + (key,))
            if type(key) is str and len(key) > lim.string_chars:
                report(path, f"a field name of at most {lim.string_chars:,} characters (got {len(key):,})")
    problems.sort(key=lambda p: (int(p.row[1:-1]) if p.row else -1, p.field))
    return problems


def load_json(text: str, shown: str) -> Any:
    """JSON text → data within :data:`LIMITS`; an :class:`InputError` (naming line, or row and field) else."""
    lim = LIMITS
    containers = text.count("[") + text.count("{")  # an upper bound: brackets inside texts count too
    if containers > lim.json_containers:
        raise InputError([Problem(shown, None, "(json)", f"more than {lim.json_containers:,} arrays and "
                                                          f"objects (found up to {containers:,})")])
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=Unreadable)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError([Problem(shown, f"line {exc.lineno}", "(json)", f"not valid JSON: {exc.msg}",
                                       "json.invalid", {"detail": exc.msg})]) \
            from None
    except RecursionError:
        line = _deep_line(text, lim.json_depth)
        raise InputError([Problem(shown, f"line {line}" if line else None, "(json)",
                                  f"arrays/objects nested deeper than {lim.json_depth} levels")]) from None
    problems = _walk(data, shown)
    if problems:
        raise InputError(problems)
    return data


# --- YAML ----------------------------------------------------------------------------------------------------

class LimitExceeded(yaml.MarkedYAMLError):
    """A YAML file beyond :data:`LIMITS` (the mark gives the line)."""


_INT_DIGITS = re.compile(r"[0-9a-fA-F]")


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (pure Python) counting while it composes: nodes as expanded, aliases, depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.expanded = 0
        self.alias_count = 0
        self.depth = 0
        self.weights: dict[str, int] = {}  # anchor → nodes of its node, aliases expanded

    def _refuse(self, mark, problem: str):
        raise LimitExceeded(problem=problem, problem_mark=mark)

    def _count(self, n: int, mark) -> None:
        self.expanded += n
        if self.expanded > LIMITS.yaml_nodes:
            self._refuse(mark, f"more than {LIMITS.yaml_nodes:,} values (aliases counted as what they repeat)")

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > LIMITS.yaml_aliases:
                self._refuse(event.start_mark, f"more than {LIMITS.yaml_aliases} aliases (*name)")
            if event.anchor in self.anchors and event.anchor not in self.weights:
                self._refuse(event.start_mark, f"alias *{quote(event.anchor)[1:-1]} inside the value it names")
            self._count(self.weights.get(event.anchor, 1), event.start_mark)
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > LIMITS.yaml_depth:
                self._refuse(event.start_mark, f"nested deeper than {LIMITS.yaml_depth} levels")
            before = self.expanded
            self._count(1, event.start_mark)
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.weights[anchor] = self.expanded - before
        return node

    def construct_yaml_int(self, node):
        digits = len(_INT_DIGITS.findall(node.value))
        if digits > LIMITS.number_digits:
            self._refuse(node.start_mark, f"an integer of more than {LIMITS.number_digits} digits "
                                          f"(got {digits:,} digits)")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def load_yaml(text: str) -> Any:
    """YAML text → data within :data:`LIMITS`; raises :class:`yaml.YAMLError` (:class:`LimitExceeded` beyond
    them) with the line in its ``problem_mark``."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


# --- zip ---------------------------------------------------------------------------------------------------------

MiB = 1024 * 1024
ZIP_DIRECTORY_BYTES = 1 * MiB     # a zip's central directory (Excel's and Word's are a few KB)
ZIP_RATIO = 100                   # uncompressed / compressed, for an entry over ZIP_RATIO_FLOOR_BYTES
ZIP_RATIO_FLOOR_BYTES = 1 * MiB   # (small entries of repeated XML compress far better, harmlessly)
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 64 * 1024
_OPEN_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError)
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError)
_EOCD, _EOCD64_LOCATOR, _EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_EOCD_SIZE, _LOCATOR_SIZE, _EOCD64_SIZE = 22, 20, 56


def size_text(n: int) -> str:
    """A size as the refusals give it: ``1,024.0 MB`` from 1 MiB up, else ``12,345 bytes``."""
    return f"{n / MiB:,.1f} MB" if n >= MiB else f"{n:,} bytes"


@dataclass(frozen=True)
class ZipLimits:
    """The bounds of one kind of archive. ``file_bytes`` / ``directory_bytes`` None: not checked."""

    members: int                       # entries in the directory
    member_bytes: int                  # one entry, uncompressed (as declared)
    total_bytes: int                   # the entries checked, uncompressed, together
    ratio: int = ZIP_RATIO             # expansion of one entry over ratio_floor
    ratio_floor: int = ZIP_RATIO_FLOOR_BYTES
    file_bytes: int | None = None      # the archive itself
    directory_bytes: int | None = None  # its central directory, from the end record


@dataclass(frozen=True)
class ZipWording:
    """What a refusal says, in the caller's words (``str.format`` templates; sizes come formatted by
    :func:`size_text`, counts as integers). Fields: ``file_bytes`` {size} {limit}; ``directory`` {size} {limit}
    {n} (entries the end record declares) {members} (the entry limit); ``not_zip`` {type} {error}; ``members``
    {n} {limit}; ``method`` {method}; ``member_bytes`` {size} {limit}; ``ratio`` {ratio} {packed} {size} {limit};
    ``total`` {limit}; ``unreadable`` {type} {error}; ``too_long`` {limit}."""

    not_zip: str
    members: str
    method: str
    member_bytes: str
    ratio: str
    total: str
    unreadable: str
    file_bytes: str = "the file is {size}, over the limit of {limit}"
    directory: str = "the zip directory is {size}, over the limit of {limit}"
    too_long: str = "over the limit of {limit}"


class ZipRefused(Exception):
    """An archive or one entry beyond a bound: ``why`` (``file_bytes``, ``directory``, ``not_zip``, ``members``,
    ``method``, ``member_bytes``, ``ratio``, ``total``, ``unreadable``, ``too_long``), ``entry`` the entry's name in
    the archive (None: the archive itself) and ``message`` in the caller's words."""

    def __init__(self, why: str, entry: str | None, message: str):
        super().__init__(message)
        self.why, self.entry, self.message = why, entry, message


def entry_name(name: str) -> str:
    """An entry's base name — the only part of it ever used: ``/`` and ``\\`` both separate folders, so no name
    a zip carries (``../../x``, ``/etc/x``, ``C:\\x``, ``..\\x``) can point outside; ``""`` for a folder (and
    for ``.`` or ``..``)."""
    base = re.split(r"[/\\]", name)[-1]
    return "" if base in (".", "..") else base


def _directory_record(fh: IO[bytes], size: int) -> tuple[int, int]:
    """(central directory bytes, entries) as the end record declares them — the same search :mod:`zipfile`
    makes, before it parses the directory; (0, 0) when there is no end record (not a zip: zipfile says so)."""
    if size < _EOCD_SIZE:
        return 0, 0
    fh.seek(size - _EOCD_SIZE)
    rec = fh.read(_EOCD_SIZE)
    pos = size - _EOCD_SIZE
    if not (rec[:4] == _EOCD and rec[-2:] == b"\0\0"):
        start = max(size - _EOCD_SIZE - 65535, 0)
        fh.seek(start)
        tail = fh.read()
        i = tail.rfind(_EOCD)
        if i < 0 or len(tail) - i < _EOCD_SIZE:
            return 0, 0
        rec, pos = tail[i:i + _EOCD_SIZE], start + i
    fields = struct.unpack("<4s4H2LH", rec)
    entries, cd_size = fields[4], fields[5]
    if pos >= _LOCATOR_SIZE + _EOCD64_SIZE:
        fh.seek(pos - _LOCATOR_SIZE)
        if fh.read(4) == _EOCD64_LOCATOR:
            fh.seek(pos - _LOCATOR_SIZE - _EOCD64_SIZE)
            rec64 = fh.read(_EOCD64_SIZE)
            if rec64[:4] == _EOCD64:
                fields64 = struct.unpack("<4sQ2H2L4Q", rec64)
                entries, cd_size = fields64[7], fields64[8]
    return cd_size, entries


class BoundedZip:
    """A zip opened by :func:`open_zip`: its entries (``infos``, in directory order), each checked by
    :meth:`check` (or all by :meth:`check_all`) and read by :meth:`chunks` / :meth:`read`."""

    def __init__(self, z: zipfile.ZipFile, limits: ZipLimits, wording: ZipWording):
        self.zip, self.limits, self.wording = z, limits, wording
        self.infos = z.infolist()
        self.total = 0

    def _refuse(self, why: str, info: zipfile.ZipInfo | None, **values) -> ZipRefused:
        return ZipRefused(why, info.filename if info is not None else None,
                          getattr(self.wording, why).format(**values))

    def check(self, info: zipfile.ZipInfo) -> None:
        """One entry's method, declared size, ratio, and the total with the entries checked before it."""
        lim = self.limits
        if info.compress_type not in ZIP_METHODS:
            raise self._refuse("method", info, method=info.compress_type)
        if info.file_size > lim.member_bytes:
            raise self._refuse("member_bytes", info, size=size_text(info.file_size), limit=size_text(lim.member_bytes))
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > lim.ratio_floor and ratio > lim.ratio:
            raise self._refuse("ratio", info, ratio=ratio, packed=size_text(info.compress_size),
                               size=size_text(info.file_size), limit=lim.ratio)
        self.total += info.file_size
        if self.total > lim.total_bytes:
            raise self._refuse("total", info, limit=size_text(lim.total_bytes))

    def check_all(self) -> None:
        """Every entry checked (:meth:`check`): the first beyond a bound is refused."""
        for info in self.infos:
            self.check(info)

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's bytes in pieces, never past its declared size; a damaged entry is ``unreadable``."""
        try:
            fh = self.zip.open(info)
        except _READ_ERRORS as exc:
            raise self._refuse("unreadable", info, type=type(exc).__name__, error=exc) from None
        with fh:
            read = 0
            while read < info.file_size:
                try:
                    chunk = fh.read(min(_CHUNK, info.file_size - read))
                except _READ_ERRORS as exc:
                    raise self._refuse("unreadable", info, type=type(exc).__name__, error=exc) from None
                if not chunk:
                    break
                read += len(chunk)
                yield chunk

    def read(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        """The entry's bytes, at most ``cap`` (more is ``too_long``, whatever the directory declared)."""
        out, n = [], 0
        for chunk in self.chunks(info):
            n += len(chunk)
            if n > cap:
                raise self._refuse("too_long", info, limit=size_text(cap))
            out.append(chunk)
        return b"".join(out)


def open_zip(source: bytes | bytearray | memoryview | IO[bytes], limits: ZipLimits,
             wording: ZipWording) -> BoundedZip:
    """``source`` (bytes, or a seekable binary file) opened as a zip within ``limits``: the archive's size, its
    directory's size, that it is a zip, the number of entries; else :class:`ZipRefused`. The entries are not yet
    checked (:meth:`BoundedZip.check`)."""
    fh = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    fh.seek(0, 2)
    size = fh.tell()
    if limits.file_bytes is not None and size > limits.file_bytes:
        raise ZipRefused("file_bytes", None, wording.file_bytes.format(size=size_text(size),
                                                                        limit=size_text(limits.file_bytes)))
    if limits.directory_bytes is not None:
        cd_size, declared = _directory_record(fh, size)
        if cd_size > limits.directory_bytes:
            raise ZipRefused("directory", None, wording.directory.format(
                size=size_text(cd_size), limit=size_text(limits.directory_bytes), n=declared, members=limits.members))
    fh.seek(0)
    try:
        z = zipfile.ZipFile(fh)
    except _OPEN_ERRORS as exc:
        raise ZipRefused("not_zip", None, wording.not_zip.format(type=type(exc).__name__, error=exc)) from None
    bz = BoundedZip(z, limits, wording)
    if len(bz.infos) > limits.members:
        raise ZipRefused("members", None, wording.members.format(n=len(bz.infos), limit=limits.members))
    return bz


__all__ = ["TextLimits", "LIMITS", "Unreadable", "JsonSyntaxError", "load_json", "LimitExceeded", "load_yaml",
           "ZipLimits", "ZipWording", "ZipRefused", "BoundedZip", "open_zip", "entry_name", "size_text",
           "ZIP_DIRECTORY_BYTES", "ZIP_RATIO", "ZIP_RATIO_FLOOR_BYTES"]
