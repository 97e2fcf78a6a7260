"""Properties of the two-stage ranking (stages.md) on random calls (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from scoring.call import assemble
from scoring.ranking import r6
from scoring.stages import ShortlistEdit
from tests.factories import proposal
from tests.test_stages import COLS, small_pack

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PACKS = {"weighted": small_pack(budget=400, shortlist={"method": "top_n", "n": 3}),
         "hearing_only": small_pack(budget=400, shortlist={"method": "top_n", "n": 3},
                                    combine={"method": "hearing_only"}),
         "multiple": small_pack(budget=300, shortlist={"method": "budget_multiple", "multiple": 1.5})}
REVIEWERS = ("R1", "R2", "R3")


@st.composite
def calls(draw, min_props=2, max_props=7):
    n = draw(st.integers(min_props, max_props))
    level = st.integers(1, 5)
    props = []
    for k in range(n):
        props.append({"id": f"P{k}", "requested": draw(st.integers(1, 6)) * 50,
                      "doc": [(draw(level), draw(level)) for _ in REVIEWERS],
                      "hear": [(draw(level), draw(level)) for _ in REVIEWERS],
                      "local": draw(st.booleans())})
    return props


def rows_of(props, hearing=True):
    rows = []
    for p in props:
        for r, (a, b) in zip(REVIEWERS, p["doc"]):
            rows += [[r, p["id"], "a", str(a), "submitted", ""], [r, p["id"], "b", str(b), "submitted", ""]]
        if hearing:
            for r, (h1, h2) in zip(REVIEWERS, p["hear"]):
                rows += [[r, p["id"], "hearing:h1", str(h1), "submitted", ""],
                         [r, p["id"], "hearing:h2", str(h2), "submitted", ""]]
    return rows


def run(pack, props, rows=None, edits=()):
    models = [proposal(p["id"], pack.id, requested=p["requested"], facts={"local": p["local"]}) for p in props]
    df = pd.DataFrame(rows if rows is not None else rows_of(props), columns=COLS)
    # hearing reviews are given for every proposal; those of proposals left out are set aside (strict=False)
    return assemble(pack, models, df, None, "reviews.csv").rank_hearing(edits=edits, strict=False)


def outcome(ranking) -> dict:
    return {r["proposal_id"]: (r["decision"], r["rank"], r["waitlist_position"], r["shortlisted"],
                               None if r["total_score"] is None else round(r["total_score"], 9))
            for r in ranking.results()}


@SETTINGS
@given(calls(), st.sampled_from(sorted(PACKS)), st.data())
def test_the_shortlist_never_holds_a_non_qualifying_proposal(props, which, data):
    pack = PACKS[which]
    base = run(pack, props)
    ids = [str(i) for i in base.table.ids]
    # any chair edits that are accepted: adds of anything not shortlisted, removes of anything shortlisted
    edits = []
    for pid in data.draw(st.lists(st.sampled_from(ids), max_size=4, unique=True)):
        i = ids.index(pid)
        if base.document.rank[i] == 0:
            continue      # refused (tested elsewhere): never shortlisted
        edits.append(ShortlistEdit(pid, "remove" if base.shortlisted[i] else "add", "理由", str(len(edits) + 2)))
    r = run(pack, props, edits=edits)
    assert not (r.shortlisted & (r.document.rank == 0)).any()
    assert not (r.rank > 0)[~r.shortlisted].any()


@SETTINGS
@given(calls(), st.sampled_from(sorted(PACKS)), st.randoms(use_true_random=False))
def test_permuting_the_input_changes_nothing(props, which, rnd):
    pack = PACKS[which]
    a = outcome(run(pack, props))
    shuffled = list(props)
    rnd.shuffle(shuffled)
    rows = rows_of(shuffled)
    rnd.shuffle(rows)
    assert outcome(run(pack, shuffled, rows)) == a


@SETTINGS
@given(calls(), st.sampled_from(sorted(PACKS)), st.data())
def test_raising_a_hearing_level_never_lowers_the_final_score(props, which, data):
    pack = PACKS[which]
    before = run(pack, props)
    k = data.draw(st.integers(0, len(props) - 1))
    r = data.draw(st.integers(0, len(REVIEWERS) - 1))
    c = data.draw(st.integers(0, 1))
    raised = [dict(p, hear=list(p["hear"])) for p in props]
    levels = list(raised[k]["hear"][r])
    levels[c] = min(5, levels[c] + data.draw(st.integers(1, 4)))
    raised[k]["hear"][r] = tuple(levels)
    after = run(pack, raised)
    i = k
    if before.shortlisted[i]:                 # the shortlist depends on the documents only: the same
        assert after.shortlisted[i]
        assert r6(after.total[i]) >= r6(before.total[i])


@SETTINGS
@given(calls(), st.data())
def test_with_hearing_only_document_scores_change_the_final_order_only_through_the_shortlist(props, data):
    pack = PACKS["hearing_only"]
    before = run(pack, props)
    changed = [dict(p, doc=[(data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))) for _ in REVIEWERS])
               for p in props]
    # keep the shortlist: the same proposals, by the chair's edits where the method would cut differently
    probe = run(pack, changed)
    edits = []
    ids = [str(i) for i in probe.table.ids]
    for i, pid in enumerate(ids):
        if probe.shortlisted[i] and not before.shortlisted[i]:
            edits.append(ShortlistEdit(pid, "remove", "同じ対象", str(len(edits) + 2)))
        elif before.shortlisted[i] and not probe.shortlisted[i]:
            if probe.document.rank[i] == 0:
                return                        # no longer qualifying: the shortlist cannot be kept
            edits.append(ShortlistEdit(pid, "add", "同じ対象", str(len(edits) + 2)))
    after = run(pack, changed, edits=edits)
    assert (after.shortlisted == before.shortlisted).all()
    # B_d is the third key of the chain: only proposals tied on S and B_h may be reordered by it
    ranked = before.order[before.rank[before.order] > 0]
    key = list(zip(r6(before.total[ranked]).tolist(), r6(before.hearing_base[ranked]).tolist()))
    if len(set(key)) == len(key):
        assert [str(before.table.ids[i]) for i in ranked] == \
               [str(after.table.ids[i]) for i in after.order[after.rank[after.order] > 0]]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(0, 2**31 - 1))
def test_the_final_order_is_one_lexsort_of_the_whole_chain(n, n_crit, seed):
    from scoring.hearing_ranking import final_order_keys
    rng = np.random.default_rng(seed)
    tot, h, d = (rng.integers(0, 5, size=n) * 12.5 + rng.choice([0, 1e-9], size=n) for _ in range(3))
    ratio = rng.integers(0, 5, size=(n, n_crit)) / 4
    req, idr, rows = rng.integers(1, 4, size=n), rng.permutation(n), np.arange(n)
    keys = [idr, req] + [-r6(ratio[:, c]) for c in range(n_crit - 1, -1, -1)] + [-r6(d), -r6(h), -r6(tot)]
    assert (final_order_keys(rows, tot, h, d, ratio, req, idr) == rows[np.lexsort(keys)]).all()
