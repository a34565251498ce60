"""The intake flow: file applications from intake files, one task run per file (all or nothing each)."""

from dataclasses import asdict
from pathlib import Path

import anyio
from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact
from pydantic import BaseModel, Field

from tasks.intake import intake_file


class Problem(BaseModel):
    """One field-level problem of an intake file, as the applicant is told."""

    field: str
    zh: str
    en: str
    file: str | None = None
    row: int | None = None


class FileOutcome(BaseModel):
    """One intake file: the references filed, or the problems that stopped it."""

    path: str
    filed: list[str] = Field(default_factory=list)
    errors: list[Problem] = Field(default_factory=list)


class IntakeSummary(BaseModel):
    """Every file of one intake run."""

    files: list[FileOutcome] = Field(default_factory=list)

    @property
    def filed(self) -> list[str]:
        return [ref for f in self.files for ref in f.filed]

    @property
    def refused(self) -> list[str]:
        return [f.path for f in self.files if f.errors]


def outcome_of(result) -> FileOutcome:
    """Turn a `tasks.intake.IntakeResult` into what the flow returns."""
    return FileOutcome(path=str(result.path), filed=[a.reference for a in result.filed],
                       errors=[Problem(**asdict(e)) for e in result.errors])


@task
async def file_intake(path: str, campaign: str | None = None) -> FileOutcome:
    """Check and file every application of one intake file (nothing from it if any problem)."""
    result = await anyio.to_thread.run_sync(lambda: intake_file(Path(path), campaign_slug=campaign))
    return outcome_of(result)


def cell(text: str) -> str:
    """Keep a value inside its Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def summary_markdown(summary: IntakeSummary) -> str:
    """Render the run's outcome for the Prefect UI."""
    lines = ["| 文件 file | 受理 filed | 问题 problems |", "|---|---|---|"]
    for f in summary.files:
        problems = "<br>".join(cell(f"[{e.field}] {e.zh} / {e.en}") for e in f.errors[:20])
        more = f"<br>… (+{len(f.errors) - 20})" if len(f.errors) > 20 else ""
        lines.append(f"| {cell(Path(f.path).name)} | {', '.join(f.filed) or '—'} | {problems + more or '—'} |")
    return "\n".join(lines)


@flow(persist_result=False)
async def intake(paths: list[str], campaign: str | None = None) -> IntakeSummary:
    """File the applications in each intake file; report the references or the field errors."""
    summary = IntakeSummary()
    for path in paths:
        summary.files.append(await file_intake(path, campaign))
    await acreate_markdown_artifact(key="intake-summary", markdown=summary_markdown(summary),
                                    description="申报受理 / intake")
    return summary


__all__ = ["FileOutcome", "IntakeSummary", "Problem", "intake"]
