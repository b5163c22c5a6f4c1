"""Redis URLs are shown without their secrets."""
from __future__ import annotations

import pytest

from alerts.store.client import sentinel_parts, shown_url


@pytest.mark.parametrize("url, shown", [
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("rediss://ops:p%40ss@redis.example:6380/2?ssl_cert_reqs=required",
     "rediss://ops:***@redis.example:6380/2?ssl_cert_reqs=required"),
    ("redis://:pw@[::1]:6379", "redis://:***@[::1]:6379"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("unix:///run/valkey.sock?db=1", "unix:///run/valkey.sock?db=1"),
])
def test_cln001_a_shown_url_keeps_everything_but_the_password(url, shown):
    assert shown_url(url) == shown


def test_cln002_a_sentinel_url_is_parsed_and_a_bad_one_refused_with_a_reason():
    parts = sentinel_parts("redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/crisis/2")
    assert parts.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380)]
    assert (parts.master, parts.db, parts.password, parts.username) == ("crisis", 2, "s@cret", None)
    assert sentinel_parts("redis+sentinel://h:1/m").db == 0
    for bad in ("redis+sentinel://h:1", "redis+sentinel://h:x/m", "redis+sentinel://h:1/m/zero",
                "redis+sentinel://:1/m", "redis+sentinel://h:1/m/0/extra"):
        with pytest.raises(ValueError):
            sentinel_parts(bad)
    assert shown_url("redis+sentinel://:s3cret@h1:1,h2:2/m/0") == "redis+sentinel://:***@h1:1,h2:2/m/0"
