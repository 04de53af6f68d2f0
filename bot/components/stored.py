"""The part of a trainable NLU component that Rasa's graph dictates: configuration, and one trained
state kept in the component's resource of the model storage (written by `train`, read by `load`).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)


class StoredComponent(GraphComponent):
    """A component with a configuration and one trained state (joblib unless a subclass says)."""

    STATE_FILE = "state.joblib"
    # What a model without this component's state does (logged when it loads).
    WITHOUT_STATE = "working without its trained state"

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 state: Any = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.use_state(state)

    @abstractmethod
    def use_state(self, state: Any) -> None:
        """Take a trained state (None: nothing trained)."""

    @classmethod
    def read_state(cls, path: Path) -> Any:
        return joblib.load(path)

    @classmethod
    def write_state(cls, path: Path, state: Any) -> None:
        joblib.dump(state, path)

    def store(self, state: Any) -> Resource:
        """Keep a newly trained state, in use and in the model."""
        with self._model_storage.write_to(self._resource) as directory:
            self.write_state(directory / self.STATE_FILE, state)
        self.use_state(state)
        return self._resource

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> GraphComponent:
        try:
            with model_storage.read_from(resource) as directory:
                state = cls.read_state(directory / cls.STATE_FILE)
        except ValueError:  # Rasa's "resource not found": the component was never trained
            logger.warning("%s: no trained state in the model, %s", cls.__name__, cls.WITHOUT_STATE)
            state = None
        return cls(config, model_storage, resource, state)
