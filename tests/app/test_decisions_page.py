"""The 採否・通知 page with AppTest (issue 18): the worked example of tests/data/decisions-small (budget 1億円,
proposed Σ A = 9,500万円) in a round of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.store import SYSTEM
from tests.app.review_fixtures import no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

D = Path(__file__).resolve().parents[1] / "data" / "decisions-small"
PAGE = "app/pages/chair_decisions.py"


@pytest.fixture()
def dround(store):
    r = store.rounds.create_round(SYSTEM, "令和8年度 採否テスト", [D / "pack.yaml"])
    store.rounds.import_files(SYSTEM, r.id, D / "proposals.json", D / "reviewers.csv", D / "reviews.csv")
    return r.id


def page(store, username="C01", lang=None):
    from streamlit.testing.v1 import AppTest

    from tests.app.review_fixtures import APP, user

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["auth_user"] = user(store, username)
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE)
    at.run()
    no_exception(at)
    return at


def edit(at, pid, **values):
    at.selectbox(key="dc_pick").set_value(pid).run()
    for k, v in values.items():
        w = at.selectbox(key="dc_decision") if k == "decision" else \
            (at.text_area(key="dc_conditions") if k == "conditions" else at.text_input(key=f"dc_{k}"))
        w.set_value(v)
    at.button(key="dc_save").click().run()
    no_exception(at)
    return at


def test_amount_typed_in_man_en_and_gauge(store, dround):
    at = page(store)
    shown = texts(at)
    assert "予算 1億円" in shown and "採択額合計 9,500万円" in shown and "残額 500万円" in shown
    assert "adopted" not in shown and "not_adopted" not in shown
    at = edit(at, "D-1", amount="5000万1999円", reason="基地局の追加分を査定（減額）")
    shown = texts(at)
    assert "D-1 の採否を保存しました。" in shown
    assert "採択額合計 8,000万円" in shown and "残額 2,000万円" in shown      # A = floor(50,001,999 / 2 / 1000) × 1000
    edit_row = store.decisions.board(SYSTEM, dround).edits["D-1"]
    assert edit_row.approved_cost_yen == 50_001_999
    assert "補欠 D-4" in shown                                              # 補欠繰上げ offered
    at.button(key="dc_promote").click().run()
    assert at.text_input(key="dc_reason").value == "補欠繰上げ（減額による予算残）"
    at.button(key="dc_save").click().run()
    no_exception(at)
    assert "採択額合計 1億円" in texts(at) and "残額 0円" in texts(at)


def test_departure_needs_reason_and_confirm_refused_over_budget(store, dround):
    at = page(store)
    at = edit(at, "D-4", decision="adopted")                 # promoted without reduction and without a reason
    shown = texts(at)
    assert "D-4：案からの変更には理由が必要です。" in shown
    at.button(key="dc_confirm").click().run()
    no_exception(at)
    errors = "\n".join(str(e.value) for e in at.error)
    assert "確定できません" in errors
    assert "採択額合計 1億1,500万円 が予算 1億円 を 1,500万円 超えています。" in errors
    assert "D-4：案からの変更には理由が必要です。" in errors
    assert store.decisions.versions(SYSTEM, dround) == []


def test_confirm_locks_then_notices_and_reopen(store, dround):
    store.decisions.set_edit(SYSTEM, dround, None, "D-1", approved_cost_yen="5000万1999円", reason="減額")
    store.decisions.set_edit(SYSTEM, dround, None, "D-4", decision="adopted", reason="補欠繰上げ")
    at = page(store)
    at.button(key="dc_confirm").click().run()
    no_exception(at)
    shown = texts(at)
    assert "第1版として確定しました。" in shown and "ラウンドはロックされています" in shown
    assert store.rounds.get_round(SYSTEM, dround).status == "locked"
    assert not [b for b in at.button if b.key == "dc_save"]              # no editing once confirmed
    assert "6件の通知" in shown
    assert "メール送信サーバ（SMTP）が設定されていない" in shown
    at.button(key="dc_reopen").click().run()                            # no reason: refused
    assert "再開には理由が必要です。" in "\n".join(str(e.value) for e in at.error)
    at.text_input(key="dc_reopen_reason").set_value("金額の再査定").run()
    at.button(key="dc_reopen").click().run()
    no_exception(at)
    assert "採否を再開しました" in texts(at)
    assert store.decisions.confirmed(SYSTEM, dround) is None


def test_english_and_conflicted_chair(store, dround):
    store.rounds.add_reviewer(SYSTEM, dround, "C01", role="chair")
    store.assignments.set_conflict(SYSTEM, dround, "C01", proposal_id="D-2", reason="役員を兼務")
    at = page(store)
    at.selectbox(key="dc_pick").set_value("D-2").run()
    assert "D-2 はあなたと利益相反の関係にあるため変更できません。" in texts(at)
    at.radio(key="lang").set_value("en").run()        # (AppTest: one language switch, no selectbox use after it)
    no_exception(at)
    shown = texts(at)
    assert "Decisions and notices" in shown and "Budget" in shown and "¥100,000,000" in shown
    assert "予算" not in shown and "採択" not in shown
    assert "conflict of interest with D-2" in shown
    assert not [b for b in at.button if b.key == "dc_save"]


def test_secretariat_sees_confirmed_read_only(store, dround):
    store.decisions.confirm(SYSTEM, dround)
    jimu = [u for u in store.users.list_users(SYSTEM) if u.role == "secretariat"]
    if not jimu:
        store.users.add_user(SYSTEM, "S01", "事務局", "secretariat", "secretariat-password-1")
        name = "S01"
    else:
        name = jimu[0].username
    at = page(store, name)
    shown = texts(at)
    assert "第1版として確定済み" in shown and "6件の通知" in shown
    assert not [b for b in at.button if b.key in ("dc_save", "dc_confirm")]


def test_score_form_has_a_separate_field_for_the_applicant(store):
    from tests.app.review_fixtures import app_as

    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    assert any(a.label == "申請者への所見" for a in at.text_area)
    at.text_area(key="rv_overall").set_value("委員会内部の総評").run()
    at.text_area(key="rv_applicant_comment").set_value("実施体制の説明が明確です。").run()
    no_exception(at)
    review = store.reviews.get_review(store.users.get("R01"), 1, "L4-003")
    assert review.applicant_comment == "実施体制の説明が明確です。"
    assert review.overall_comment == "委員会内部の総評"


def ranking_xlsx(store):
    import io

    import openpyxl

    at = page(store)
    at.switch_page("app/pages/chair_ranking.py")
    at.run()
    no_exception(at)
    at.button(key="chair_xlsx_prepare").click().run()
    no_exception(at)
    return at, openpyxl.load_workbook(io.BytesIO(at.session_state["chair_xlsx"][1]))


def test_chair_workbook_carries_the_selection_record_once_confirmed(store, dround):
    at, wb = ranking_xlsx(store)                  # a draft: no 選定結果
    assert "選定結果" not in wb.sheetnames and "選定結果" not in texts(at)
    edit(page(store), "D-1", amount="5000万1999円", reason="基地局の追加分を査定（減額）")
    store.decisions.confirm(SYSTEM, dround)
    at, wb = ranking_xlsx(store)
    assert "「選定結果」シートを含めました" in texts(at)
    ws = wb["選定結果"]
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    cells = "\n".join(str(c) for r in rows for c in r if c is not None)
    assert "D-1" in cells and "基地局の追加分を査定（減額）" in cells
    d1 = next(r for r in rows if "D-1" in r)
    assert 25_000_000 in d1 and "○" in d1        # awarded A = floor(50,001,999 / 2 / 1000) × 1000; reduced


def test_notices_with_pdfs_where_libreoffice_is_installed(store, dround, monkeypatch, tmp_path):
    import io
    import shutil
    import zipfile

    assert shutil.which("soffice"), "LibreOffice is installed on this machine and on CI"
    store.decisions.confirm(SYSTEM, dround)
    at = page(store)
    assert not [b for b in at.get("download_button") if b.proto.id and "nt_zip_pdf" in b.proto.id
                and "prepare" not in b.proto.id]
    at.button(key="nt_zip_pdf_prepare").click().run()
    no_exception(at)
    data = at.session_state["nt_zip_pdf_data"][1]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = sorted(z.namelist())
        ids = [f"D-{i}" for i in range(1, 7)]
        assert names == sorted([f"{p}.docx" for p in ids] + [f"{p}.pdf" for p in ids])
        assert all(z.read(f"{p}.pdf").startswith(b"%PDF") for p in ids)
    assert [b for b in at.get("download_button") if b.proto.id and "nt_zip_pdf" in b.proto.id]

    monkeypatch.setenv("PATH", str(tmp_path))            # a server without LibreOffice
    at = page(store)
    assert "PDF の作成には LibreOffice が必要です（このサーバには入っていません）。Word 形式（.docx）はダウンロードできます。" in [
        c.value for c in at.caption]
    assert not [b for b in at.button if b.key == "nt_zip_pdf_prepare"]


def outbox_table(at):
    """The outbox panel's table (seven columns, the fourth the status)."""
    return next(d.value for d in at.dataframe
                if len(d.value.columns) == 7 and d.value.columns[3] in ("状態", "Status"))


def test_the_outbox_panel_is_one_and_the_same_on_both_pages(store, dround, monkeypatch):
    """採否・通知 (notices) and 進捗 (reminders) draw the one outbox panel (app/outbox_view.py): the same columns
    after the first, a picker with the placeholder of every other picker, the caller's own no-SMTP text."""
    from app import notices_view, outbox_view, reminders_view
    from scoring.store.outbox import OutboxDraft

    monkeypatch.delenv("SHINSA_SMTP_HOST", raising=False)
    assert notices_view.outbox_panel is outbox_view.outbox_panel is reminders_view.outbox_panel
    store.decisions.confirm(SYSTEM, dround)
    c01 = store.users.get("C01")
    store.notices.to_outbox(c01, dround, store.notices.fields(c01, dround), {"D-2": "d2@example.jp"})
    at = page(store)
    notices = outbox_table(at)
    assert list(notices.columns) == ["提案番号", "メールアドレス", "件名", "状態", "試行回数", "送信日時", "エラー"]
    assert list(notices["提案番号"]) == ["D-2"] and list(notices["状態"]) == ["未送信"]
    pick = at.selectbox(key="nt_outbox_pick")
    assert pick.proto.placeholder == "選択してください" and pick.options == ["D-2　d2@example.jp"]
    assert at.selectbox(key="nt_preview_pick").proto.placeholder == "選択してください"
    assert any(x.value.startswith("【地域社会DX推進パッケージ事業】選定結果の通知（提案番号 D-2）") for x in at.text)
    assert "メール送信サーバ（SMTP）が設定されていないため送信できません。通知はダウンロードして送付してください" in texts(at)
    assert not [b for b in at.button if b.key == "nt_send"]

    store.outbox.add_reminders(c01, 1, "autonomous_l4", [OutboxDraft("reminder", "R01", "r01@example.jp",
                                                                     "【評価のお願い】x", "委員 山田 太郎 様")])
    at.switch_page("app/pages/chair_progress.py")
    at.run()
    at.selectbox(key="app_round_pick").set_value(1).run()
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    reminders = outbox_table(at)
    assert list(reminders.columns) == ["ユーザー名"] + list(notices.columns)[1:]
    assert list(reminders["ユーザー名"]) == ["R01"] and list(reminders["状態"]) == ["未送信"]
    pick = at.selectbox(key="rm_outbox_pick")
    assert pick.proto.placeholder == "選択してください" and pick.options == ["R01　r01@example.jp"]
    assert any(x.value == "【評価のお願い】x\n\n委員 山田 太郎 様" for x in at.text)
    assert "メール送信サーバ（SMTP）が設定されていないため送信できません。上の文面をコピーしてお送りください。" in texts(at)
    assert not [b for b in at.button if b.key == "rm_send"]


@pytest.fixture()
def smtp_server(monkeypatch):
    """A real SMTP server on 127.0.0.1 (aiosmtpd, as tests/store/test_outbox.py) and the app's settings for it."""
    from aiosmtpd.controller import Controller

    from tests.store.test_outbox import Handler, free_port

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("SHINSA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHINSA_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("SHINSA_SMTP_STARTTLS", "0")
    monkeypatch.setenv("SHINSA_SMTP_SENDER", "shinsa@example.jp")
    for var in ("SHINSA_SMTP_USER", "SHINSA_SMTP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield handler
    finally:
        controller.stop()


def test_the_send_button_delivers_a_notice_once_and_shows_it_sent(store, dround, smtp_server):
    store.decisions.confirm(SYSTEM, dround)
    c01 = store.users.get("C01")
    store.notices.to_outbox(c01, dround, store.notices.fields(c01, dround), {"D-1": "d1@example.jp"})
    at = page(store)
    assert list(outbox_table(at)["状態"]) == ["未送信"]
    at.button(key="nt_send").click().run()
    no_exception(at)
    assert "送信 1件、失敗 0件、対象外 0件。" in texts(at)
    assert len(smtp_server.received) == 1
    msg = smtp_server.received[0]
    assert (msg["To"], msg["From"]) == ("d1@example.jp", "shinsa@example.jp")
    assert msg["Subject"] == "【地域社会DX推進パッケージ事業】選定結果の通知（提案番号 D-1）"
    assert [a.get_filename() for a in msg.iter_attachments()] == ["D-1.docx"]
    table = outbox_table(at)
    assert list(table["状態"]) == ["送信済み"] and list(table["試行回数"]) == [1] and table["送信日時"][0]
    assert at.button(key="nt_send").disabled                       # nothing left to send
    at.run()
    no_exception(at)
    assert len(smtp_server.received) == 1                          # a rerun sends nothing again
    assert [m.status for m in store.outbox.list(c01, dround, kind="notice")] == ["sent"]
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    table = outbox_table(at)
    assert list(table["Status"]) == ["Sent"] and list(table["Proposal"]) == ["D-1"]
    assert len(smtp_server.received) == 1
