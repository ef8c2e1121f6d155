"""SQLModel tables, the engine and the transaction boundary."""

from sqlmodel import SQLModel

# Named constraints, set before any table is defined: SQLite migrations rebuild tables in
# batch mode, which can only drop or alter a constraint it can name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from models.account import Account, Contact  # noqa: E402  (after the naming convention)
from models.appeal import (  # noqa: E402
    Appeal,
    AppealState,
    AppealTranslation,
    AppealVersion,
    Disclosure,
    Signature,
)
from models.approval import Approval, ApprovalAction  # noqa: E402
from models.audit import Actor, AuditEntry  # noqa: E402
from models.database import Database  # noqa: E402
from models.incoming_update import IncomingUpdate  # noqa: E402
from models.invite import Invite  # noqa: E402
from models.join_request import JoinRequest, RequestState  # noqa: E402
from models.organisation import Organisation  # noqa: E402
from models.outbox import (  # noqa: E402
    Broadcast,
    BroadcastState,
    Delivery,
    OutboxKind,
    OutboxMessage,
    ProgressMessage,
)
from models.phase import Occasion, Phase, Reminder  # noqa: E402

__all__ = [
    "Account",
    "Actor",
    "Appeal",
    "AppealState",
    "AppealTranslation",
    "AppealVersion",
    "Approval",
    "ApprovalAction",
    "AuditEntry",
    "Broadcast",
    "BroadcastState",
    "Contact",
    "Database",
    "Delivery",
    "Disclosure",
    "IncomingUpdate",
    "Invite",
    "JoinRequest",
    "Occasion",
    "Organisation",
    "OutboxKind",
    "OutboxMessage",
    "Phase",
    "ProgressMessage",
    "Reminder",
    "RequestState",
    "Signature",
]
