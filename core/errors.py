"""The one exception hierarchy of tuijian.

TuijianError
├── ValidationFailed   bad input; carries FieldError items (file, row, field, zh, en)
├── ConfigError        a campaign file that contradicts itself; carries the keys at fault
├── DeadlinePassed     something arrived after a stage's deadline
├── QuotaExceeded      a selection over a quota
├── NotAuthorized      an approval by someone who may not give it
├── NotFound           an unknown campaign, unit, stage or entry
└── Conflict           the action clashes with the current state (already running, already closed)

Messages users see are Chinese with English beside them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of one record."""

    field: str
    zh: str
    en: str
    file: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row) if p is not None)
        prefix = f"{where} " if where else ""
        return f"{prefix}[{self.field}] {self.zh} / {self.en}"


class TuijianError(Exception):
    """Base of every error tuijian raises on purpose."""

    def __init__(self, zh: str, en: str, **context: object) -> None:
        self.zh = zh
        self.en = en
        self.context = context
        super().__init__(f"{zh} / {en}")


class ValidationFailed(TuijianError):
    """Input was refused; `errors` lists every problem found, field by field."""

    def __init__(self, errors: list[FieldError], zh: str = "输入有误", en: str = "invalid input") -> None:
        self.errors = list(errors)
        super().__init__(f"{zh}（{len(self.errors)} 处）", f"{en} ({len(self.errors)} problems)")

    def __str__(self) -> str:
        return "\n".join([super().__str__(), *(f"  - {e}" for e in self.errors)])


class ConfigError(ValidationFailed):
    """A campaign file is inconsistent; each FieldError names the exact key."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors, zh="活动配置文件有误", en="campaign file is invalid")


class DeadlinePassed(TuijianError):
    """A submission or forward arrived after the receiving stage's deadline."""


class QuotaExceeded(TuijianError):
    """A selection would exceed a quota."""


class NotAuthorized(TuijianError):
    """An approval attempt by someone not entitled to it, or with a bad code."""


class NotFound(TuijianError):
    """A named campaign, unit, stage or entry does not exist."""


class Conflict(TuijianError):
    """The action clashes with the current state."""
