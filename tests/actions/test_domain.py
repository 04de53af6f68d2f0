"""actions/domain.py: the action server's domain is Rasa's own, and fills calls that carry none."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml
from rasa.shared.core.domain import Domain

from actions import domain as served
from actions.domain import DIGEST_KEY, complete, domain_digest, served_domain

CALL = {"next_action": "action_x", "sender_id": "u1", "tracker": {"events": []}, "version": "3.6.21"}


def test_the_served_domain_is_the_one_rasa_loads_from_the_domain_files() -> None:
    domain, digest = served_domain()
    assert domain == Domain.load(str(served.DOMAIN_PATH)).as_dict()
    assert digest == domain_digest(domain)
    # What the actions read is there: every response of every file, the forms, the session config.
    for path in served.DOMAIN_PATH.glob("*.yml"):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        assert set(part.get("responses") or {}) <= set(domain["responses"]), path
        assert set(part.get("forms") or {}) <= set(domain["forms"]), path
    assert "carry_over_slots_to_new_session" in domain["session_config"]


def test_the_digest_changes_with_any_content_and_not_with_key_order() -> None:
    domain = {"responses": {"utter_a": [{"text": "a"}]}, "slots": {"x": {"type": "text"}}}
    assert domain_digest(domain) == domain_digest(dict(reversed(list(domain.items()))))
    assert domain_digest(domain) != domain_digest({**domain, "responses": {"utter_a": [{"text": "b"}]}})


def test_a_call_without_a_domain_gets_the_served_one() -> None:
    completed = complete({**CALL, DIGEST_KEY: served_domain()[1]})
    assert completed["domain"] is served_domain()[0]
    assert completed["next_action"] == "action_x" and completed["tracker"] == CALL["tracker"]


def test_a_call_with_a_domain_keeps_it() -> None:
    own: dict[str, Any] = {"responses": {"utter_x": [{"text": "x"}]}}
    assert complete({**CALL, "domain": own})["domain"] is own


def test_a_different_rasa_domain_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.domain"):
        for _ in range(3):
            assert complete({**CALL, DIGEST_KEY: "0123456789abcdef"})["domain"] is served_domain()[0]
        complete({**CALL, DIGEST_KEY: served_domain()[1]})  # the same domain: nothing to say
        complete(CALL)  # a Rasa without our launcher sends no digest: nothing to compare
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "0123456789abcdef" in errors[0].getMessage() and "retrain" in errors[0].getMessage()
