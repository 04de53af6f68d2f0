"""Rasa's command line, with a fix to Rasa 3.6 applied first: `python -m bot.launcher run ...`.

scripts/serve.sh starts the Rasa server through this module, so `make run`, the end-to-end tests,
the benchmark and the Docker image all serve with it.

The fix: Rasa 3.6 checks every action server reply with `jsonschema.validate`, which first
validates the *schema itself* against the draft 2020-12 meta-schema, on every call. Profiled
under load (bench/rasa_bench.py, py-spy), that check was more than half of the server's CPU time:
each custom action cost tens of milliseconds before its events were even read. Here the schema
is checked once and its validator reused; the reply is validated exactly as before and a bad
reply raises the same `ValidationError` with the same message.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    """The validator of an action server reply, built (and its schema checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _action_result_validator().validate(result)
        return True
    except ValidationError as error:
        # Rasa's own wording (rasa/core/actions/action.py), so logs read the same.
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def apply_fixes() -> None:
    """Install the fix on Rasa's classes (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
