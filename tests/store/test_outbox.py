"""The outbox (issue 18 item 6) on SQLite and PostgreSQL, sending to a real SMTP server the tests start
(aiosmtpd on 127.0.0.1): each message delivered once, failures recorded and retried on request, two senders
(threads, each with its own Store) pressing send together deliver every message exactly once."""

from __future__ import annotations

import email
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller

from scoring.errors import InputError
from scoring.io.mail import SmtpSettings
from scoring.io.notices import notice_mail, render_notice
from scoring.store import SYSTEM, ConflictOfInterest, PermissionDenied
from scoring.store.outbox import MailNotConfigured, OutboxDraft
from tests.store.conftest import login
from tests.test_notices import fields, text_of


class Handler:
    """Keeps every message received; refuses the recipients in ``refuse``."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(msg)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        handler.settings = SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False,
                                        sender="shinsa@example.jp")
        yield handler
    finally:
        controller.stop()


def notice_drafts(n: int = 3) -> list[OutboxDraft]:
    out = []
    for i in range(1, n + 1):
        f = fields("not_adopted", proposal_id=f"T-{i:03d}", applicant_name=f"株式会社テスト{i}")
        subject, body, name = notice_mail(f)
        out.append(OutboxDraft("notice", f.applicant_name, f"applicant{i}@example.jp", subject, body,
                               proposal_id=f.proposal_id, attachment_name=name, attachment=render_notice(f)))
    return out


def test_notices_are_sent_once_with_their_docx(store, small_round, chair, smtp):
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(3))
    listed = store.outbox.list(chair, small_round)
    assert [m.status for m in listed] == ["draft"] * 3
    assert listed[0].subject == "【地域社会DX推進パッケージ事業】選定結果の通知（提案番号 T-001）"
    assert "株式会社テスト1 様" in listed[0].body and listed[0].attachment_name == "T-001.docx"
    assert listed[0].attachment_bytes > 10_000 and len(listed[0].attachment_sha256) == 64

    results = store.outbox.send(chair, small_round, ids, settings=smtp.settings)
    assert [r.status for r in results] == ["sent"] * 3
    assert sorted(m["To"] for m in smtp.received) == [f"applicant{i}@example.jp" for i in (1, 2, 3)]
    first = next(m for m in smtp.received if m["To"] == "applicant1@example.jp")
    assert first["Subject"] == listed[0].subject and first["From"] == "shinsa@example.jp"
    assert "株式会社テスト1 様" in first.get_body(("plain",)).get_content()
    [att] = list(first.iter_attachments())
    assert att.get_filename() == "T-001.docx"
    assert "株式会社テスト1　様" in text_of(att.get_content())

    # sending again (a second click, a stale page) sends nothing more
    again = store.outbox.send(chair, small_round, ids, settings=smtp.settings)
    assert [r.status for r in again] == ["skipped"] * 3 and len(smtp.received) == 3
    after = store.outbox.list(chair, small_round)
    assert [(m.status, m.attempts, m.last_error) for m in after] == [("sent", 1, None)] * 3
    assert all(m.sent_at is not None for m in after)
    actions = [e.action for e in store.audit.query(SYSTEM, small_round, limit=100)]
    assert actions.count("outbox.add") == 3 and actions.count("outbox.send") == 3


def test_a_failure_is_recorded_then_retried_on_request(store, small_round, chair, smtp):
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(3))
    smtp.refuse.add("applicant2@example.jp")
    results = store.outbox.send(chair, small_round, ids, settings=smtp.settings)
    assert [r.status for r in results] == ["sent", "failed", "sent"]      # one refusal does not stop the others
    assert "550" in results[1].error and "mailbox unavailable" in results[1].error
    failed = store.outbox.list(chair, small_round, status="failed")
    assert [(m.id, m.attempts) for m in failed] == [(ids[1], 1)] and "550" in failed[0].last_error
    assert len(smtp.received) == 2

    smtp.refuse.clear()
    retried = store.outbox.send(chair, small_round, [ids[1]], settings=smtp.settings)
    assert [r.status for r in retried] == ["sent"]
    [m] = [m for m in store.outbox.list(chair, small_round) if m.id == ids[1]]
    assert (m.status, m.attempts, m.last_error) == ("sent", 2, None)
    assert sorted(x["To"] for x in smtp.received) == [f"applicant{i}@example.jp" for i in (1, 2, 3)]
    actions = [e.action for e in store.audit.query(SYSTEM, small_round, limit=100)]
    assert actions.count("outbox.fail") == 1 and actions.count("outbox.send") == 3


def test_a_server_that_is_down_fails_the_first_and_leaves_the_rest(store, small_round, chair):
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(3))
    down = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender="shinsa@example.jp", timeout=5)
    results = store.outbox.send(chair, small_round, ids, settings=down)
    assert [r.status for r in results] == ["failed", "skipped", "skipped"]
    assert [m.status for m in store.outbox.list(chair, small_round)] == ["failed", "draft", "draft"]


def test_two_senders_at_once_deliver_each_message_exactly_once(backend, store, small_round, chair, smtp):
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(6))
    second = backend.new_store()
    barrier = threading.Barrier(2)
    results: dict[str, list] = {}
    errors: list[BaseException] = []

    def press_send(name, st, order):
        try:
            barrier.wait(timeout=60)
            results[name] = st.outbox.send(chair, small_round, order, settings=smtp.settings)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=press_send, args=("a", store, ids)),
               threading.Thread(target=press_send, args=("b", second, list(reversed(ids))))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        second.close()
    assert not errors
    sent_by = {r.id: name for name in results for r in results[name] if r.status == "sent"}
    assert sorted(sent_by) == sorted(ids)                  # every message sent by exactly one of the two
    assert sum(r.status == "sent" for rs in results.values() for r in rs) == 6
    assert sorted(m["To"] for m in smtp.received) == sorted(f"applicant{i}@example.jp" for i in range(1, 7))
    assert all(m.status == "sent" and m.attempts == 1 for m in store.outbox.list(chair, small_round))


def test_drafts_are_checked_all_at_once_and_nothing_is_added(store, small_round, chair):
    good = notice_drafts(1)[0]
    bad = [good, OutboxDraft("notice", "x", "not an address", "件名", "本文", proposal_id="NOPE"),
           OutboxDraft("letter", "", "a@b.jp\r\nBcc: evil@example.jp", "", "")]
    with pytest.raises(InputError) as e:
        store.outbox.add_drafts(chair, small_round, bad)
    where = {(p.row, p.field) for p in e.value.problems}
    assert {("[1]", "address"), ("[1]", "proposal_id"), ("[2]", "kind"), ("[2]", "address"),
            ("[2]", "recipient"), ("[2]", "subject")} <= where
    assert store.outbox.list(chair, small_round) == []


def test_a_new_draft_replaces_the_unsent_one_but_not_a_sent_one(store, small_round, chair, smtp):
    [first] = store.outbox.add_drafts(chair, small_round, notice_drafts(1))
    [second] = store.outbox.add_drafts(chair, small_round, notice_drafts(1))
    assert [m.id for m in store.outbox.list(chair, small_round)] == [second]
    store.outbox.send(chair, small_round, [second], settings=smtp.settings)
    [third] = store.outbox.add_drafts(chair, small_round, notice_drafts(1))
    assert [(m.id, m.status) for m in store.outbox.list(chair, small_round)] == [(second, "sent"), (third, "draft")]
    assert len({first, second, third}) == 3               # ids are never reused (a stale page sends nothing new)


def test_only_chair_and_secretariat_use_the_outbox(store, small_round, chair, secretariat, smtp):
    ids = store.outbox.add_drafts(secretariat, small_round, notice_drafts(1))
    reviewer = login(store, "A")
    for call in (lambda: store.outbox.list(reviewer, small_round),
                 lambda: store.outbox.add_drafts(reviewer, small_round, notice_drafts(1)),
                 lambda: store.outbox.send(reviewer, small_round, ids, settings=smtp.settings),
                 lambda: store.outbox.attachment(reviewer, small_round, ids[0])):
        with pytest.raises(PermissionDenied):
            call()
    assert smtp.received == []
    name, data = store.outbox.attachment(secretariat, small_round, ids[0])
    assert name == "T-001.docx" and data.startswith(b"PK")


def test_a_conflicted_chair_sees_nothing_of_that_notice(store, small_round, chair, smtp):
    other = store.users.add_user(SYSTEM, "chair2", "委員長代理", "chair", "chair2-password-1")
    store.assignments.set_conflict(SYSTEM, small_round, "chair2", proposal_id="T-002", reason="出資関係")
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(3))
    assert [m.proposal_id for m in store.outbox.list(other, small_round)] == ["T-001", "T-003"]
    with pytest.raises(ConflictOfInterest):
        store.outbox.send(other, small_round, [ids[1]], settings=smtp.settings)
    with pytest.raises(ConflictOfInterest):
        store.outbox.attachment(other, small_round, ids[1])
    with pytest.raises(ConflictOfInterest):
        store.outbox.add_drafts(other, small_round, notice_drafts(2))
    assert smtp.received == [] and [m.status for m in store.outbox.list(chair, small_round)] == ["draft"] * 3


def test_without_a_server_nothing_is_sent(store, small_round, chair, monkeypatch):
    monkeypatch.delenv("SHINSA_SMTP_HOST", raising=False)
    ids = store.outbox.add_drafts(chair, small_round, notice_drafts(1))
    with pytest.raises(MailNotConfigured):
        store.outbox.send(chair, small_round, ids)
    assert [(m.status, m.attempts) for m in store.outbox.list(chair, small_round)] == [("draft", 0)]


def test_settings_from_the_environment_reach_the_server(store, small_round, chair, smtp, monkeypatch):
    monkeypatch.setenv("SHINSA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHINSA_SMTP_PORT", str(smtp.settings.port))
    monkeypatch.setenv("SHINSA_SMTP_STARTTLS", "0")
    monkeypatch.setenv("SHINSA_SMTP_SENDER", "jimukyoku@example.go.jp")
    ids = store.outbox.add_drafts(chair, small_round, [OutboxDraft(
        "reminder", "A", "a@example.jp", "評価締切のお知らせ", "評価の入力をお願いします。")])
    assert [r.status for r in store.outbox.send(chair, small_round, ids)] == ["sent"]
    [m] = smtp.received
    assert m["From"] == "jimukyoku@example.go.jp" and m["Subject"] == "評価締切のお知らせ"
    assert not list(m.iter_attachments())


def test_an_interrupted_send_is_released_only_when_stale(store, small_round, chair, smtp):
    from datetime import timedelta

    from sqlalchemy import update

    from scoring.store.schema import OutboxRow, utcnow

    [mid] = store.outbox.add_drafts(chair, small_round, notice_drafts(1))
    with store.db.write() as s:   # a server stopped between claim and outcome
        s.execute(update(OutboxRow).where(OutboxRow.id == mid).values(
            status="sending", claim_token="dead", claimed_by="chair", claimed_at=utcnow(), attempts=1))
    assert [r.status for r in store.outbox.send(chair, small_round, [mid], settings=smtp.settings)] == ["skipped"]
    assert store.outbox.release(chair, small_round, [mid]) == []                       # a fresh claim stays
    later = utcnow() + timedelta(minutes=11)
    assert store.outbox.release(chair, small_round, [mid], now=later) == [mid]
    [m] = store.outbox.list(chair, small_round)
    assert m.status == "failed" and "may have been delivered" in m.last_error
    assert [r.status for r in store.outbox.send(chair, small_round, [mid], settings=smtp.settings)] == ["sent"]
    assert len(smtp.received) == 1


def test_smtp_settings_are_checked():
    assert SmtpSettings.from_env({}) is None
    st = SmtpSettings.from_env({"SHINSA_SMTP_HOST": "smtp.example.jp", "SHINSA_SMTP_SENDER": "a@example.jp"})
    assert (st.port, st.starttls, st.user) == (587, True, None)
    with pytest.raises(InputError) as e:
        SmtpSettings.from_env({"SHINSA_SMTP_HOST": "smtp.example.jp", "SHINSA_SMTP_PORT": "99999",
                               "SHINSA_SMTP_STARTTLS": "0", "SHINSA_SMTP_USER": "u", "SHINSA_SMTP_SENDER": ""})
    named = {p.file for p in e.value.problems}
    assert named == {"SHINSA_SMTP_PORT", "SHINSA_SMTP_SENDER", "SHINSA_SMTP_PASSWORD", "SHINSA_SMTP_USER"}


def test_reviewer_reminders_are_reminder_drafts_for_pending_reviewers_and_are_sent_once(store, small_round, chair,
                                                                                        smtp):
    for pid, reviewer in (("T-001", "A"), ("T-002", "A"), ("T-004", "B")):
        store.assignments.assign(SYSTEM, small_round, pid, reviewer)

    def reminder(who: str, address: str) -> OutboxDraft:
        return OutboxDraft("reminder", who, address, "【評価のお願い】小テスト", f"委員{who} 様\n\n評価の提出をお願いします。")

    # C and D have nothing to submit; a notice is not a reminder: every problem at once, nothing added
    with pytest.raises(InputError) as err:
        store.outbox.add_reminders(chair, small_round, "autonomous_l4", [
            reminder("A", "a@example.jp"), reminder("C", "c@example.jp"), reminder("A", "a2@example.jp"),
            OutboxDraft("notice", "B", "b@example.jp", "x", "y", proposal_id="T-004")])
    text = str(err.value)
    assert "'C' has no review left to submit" in text and "'A' is reminded twice" in text
    assert "a reminder (got 'notice')" in text
    assert store.outbox.list(chair, small_round) == []

    ids = store.outbox.add_reminders(chair, small_round, "autonomous_l4",
                                     [reminder("A", "a@example.jp"), reminder("B", "b@example.jp")])
    listed = store.outbox.list(chair, small_round, kind="reminder")
    assert [(m.kind, m.recipient, m.address, m.status, m.proposal_id) for m in listed] == [
        ("reminder", "A", "a@example.jp", "draft", None), ("reminder", "B", "b@example.jp", "draft", None)]
    assert store.outbox.list(chair, small_round, kind="notice") == []

    assert [r.status for r in store.outbox.send(chair, small_round, ids, settings=smtp.settings)] == ["sent"] * 2
    assert [r.status for r in store.outbox.send(chair, small_round, ids, settings=smtp.settings)] == ["skipped"] * 2
    assert sorted(m["To"] for m in smtp.received) == ["a@example.jp", "b@example.jp"]
    first = next(m for m in smtp.received if m["To"] == "a@example.jp")
    assert first["Subject"] == "【評価のお願い】小テスト" and "委員A 様" in first.get_body(("plain",)).get_content()
    assert [m.status for m in store.outbox.list(chair, small_round, kind="reminder")] == ["sent", "sent"]
