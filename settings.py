"""One settings object for the API, the worker and the launcher, read from environment variables."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "complaints"
    temporal_ui_port: int = 8233
    worker_cached_workflows: int = 10_000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Prometheus: the worker's Temporal SDK metrics here (port 0: none); the API's at its own /metrics.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9464
    data_dir: Path = ROOT / "data"
    database_url: str = f"sqlite:///{ROOT / 'data' / 'readmodel.db'}"
    policy_file: Path = ROOT / "policies" / "express_carrier.yaml"
    tokens_file: Path = ROOT / "config" / "tokens.dev.yaml"
    # What one caller may send (api/limits.py): any request body; complaints and contacts filed per token
    # in a sliding window (0: no limit). Each API replica counts its own requests.
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    intake_rate_limit: int = Field(default=300, ge=0)
    intake_rate_window_seconds: float = Field(default=60, gt=0)
    # Page log-in (api/pages.py): a signed session cookie. Every API replica needs the same secret; without
    # one each process draws its own, and its sessions end when it stops.
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=8, gt=0, le=24 * 30)
    # Satisfaction survey links (api/surveys.py): signed with this secret (else SESSION_SECRET, else one drawn
    # per process: links then die with it), at this address as the customer's phone reaches the API.
    survey_secret: SecretStr | None = None
    survey_public_url: str | None = None
    # Notifications: email over SMTP, SMS through an HTTP gateway (a channel without one is skipped).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None  # e.g. "客服中心 <complaints@carrier.example>"
    sms_gateway_url: str | None = None
    sms_api_key: str | None = None
    notify_timeout_seconds: float = 10.0
    # Where a person's browser reaches the Web UI; by default beside the Temporal frontend.
    temporal_ui_public_url: str | None = None
    # How long the Temporal namespace keeps a closed workflow's history (which holds its payloads):
    # set on the namespace at start-up (ops/namespace.py); the read model is the record.
    temporal_retention_days: int = Field(default=30, gt=0, le=3650)
    # Payload encryption (protection/keys.py): the key ring as JSON, else read from the key file.
    payload_keys: SecretStr | None = None
    payload_keys_file: Path | None = None  # default: <data_dir>/payload-keys.json
    # The codec server (api/codec_server.py) the Web UI and the CLI decrypt payloads through.
    codec_server_port: int = 8234
    codec_server_public_url: str | None = None  # where a browser reaches it; by default beside the API host
    # Worker Versioning (docs/DESIGN.md "Deploying new workflow code"): off unless a deployment is
    # named, so `make run` and the tests run unversioned workers. The build id names this code: the
    # deploy sets it (image tag or commit); by default the git commit, else the package version.
    worker_deployment_name: str | None = None
    worker_build_id: str | None = None

    @property
    def temporal_ui_url(self) -> str:
        if self.temporal_ui_public_url:
            return self.temporal_ui_public_url.rstrip("/")
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    @property
    def survey_url(self) -> str:
        if self.survey_public_url:
            return self.survey_public_url.rstrip("/")
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def payload_key_ring_path(self) -> Path:
        return self.payload_keys_file or self.data_dir / "payload-keys.json"

    @property
    def codec_server_url(self) -> str:
        if self.codec_server_public_url:
            return self.codec_server_public_url.rstrip("/")
        return f"http://{self.api_host}:{self.codec_server_port}"

    @property
    def build_id(self) -> str:
        return self.worker_build_id or _git_commit() or version("complaint-desk")


def _git_commit() -> str | None:
    try:
        found = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (found.stdout.strip() or None) if found.returncode == 0 else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
