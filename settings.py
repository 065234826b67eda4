"""One settings object for the API, the worker and the launcher, read from environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    data_dir: Path = ROOT / "data"
    database_url: str = f"sqlite:///{ROOT / 'data' / 'readmodel.db'}"
    policy_file: Path = ROOT / "policies" / "express_carrier.yaml"
    tokens_file: Path = ROOT / "config" / "tokens.dev.yaml"
    # Notifications: email over SMTP, SMS through an HTTP gateway (a channel without one is skipped).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None  # e.g. "客服中心 <complaints@carrier.example>"
    sms_gateway_url: str | None = None
    sms_api_key: str | None = None
    notify_timeout_seconds: float = 10.0
    # Where a person's browser reaches the Web UI; by default beside the Temporal frontend.
    temporal_ui_public_url: str | None = None

    @property
    def temporal_ui_url(self) -> str:
        if self.temporal_ui_public_url:
            return self.temporal_ui_public_url.rstrip("/")
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
