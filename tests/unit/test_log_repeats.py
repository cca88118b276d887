"""Warnings that every request repeats while the database is away (webapp.logs.Repeats): the first of a kind is
logged, the rest at most once per interval, saying how many were left out."""

from __future__ import annotations

import logging

import pytest

from webapp import logs


def test_a_kind_is_logged_once_per_interval_with_the_count_left_out(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: now[0])
    repeats = logs.Repeats(logging.getLogger("tests.repeats"), every=10.0)
    with caplog.at_level(logging.WARNING, logger="tests.repeats"):
        for second in range(25):  # one refusal a second for 25 s, of one cause
            now[0] = 100.0 + second
            repeats.warning("503:away", "request %s: 503: %s", f"r{second}", "away")
        repeats.warning("503:locked", "request %s: 503: %s", "other", "locked")  # another cause: logged at once
    assert [record.getMessage() for record in caplog.records] == [
        "request r0: 503: away",
        "request r10: 503: away (and 9 more like it in the last 10 s: see the request log)",
        "request r20: 503: away (and 9 more like it in the last 10 s: see the request log)",
        "request other: 503: locked",
    ]
