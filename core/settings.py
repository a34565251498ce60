"""One settings object, read lazily from the environment (prefix TUIJIAN_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where things live and how to reach the outside world."""

    model_config = SettingsConfigDict(env_prefix="TUIJIAN_", extra="ignore")

    home: Path = PROJECT_ROOT
    database_url: SecretStr | None = None  # may carry a password: masked in repr, dumps and logs
    out_dir: Path | None = None
    campaigns_dir: Path = PROJECT_ROOT / "campaigns"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_block: str | None = None  # name of a Prefect Secret block
    smtp_sender: str = "tuijian@localhost"
    smtp_timeout: float = 10.0

    prefect_ui_url: str = "http://127.0.0.1:4200"
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8800

    def __repr_args__(self):
        """Show the database URL with its password masked (never the password itself)."""
        for name, value in super().__repr_args__():
            yield name, (masked_url(value.get_secret_value()) if name == "database_url" and value else value)

    @property
    def var_dir(self) -> Path:
        return self.home / "var"

    @property
    def output_dir(self) -> Path:
        return self.out_dir or (self.home / "out")

    @property
    def attachments_dir(self) -> Path:
        return self.var_dir / "attachments"

    @property
    def db_url(self) -> str:
        """The database URL in full (password included): for the engine, never for display."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.var_dir / 'tuijian.db'}"


def masked_url(url: str) -> str:
    """A database URL fit to show: its password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "***"  # not a URL we can parse: show nothing of it


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; call `get_settings.cache_clear()` after env changes)."""
    return Settings()
