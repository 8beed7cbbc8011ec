"""The in-process body cache and ETag matching (api/caching.py)."""

from api.caching import BodyCache, etag_for, matches


def test_body_cache_drops_the_least_recently_used_within_count_and_bytes() -> None:
    cache = BodyCache(max_entries=3, max_bytes=100)
    for key in "abc":
        cache.put(key, b"x" * 10)
    assert cache.get("a") == b"x" * 10  # now the most recently used
    cache.put("d", b"y" * 10)
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 3
    cache.put("e", b"z" * 20)
    cache.put("f", b"z" * 20)
    cache.put("g", b"z" * 20)
    assert len(cache) == 3 and cache.get("a") is None
    cache.put("e", b"w" * 25)  # replacing an entry counts its new size only
    cache.put("h", b"v" * 25)
    assert cache._bytes <= 100 and cache.get("e") == b"w" * 25
    cache.put("huge", b"h" * 60)  # more than a quarter of the budget: not kept
    assert cache.get("huge") is None and cache.get("h") is not None


def test_values_are_bounded() -> None:
    cache = BodyCache()
    for number in range(70):
        cache.keep_value(number, {number: number}, limit=64)
    assert cache.value(0) is None and cache.value(69) == {69: 69} and len(cache.values) == 64


def test_etags_and_if_none_match() -> None:
    tag = etag_for(("progress", 1, 42, "2026-11-29"))
    assert tag == etag_for(("progress", 1, 42, "2026-11-29")) and tag != etag_for(("progress", 1, 43, "2026-11-29"))
    assert matches(tag, tag) and matches(f"W/{tag}", tag) and matches(f'"a", {tag}', tag) and matches("*", tag)
    assert not matches(None, tag) and not matches("", tag) and not matches('"a"', tag)
