"""SQLModel tables of tuijian; importing this package registers every table."""

from models.application import Application, Attachment
from models.audit import AuditHead, AuditLog
from models.campaign import Campaign, Person, Unit
from models.document import Document, LetterNumber
from models.double_track import OnlineRegistration, PaperReceipt
from models.entry import Entry
from models.outbox import Message
from models.publicity import Objection, Publicity, TitleEvent
from models.score import ConflictOfInterest, Score
from models.stage import ApprovalCode, Stage

__all__ = [
    "Application", "ApprovalCode", "Attachment", "AuditHead", "AuditLog", "Campaign", "ConflictOfInterest",
    "Document", "Entry", "LetterNumber", "Message", "Objection", "OnlineRegistration", "PaperReceipt",
    "Person", "Publicity", "Score", "Stage", "TitleEvent", "Unit",
]
