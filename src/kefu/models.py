"""Imports every domain's models so the metadata is complete (Alembic, test set-up)."""

from kefu.accounts import models as accounts_models
from kefu.channels.email import models as email_models
from kefu.chat import models as chat_models
from kefu.contacts import models as contacts_models
from kefu.core import audit, jobs
from kefu.core.db import Base
from kefu.integrations.exchange import models as exchange_models
from kefu.kb import models as kb_models
from kefu.macros import models as macros_models
from kefu.security import channels as channels_models
from kefu.tickets import feed as feed_models
from kefu.tickets import models as tickets_models
from kefu.triage import models as triage_models

metadata = Base.metadata
__all__ = [
    "accounts_models", "audit", "channels_models", "chat_models", "contacts_models", "email_models",
    "exchange_models", "feed_models",
    "jobs", "kb_models", "macros_models", "metadata", "tickets_models", "triage_models",
]
