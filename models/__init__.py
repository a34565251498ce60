"""SQLModel tables of tuijian; importing this package registers every table."""

from models.application import Application, Attachment
from models.audit import AuditHead, AuditLog
from models.campaign import Campaign, Person, Unit
from models.document import Document, LetterNumber
from models.entry import Entry
from models.outbox import Message
from models.score import ConflictOfInterest, Score
from models.stage import ApprovalCode, Stage

__all__ = [
    "Application", "ApprovalCode", "Attachment", "AuditHead", "AuditLog", "Campaign", "ConflictOfInterest",
    "Document", "Entry", "LetterNumber", "Message", "Person", "Score", "Stage", "Unit",
]
