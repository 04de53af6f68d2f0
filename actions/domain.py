"""The domain the actions read (responses, forms, session config), held by the action server.

Rasa 3.6 sends its whole domain (about 200 KB: every response in four languages) with every
custom action call, unless the action endpoint enables `enable_selective_domain`. Under load that
was about a fifth of the Rasa server's CPU (encoding and sending it) and a quarter of the action
server's (parsing it), for a value that never changes while a model is served. Our endpoints
enable the selective domain, so Rasa sends none; the action server loads the same domain once
from the files the model is trained from (`bot/domain`, or `GE_DOMAIN_PATH`).

So that a model trained from other files than the action server's is noticed rather than
silently served with the wrong texts, Rasa's calls carry a digest of its domain
(bot/launcher.py) and a different one is logged as an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DOMAIN_PATH = Path(os.environ.get("GE_DOMAIN_PATH") or Path(__file__).resolve().parents[1] / "bot" / "domain")
# The key of an action call (besides Rasa's own) that carries the digest of Rasa's domain.
DIGEST_KEY = "domain_digest"


def domain_digest(domain: dict[str, Any]) -> str:
    """A digest of a domain as Rasa serialises it (`Domain.as_dict()`), the same on both sides."""
    canonical = json.dumps(domain, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def served_domain() -> tuple[dict[str, Any], str]:
    """The domain of DOMAIN_PATH exactly as Rasa loads it, and its digest (loaded once)."""
    from rasa.shared.core.domain import Domain  # only here: the action modules themselves never need Rasa

    domain = Domain.load(str(DOMAIN_PATH)).as_dict()
    return domain, domain_digest(domain)


_reported: set[str] = set()


def complete(action_call: dict[str, Any]) -> dict[str, Any]:
    """The action call with a domain: Rasa's own when it sent one, else the served domain."""
    if action_call.get("domain"):
        return action_call
    domain, digest = served_domain()
    sent = action_call.get(DIGEST_KEY)
    if sent and sent != digest and sent not in _reported:
        _reported.add(sent)
        logger.error("Rasa's domain (digest %s) differs from the action server's (%s, digest %s; GE_DOMAIN_PATH "
                     "sets it): retrain the model from these files, or give the action server the model's",
                     sent, DOMAIN_PATH, digest)
    return {**action_call, "domain": domain}
