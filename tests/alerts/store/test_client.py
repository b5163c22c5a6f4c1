"""Redis URLs are shown without their secrets."""
from __future__ import annotations

import pytest

from alerts.store.client import shown_url


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
