"""The expected-action grammar and its scoring from workflow facts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.core.expected_actions import (
    ActionKind,
    Clause,
    ExpectedActionError,
    Fact,
    Outcome,
    deadline,
    parse,
    parse_duration,
    score,
)

FIRED = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def test_exa001_clauses_parse_in_order_with_their_arguments_and_deadlines():
    clauses = parse("Acknowledge within 5m AND assign cbrn_team within 20m and step 2 within 1h30m and resolve within 2h")
    assert clauses == (Clause(ActionKind.ACKNOWLEDGE, None, 5 * M), Clause(ActionKind.ASSIGN, "cbrn_team", 20 * M),
                       Clause(ActionKind.STEP, "2", 90 * M), Clause(ActionKind.RESOLVE, None, 120 * M))
    assert [c.text() for c in clauses] == ["acknowledge within 5m", "assign cbrn_team within 20m",
                                          "step 2 within 1h30m", "resolve within 2h"]
    assert deadline(clauses) == 120 * M
    assert parse_duration("90s") == timedelta(seconds=90)


@pytest.mark.parametrize("text, says", [
    ("", "empty"),
    ("wave within 5m", "is not"),
    ("acknowledge", "is not"),
    ("assign within 5m", "needs what to assign"),
    ("step within 5m", "needs what to step"),
    ("step two within 5m", "positive number"),
    ("step 0 within 5m", "positive number"),
    ("acknowledge now within 5m", "takes no argument"),
    ("acknowledge within 5 minutes", "is not"),
    ("acknowledge within 5x", "duration"),
    ("acknowledge within 0m", "longer than zero"),
    ("acknowledge within 9999999999h", "at most 720 hours"),
    ("acknowledge within 99999999999999h", "at most 720 hours"),
    ("acknowledge within 50000m", "at most 720 hours"),
    ("assign <script> within 5m", "is not"),
    (" and ".join(["acknowledge within 5m"] * 11), "at most"),
])
def test_exa002_a_text_off_the_grammar_is_refused_saying_why(text, says):
    with pytest.raises(ExpectedActionError, match=says):
        parse(text)


def fact(kind, minutes, *matches, nation="RS"):
    return Fact(ActionKind(kind), FIRED + minutes * M, nation, frozenset(matches))


def test_exa003_met_when_every_clause_has_a_fact_in_time_taken_is_the_last_clause():
    clauses = parse("acknowledge within 5m and assign medical_team within 20m")
    facts = [fact("assign", 12, "qa-1", "medical_team", "triage"), fact("acknowledge", 3), fact("acknowledge", 4)]
    got = score(clauses, FIRED, facts, FIRED + 30 * M)
    assert got.outcome is Outcome.MET and got.taken == 12 * M
    assert got.clauses == (("acknowledge within 5m", Outcome.MET), ("assign medical_team within 20m", Outcome.MET))


def test_exa004_missed_once_a_deadline_passes_pending_before():
    clauses = parse("acknowledge within 5m and resolve within 60m")
    facts = [fact("acknowledge", 7), fact("resolve", 30)]  # acknowledged too late
    assert score(clauses, FIRED, facts, FIRED + 4 * M).outcome is Outcome.PENDING
    late = score(clauses, FIRED, facts, FIRED + 6 * M)
    assert late.outcome is Outcome.MISSED and late.taken is None
    assert late.clauses[0] == ("acknowledge within 5m", Outcome.MISSED)
    assert score(clauses, FIRED, [fact("acknowledge", 5)], FIRED + 10 * M).outcome is Outcome.PENDING  # on the deadline


def test_exa005_the_argument_must_match_and_facts_before_firing_do_not_count():
    clauses = parse("assign cbrn_team within 20m and step 2 within 15m")
    wrong = [fact("assign", 5, "qa-1", "medical_team"), fact("step", 5, "3"), fact("step", -1, "2")]
    assert score(clauses, FIRED, wrong, FIRED + 21 * M).outcome is Outcome.MISSED
    right = [fact("assign", 5, "qa-2", "cbrn_team"), fact("step", 14, "2")]
    assert score(clauses, FIRED, right, FIRED + 21 * M).outcome is Outcome.MET
