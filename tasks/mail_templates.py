"""The mail templates: one Jinja2 environment over `templates/mail`, text + HTML per kind.

Each kind has `<name>.txt.j2` (which also sets `subject`) and `<name>.html.j2`. The
environment uses StrictUndefined (a missing variable fails the render) and escapes HTML
templates only.
"""

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.clock import fmt, fmt_cn_date
from core.settings import PROJECT_ROOT

MAIL_TEMPLATES = PROJECT_ROOT / "templates" / "mail"


@dataclass(frozen=True)
class Rendered:
    """A rendered message: one-line subject, plain text and HTML bodies."""

    subject: str
    text: str
    html: str


@lru_cache
def mail_env() -> Environment:
    """Return the one environment for mail templates."""
    env = Environment(
        loader=FileSystemLoader(MAIL_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = fmt
    env.filters["cn_date"] = fmt_cn_date
    return env


def render(name: str, **context: object) -> Rendered:
    """Render the subject, text and HTML of one kind of message."""
    env = mail_env()
    module = env.get_template(f"{name}.txt.j2").make_module(context)
    subject = " ".join(str(module.subject).split())
    html = env.get_template(f"{name}.html.j2").render(context)
    return Rendered(subject=subject, text=str(module), html=html)
