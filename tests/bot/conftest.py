"""Shared fixtures of the bot's tests: the domain, the trained model's rule policy, and the stories
as trackers.

- `domain`: bot/domain, loaded by Rasa.
- `newest_model` (None without one) and `model` (fails without one): the newest trained model.
- `policy`: the IndexedRulePolicy of the newest model in $MODELS_DIR (fails without a model).
- `story_trackers`: every story of data/stories and tests/bot/stories as a complete tracker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RULES
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data import loading
from rasa.shared.core.training_data.structures import StoryGraph

from bot.policies import IndexedRulePolicy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


@pytest.fixture(scope="session")
def newest_model() -> Path | None:
    """The newest model in $MODELS_DIR (scripts/train.sh keeps it in step with its sources), or None."""
    models = sorted(Path(os.environ.get("MODELS_DIR", ROOT / "models")).glob("ge-*.tar.gz"),
                    key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@pytest.fixture(scope="session")
def model(newest_model: Path | None) -> Path:
    """The newest model; the test fails without one."""
    if newest_model is None:
        pytest.fail("no trained model: run scripts/train.sh")
    return newest_model


@pytest.fixture(scope="session")
def policy(tmp_path_factory: pytest.TempPathFactory, model: Path) -> IndexedRulePolicy:
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), model)
    nodes = {name: node for name, node in metadata.predict_schema.nodes.items()
             if node.uses is IndexedRulePolicy}
    assert len(nodes) == 1, "bot/config.yml should use bot.policies.IndexedRulePolicy"
    name, node = next(iter(nodes.items()))
    config = {**IndexedRulePolicy.get_default_config(), **node.config}
    loaded = IndexedRulePolicy.load(config, storage, Resource(node.resource.name),
                                    ExecutionContext(metadata.predict_schema, metadata.model_id, node_name=name))
    assert loaded.lookup[RULES], "the model has no rules"
    return loaded


@pytest.fixture(scope="session")
def story_trackers(domain: Domain) -> list[DialogueStateTracker]:
    files = [str(p) for folder in (ROOT / "data" / "stories", ROOT / "tests" / "bot" / "stories")
             for p in sorted(folder.glob("*.yml"))]
    steps = loading.load_data_from_files(files, domain)
    generator = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0, use_story_concatenation=False)
    return list(generator.generate())
