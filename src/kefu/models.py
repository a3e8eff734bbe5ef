"""Imports every domain's models so the metadata is complete (Alembic, test set-up)."""

from kefu.accounts import models as accounts_models
from kefu.contacts import models as contacts_models
from kefu.core import jobs
from kefu.core.db import Base
from kefu.security import audit
from kefu.tickets import models as tickets_models

metadata = Base.metadata
__all__ = ["accounts_models", "audit", "contacts_models", "jobs", "metadata", "tickets_models"]
