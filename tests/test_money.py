import pytest
from hypothesis import given, strategies as st

from scoring.money import MoneyError, format_man_oku, format_score, format_yen, parse_yen


@pytest.mark.parametrize("text, yen", [
    ("148000000", 148_000_000), ("148,000,000", 148_000_000), ("１４８，０００，０００", 148_000_000),
    ("1,500万円", 15_000_000), ("1.2億円", 120_000_000), ("１億２０００万円", 120_000_000),
    ("1億2,000万円", 120_000_000), ("￥98,000", 98_000), (" 9,800万 円 ", 98_000_000), ("5千円", 5_000),
    ("0", 0), (150000000, 150_000_000), (1.5e8, 150_000_000), ("1兆", 10**12),
])
def test_parse_what_people_type(text, yen):
    assert parse_yen(text) == yen


@pytest.mark.parametrize("bad", ["-5", -1, "abc", "1.5", "1.23456万円", "万円", "", "1万2億", True, None, 1.5, "1 2"])
def test_refuse_what_is_not_whole_yen(bad):
    with pytest.raises(MoneyError) as exc:
        parse_yen(bad)
    assert repr(bad) in str(exc.value) or bad == ""


def test_money_is_shown_in_yen_and_in_man_oku():
    assert format_yen(148_000_000) == "148,000,000円"
    assert format_man_oku(148_000_000) == "1億4,800万円"
    assert format_man_oku(1_700_000_000) == "17億円"
    assert format_man_oku(98_000) == "9万8,000円"
    assert format_man_oku(None) == "—"


@given(st.integers(min_value=0, max_value=10**13))
def test_format_man_oku_round_trips(yen):
    assert parse_yen(format_man_oku(yen)) == yen
    assert parse_yen(format_yen(yen)) == yen


@pytest.mark.parametrize("value, shown", [(57.625, "57.63"), (2.675, "2.68"), (0.125, "0.13"), (60, "60.00"),
                                          (-1.005, "-1.01"), (99.994999, "99.99"), (float("nan"), "—"), (None, "—")])
def test_format_score_rounds_half_up(value, shown):
    assert format_score(value) == shown
