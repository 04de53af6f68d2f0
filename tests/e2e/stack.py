"""Starts the real services (backend, action server, Rasa, web page) as local processes for the
end-to-end and browser tests, waits until each is ready, and stops them afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def latest_model() -> Path:
    models_dir = Path(os.environ.get("MODELS_DIR", ROOT / "models"))
    models = sorted(models_dir.glob("ge-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError(f"no trained model in {models_dir}: run scripts/train.sh")
    return models[-1]


@dataclass
class Stack:
    """The four services on free ports, with a database of their own."""

    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    backend_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    service_token: str = "e2e-service-token"
    services: tuple[str, ...] = ("backend", "actions", "rasa", "web")
    logs: Path = ARTIFACTS
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONHOME"))}
        env.update(
            DATABASE_URL=self.database_url,
            SERVICE_TOKEN=self.service_token,
            BACKEND_URL=self.backend_url,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.actions_port}/webhook",
            PYTHONPATH=str(ROOT),
            BACKEND_PORT=str(self.backend_port),
            ACTIONS_PORT=str(self.actions_port),
            RASA_PORT=str(self.rasa_port),
            WEB_PORT=str(self.web_port),
            ENVIRONMENT="test",
            CORS_ORIGINS=f'["{self.web_url}", "http://localhost:{self.web_port}"]',
        )
        if "RASA_MODEL" not in self.extra_env:  # the newest model, unless the caller chose one
            env["RASA_MODEL"] = str(latest_model())
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str], cwd: Path) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self._procs.append(subprocess.Popen(args, cwd=cwd, env=self._env(), stdout=log, stderr=subprocess.STDOUT))

    def _wait(self, url: str, timeout: float, name: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name}: a service exited with {proc.returncode}; see {self.logs}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{name} was not ready at {url} after {timeout}s; see {self.logs}")

    def start(self) -> Stack:
        for service in self.services:
            self._spawn(service, ["bash", str(ROOT / "scripts" / "serve.sh"), service], ROOT)
        ready = {
            "backend": (f"{self.backend_url}/health", 180, "backend"),
            "actions": (f"http://127.0.0.1:{self.actions_port}/health", 120, "action server"),
            "rasa": (f"{self.rasa_url}/status", 240, "Rasa"),
            "web": (self.web_url, 30, "web page"),
        }
        for service in self.services:
            self._wait(*ready[service])
        return self

    def stop(self) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()

    def book(self, phone: str, *, slot: int = -1, language: str = "fr", channel: str = "web") -> str:
        """An appointment at Tanger made as the action server books one (POST /appointments with
        the service token), at the `slot`-th free time of the next two weeks; its reference."""
        api, headers = f"{self.backend_url}/api/v1", {"Authorization": f"Bearer {self.service_token}"}
        slots = httpx.get(f"{api}/agencies/tanger/slots", params={"service": "information_orientation", "days": 14},
                          timeout=10)
        slots.raise_for_status()
        body = {"full_name": "Salma Benali", "phone": phone, "agency_id": "tanger",
                "service": "information_orientation", "starts_at": slots.json()["slots"][slot]["starts_at"],
                "language": language, "channel": channel}
        booked = httpx.post(f"{api}/appointments", json=body, timeout=10,
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert booked.status_code == 201, booked.text
        return str(booked.json()["reference"])

    def say(self, sender: str, text: str, *, metadata: dict[str, object] | None = None) -> list[dict[str, object]]:
        """One user message through Rasa's REST channel; the bot's replies."""
        body: dict[str, object] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return list(response.json())
