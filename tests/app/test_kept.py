"""app.kept.Kept: a value computed once per key, the least recently used key dropped beyond its size."""

from app.kept import Kept


def test_a_kept_value_is_computed_once_and_the_least_recently_used_goes_first():
    kept, calls = Kept(2), []

    def value(k):
        return lambda: calls.append(k) or f"v{k}"
    assert kept.get("a", value("a")) == "va" and kept.get("a", value("a")) == "va"
    kept.get("b", value("b"))
    kept.get("a", value("a"))            # a used again: b is now the least recently used
    kept.get("c", value("c"))            # over the size: b goes
    kept.get("a", value("a"))
    kept.get("b", value("b"))
    assert calls == ["a", "b", "c", "b"]
