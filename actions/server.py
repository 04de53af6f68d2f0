"""rasa-sdk's action server, completing each call with the served domain: `python -m actions.server
--actions actions --port 5055` (scripts/serve.sh). See actions/domain.py for why. On shutdown it
lets the funnel reports still on their way finish (actions/analytics.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor

from actions.analytics import reports_sent
from actions.domain import complete, served_domain


def apply() -> None:
    """Install the completion on rasa-sdk's executor (idempotent: rasa-sdk imports this module
    again, as `actions.server`, when it registers the package)."""
    sdk_run = ActionExecutor.run
    if getattr(sdk_run, "completes_domain", False):
        return

    async def run(self: ActionExecutor, action_call: dict[str, Any]) -> dict[str, Any] | None:
        return await sdk_run(self, complete(action_call))  # type: ignore[arg-type]

    run.completes_domain = True  # type: ignore[attr-defined]
    ActionExecutor.run = run  # type: ignore[method-assign]

    sdk_create_app = endpoint.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = sdk_create_app(*args, **kwargs)
        app.register_listener(lambda app, loop: reports_sent(), "before_server_stop")
        return app

    endpoint.create_app = create_app


def main() -> None:
    apply()
    served_domain()  # broken domain files fail the start, not the first conversation
    from rasa_sdk.__main__ import main as sdk_main

    sdk_main()


if __name__ == "__main__":
    main()
