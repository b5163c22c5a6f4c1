"""Accounts keep user names in one normal form; accounts stored before normalising still sign in."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from alerts.store.accounts import AccountError, Accounts

PASSWORD = "a-long-password-1"


def test_acc001_names_are_normalised_before_they_are_stored(client, keys):
    accounts = Accounts(client, keys)
    assert accounts.add_user("  Eve.Example ", "responder", "SI", PASSWORD).name == "eve.example"
    assert client.exists(keys.user("eve.example")) and not client.exists(keys.user("  Eve.Example "))
    assert accounts.get_user("ＥＶＥ.example").name == "eve.example"
    with pytest.raises(AccountError, match="exists"):
        accounts.add_user("EVE.EXAMPLE", "responder", "SI", PASSWORD)
    with pytest.raises(AccountError, match="at most 64"):
        accounts.add_user("e" * 100_000, "responder", "SI", PASSWORD)
    assert accounts.get_user("e" * 1_000_000) is None
    assert accounts.authenticate(" EVE.Example", PASSWORD).name == "eve.example"


def test_acc002_an_account_stored_the_old_way_still_signs_in(client, keys):
    """Before normalising, ``add_user`` stored names matching ``[a-z0-9][a-z0-9._-]{1,63}`` as given."""
    client.hset(keys.user("old-timer"), mapping={"name": "old-timer", "role": "responder", "nation": "SI",
                                                  "clearance": "UNCLASSIFIED", "disabled": "0",
                                                  "password": PasswordHasher().hash(PASSWORD)})
    client.sadd(keys.users, "old-timer")
    accounts = Accounts(client, keys)
    assert accounts.authenticate("Old-Timer ", PASSWORD).name == "old-timer"
    assert [u.name for u in accounts.list_users()] == ["old-timer"]


def test_acc003_a_user_keeps_the_language_chosen_and_can_follow_the_browser_again(client, keys):
    accounts = Accounts(client, keys)
    accounts.add_user("ana", "duty_officer", "HR", PASSWORD)
    assert accounts.get_user("ana").language == ""
    accounts.set_language("Ana", "SR-cyrl")  # BCP 47 tags are case-insensitive: stored in their shipped form
    assert accounts.get_user("ana").language == "sr-Cyrl"
    assert accounts.get_user("ana").viewer("session", accounts.scheme).language == "sr-Cyrl"
    with pytest.raises(AccountError, match="no user interface"):
        accounts.set_language("ana", "sr-SR")  # not a BCP 47 tag of a shipped language
    with pytest.raises(AccountError, match="no user"):
        accounts.set_language("nobody", "el")
    assert accounts.get_user("ana").language == "sr-Cyrl"
    accounts.set_language("ana", "")
    assert accounts.get_user("ana").language == ""
