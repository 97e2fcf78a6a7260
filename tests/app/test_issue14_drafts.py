"""The scoring page hands the browser what the server has for each comment (issue 14 item 5), so a kept
keystroke is put back only where the server lacks it — escaped so that no comment can end the script, and
not at all on a read-only review. The browser half is tests/browser/test_issue14_browser.py."""

from __future__ import annotations

import json
import re

from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def drafts_script(at) -> str | None:
    bodies = [h.proto.body for h in at.get("html") if "__shinsaDrafts =" in h.proto.body]
    return bodies[0] if bodies else None


def test_the_page_hands_the_browser_the_saved_comments_escaped(store):
    me = store.users.get("R01")
    hostile = "良い。</script><script>alert(1)</script> & <!--"
    store.reviews.save_draft(me, 1, "L4-003", levels={}, comments={"service_need": hostile},
                             overall_comment="全体として妥当。")
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    body = drafts_script(at)
    assert body is not None and body.count("</script>") == 1 and "<!--" not in body.split("<script>", 1)[1]
    m = re.search(r"window.__shinsaDrafts = (\{.*\});", body)
    drafts = json.loads(m.group(1).replace("scope:", '"scope":').replace("saved:", '"saved":'))
    assert drafts["scope"] == "R01|1|L4-003|document"
    assert drafts["saved"]["rv_comment_service_need"] == hostile           # the same text, once decoded
    assert drafts["saved"]["rv_overall"] == "全体として妥当。"
    assert drafts["saved"]["rv_comment_rollout_plan"] == ""


def test_a_submitted_review_gets_no_draft_script(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-002"})
    no_exception(at)
    assert at.radio(key="rv_level_service_need").disabled                 # submitted in the demo: read-only
    assert drafts_script(at) is None
