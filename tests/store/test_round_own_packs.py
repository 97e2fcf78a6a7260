"""A round of two committee packs (neither shipped): each ranks with the other's proposals skipped, not refused
as an unknown pack (issue #12 item 13: the round's packs are the known ones)."""

from __future__ import annotations

from scoring.io.packs import pack_path
from scoring.store import SYSTEM

from .conftest import small_proposals, write_files


def test_a_round_of_two_own_packs_ranks_each_skipping_the_other(store, tmp_path):
    src = pack_path("autonomous_l4").read_text(encoding="utf-8")
    paths = []
    for pid in ("pack_a", "pack_b"):
        path = tmp_path / f"{pid}.yaml"
        path.write_text(src.replace("id: autonomous_l4", f"id: {pid}", 1), encoding="utf-8")
        paths.append(str(path))
    r = store.rounds.create_round(SYSTEM, "独自パック", paths)
    reviews = [["A", "A-001", "service_need", 4, "draft", ""]]
    files = write_files(tmp_path, small_proposals(2, "A", "pack_a") + small_proposals(3, "B", "pack_b"),
                        [("A", "委員A", "reviewer", "")], reviews)
    store.rounds.import_files(SYSTEM, r.id, **files)
    ranking = store.rounds.rank_round(SYSTEM, r.id, "pack_a")
    assert ranking.skipped_other_packs == 3
    assert store.rounds.rank_round(SYSTEM, r.id, "pack_b").skipped_other_packs == 2
