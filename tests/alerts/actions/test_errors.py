"""A refusal's message: English in ``message`` (the API's ``detail``, logs), in the request's language in
``localized()`` when the catalogue has it, with its values (content) as they are."""
from __future__ import annotations

import shutil

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from alerts import i18n
from alerts.actions import exercises, tasking, workflow
from alerts.actions.errors import ActionError, Conflict, Forbidden, Invalid, NotFound
from alerts.actions.visibility import require
from alerts.core.injects import inject_alert_id
from alerts.core.roles import Permission
from alerts.core.sharing import SharingRefused, normalised
from alerts.i18n import N_
from tests.alerts.actions.test_exercises import DUTY, EXCON, World, msel, person
from tests.conftest import make_asset


def translated(tmp_path, monkeypatch, tag: str, entries: dict[str, str]) -> None:
    """Ship a temporary catalogue of ``tag`` holding ``entries`` (msgid -> msgstr), the others as shipped;
    the compiled catalogues are reloaded (``monkeypatch`` restores the folder, the caller's fixture the
    cache: ``fresh_catalogues``)."""
    folder = tmp_path / "catalogues"
    shutil.copytree(i18n.CATALOGUES, folder)
    forms = i18n.plural_forms(tag)
    catalog = Catalog(locale=i18n.CLDR.get(tag, tag.replace("-", "_")))
    catalog._num_plurals = int(forms.split(";")[0].split("=")[1])  # noqa: SLF001
    catalog._plural_expr = forms.split("plural=", 1)[1].rstrip(";")  # noqa: SLF001
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, locations=[("alerts/actions/errors.py", 1)], flags=["python-format"])
    with (folder / f"{tag}.po").open("wb") as out:
        write_po(out, catalog)
    monkeypatch.setattr(i18n, "CATALOGUES", folder)
    i18n.load.cache_clear()


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


@pytest.fixture
def fresh_catalogues():
    """Compiled catalogues read again after the test (it shipped a temporary one)."""
    yield
    i18n.load.cache_clear()


@pytest.fixture
def speak():
    tokens = []
    yield lambda tag: tokens.append(i18n.use(tag))
    for token in reversed(tokens):
        i18n.reset(token)


def test_err001_a_refusal_is_localized_and_its_message_stays_english(tmp_path, monkeypatch, fresh_catalogues, speak):
    translated(tmp_path, monkeypatch, "hr", {"no exercise %(exercise)s": "nema vježbe %(exercise)s",
                                            "role %(role)s may not export": "uloga %(role)s ne smije izvoziti"})
    speak("hr")
    refused = NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr("ex-1")}, state="ended")
    assert refused.localized() == "nema vježbe 'ex-1'"
    assert refused.message == str(refused) == "no exercise 'ex-1'"
    assert refused.extra == {"state": "ended"} and refused.status == 404
    with pytest.raises(Forbidden) as caught:                     # a real raise site
        require(person("nobody", "none", None), Permission.EXPORT)
    assert caught.value.localized() == "uloga none ne smije izvoziti"
    assert caught.value.message == "role none may not export"
    speak("en")
    assert refused.localized() == refused.message


def test_err002_an_action_refused_in_another_language(world, tmp_path, monkeypatch, fresh_catalogues, speak):
    translated(tmp_path, monkeypatch, "hr", {"no exercise %(exercise)s": "nema vježbe %(exercise)s"})
    speak("hr")
    with pytest.raises(NotFound) as caught:
        exercises.exercise(world.centre, DUTY["RS"], "ex-none")
    assert caught.value.message == "no exercise 'ex-none'"
    assert caught.value.localized() == "nema vježbe 'ex-none'"


def test_err003_untranslated_broken_or_plain_messages_fall_back_to_english(tmp_path, monkeypatch, fresh_catalogues,
                                                                         speak):
    translated(tmp_path, monkeypatch, "hr", {"inject %(inject)s was fired or skipped meanwhile": "injekt %(broj)s"})
    speak("hr")
    broken = Conflict(N_("inject %(inject)s was fired or skipped meanwhile"), values={"inject": 3})
    assert broken.localized() == broken.message == "inject 3 was fired or skipped meanwhile"
    missing = Conflict(N_("no asset %(asset)s"), values={"asset": "'a-1'"})
    assert missing.localized() == "no asset 'a-1'"
    plain = Conflict("the alert is resolved")                    # a lower layer's own text, passed on alone
    assert plain.localized() == plain.message == "the alert is resolved"
    assert Conflict("100% sure").message == "100% sure"          # no values: never formatted


def test_err004_a_lower_layers_refusal_reaches_the_user_in_their_language(world, speak):
    """What the domain refuses (an exercise's state, a MSEL, a name, a checklist, a tasking, a releasability)
    carries its own message id and values: the shipped Croatian catalogue says it, the English stays in
    ``message``, the values (ids, states) as they are."""
    centre = world.centre
    speak("hr")
    ex = exercises.load(centre, EXCON, msel(), "LANG")
    exercises.start(centre, EXCON, ex.id)
    world.advance(5)
    alert_id = inject_alert_id(ex.id, 1, "RS")
    centre.assets.put_many([make_asset("rs-med-1", 43.7, 20.7, nation="RS")])
    refused = {}
    for name, act in {
        "state": lambda: exercises.resume(centre, EXCON, ex.id),
        "msel": lambda: exercises.load(centre, EXCON, msel().replace(b"3,0:15:00", b"3,0:15"), "BROKEN"),
        "name": lambda: exercises.load(centre, EXCON, msel(), " "),
        "step": lambda: workflow.complete_step(centre, DUTY["RS"], alert_id, 1),
        "tasking": lambda: tasking.release(centre, DUTY["RS"], alert_id, "rs-med-1"),
    }.items():
        with pytest.raises(ActionError) as caught:
            act()
        refused[name] = caught.value
    with pytest.raises(SharingRefused) as caught:
        normalised(["XX"], None)
    refused["nations"] = Invalid.of(caught.value)
    assert {name: (e.message, e.localized()) for name, e in refused.items() if name != "msel"} == {
        "state": (f"cannot resume exercise {ex.id!r}: it is running (allowed when paused)",
                  f"nije moguće nastaviti vježbu {ex.id!r}: u stanju je running (dopušteno u stanju paused)"),
        "name": ("name: give the exercise a name", "naziv: dajte vježbi naziv"),
        "step": ("acknowledge the alert before working its checklist",
                 "potvrdite upozorenje prije rada na njegovu kontrolnom popisu"),
        "tasking": (f"asset 'rs-med-1' is not assigned to {alert_id!r}",
                    f"sredstvo 'rs-med-1' nije angažirano za {alert_id!r}"),
        "nations": ("'XX' is not an ISO 3166-1 alpha-2 code or 'ALL'", "'XX' nije kod ISO 3166-1 alpha-2 niti 'ALL'"),
    }
    assert refused["msel"].message.startswith("the MSEL has problems:\nrow 4, column offset: ")
    assert refused["msel"].localized().startswith("MSEL ima problema:\nrow 4, column offset: ")
    assert refused["msel"].extra["problems"][0]["column"] == "offset"
