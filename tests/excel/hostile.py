"""Hostile workbooks, built in the test: a zip bomb, lying sizes, huge strings, far rows, uncached formulas.

:func:`raw_zip` writes a zip by hand so that a member can be a deflate stream of a gigabyte made in a second
(the same compressed block repeated after a full flush) and so that the directory can lie about sizes.
"""

from __future__ import annotations

import io
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from scoring.io.intake import intake_template

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1 << 30       # the reader runs under 1 GiB of address space: a regression fails, never swaps
TIMEOUT = 60                 # only so that a regression cannot hang CI; nothing asserts on time
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass
class Member:
    name: str
    raw: bytes        # the deflate stream
    crc: int
    size: int         # the real uncompressed size
    declared: int | None = None   # what the directory says (default: the real size)


def deflated(name: str, data: bytes) -> Member:
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, co.compress(data) + co.flush(), zlib.crc32(data), len(data))


def deflated_repeat(name: str, head: bytes, unit: bytes, count: int, tail: bytes) -> Member:
    """``head + unit * count + tail`` deflated without ever holding it: one compressed block, repeated."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(unit) + co.flush(zlib.Z_FULL_FLUSH)   # after a full flush each block is the same bytes
    again = co.compress(unit) + co.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    last = co.compress(tail) + co.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return Member(name, first + block * count + last, crc, len(head) + len(unit) * count + len(tail))


def raw_zip(members: list[Member]) -> bytes:
    out, central = io.BytesIO(), io.BytesIO()
    for m in members:
        offset = out.tell()
        name = m.name.encode()
        size = m.size if m.declared is None else m.declared
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, 8, 0, 33, m.crc, len(m.raw), size,
                              len(name), 0) + name + m.raw)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, 8, 0, 33, m.crc, len(m.raw), size,
                                  len(name), 0, 0, 0, 0, 0, offset) + name)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), start, 0))
    return out.getvalue()


def members_of(xlsx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def patched(xlsx: bytes, replace: dict[str, bytes | Member]) -> bytes:
    """``xlsx`` with some members replaced (bytes) or swapped for hand-made ones (:class:`Member`)."""
    parts = members_of(xlsx)
    parts.update(replace)
    return raw_zip([v if isinstance(v, Member) else deflated(k, v) for k, v in parts.items()])


def intake_bytes(rows: list[dict] | None = None) -> bytes:
    """The intake template with proposals typed in (header → value), as openpyxl saves it."""
    wb = load_workbook(io.BytesIO(intake_template()))
    ws = wb["応募"]
    head = {c.value: c.column for c in ws[1]}
    for r, row in enumerate(rows if rows is not None else [valid_row()], 2):
        for k, v in row.items():
            ws.cell(r, head[k], v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def valid_row(pid: str = "L4-1", **more) -> dict:
    return {"提案ID": pid, "評価パック": "autonomous_l4", "提案名": "積雪地域のレベル4", "申請者名": "株式会社北雪",
            "申請者種別": "企業", "申請額": "1億円", **more}


def sheet_xml(rows_xml: str, extra: str = "", dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}">{dim}<sheetData>{rows_xml}'
            f"</sheetData>{extra}</worksheet>").encode()


def bomb_member(name: str, gib: float = 1.0) -> Member:
    """A sheet whose one inline-string cell is ``gib`` GiB of 'A' — about 1 MB compressed per GiB."""
    head = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>').split(b"<row")[0] + \
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = b"</t></is></c></row></sheetData></worksheet>"
    return deflated_repeat(name, head, b"A" * (1 << 20), int(1024 * gib), tail)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(args: list[str]) -> subprocess.CompletedProcess:
    """``python args…`` in the repository under the memory limit and the timeout."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
                          preexec_fn=_limit_memory)


READ_INTAKE = """
import sys
from scoring.errors import InputError
from scoring.io.intake import read_intake
try:
    read_intake(open(sys.argv[1], "rb").read(), source_name=sys.argv[2])
except InputError as exc:
    print(exc)
    sys.exit(2)
print("read")
"""
