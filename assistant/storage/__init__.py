"""Storage for running the assistant as a service: one database, one module per kind of record.

``Database.open(settings.database)`` connects and migrates; the stores take the ``Database``.
"""

from .accounts import AccountStore, User
from .conversations import ConversationStore, Feedback, Interaction
from .curated import CuratedRecord, CuratedStore
from .database import Database, local_day, utcnow
from .reviews import ReviewStore

__all__ = [
    "AccountStore",
    "ConversationStore",
    "CuratedRecord",
    "CuratedStore",
    "Database",
    "Feedback",
    "Interaction",
    "ReviewStore",
    "User",
    "local_day",
    "utcnow",
]
