"""Imports every module that registers a job handler, so any runner can run any job.

The web app and `kefu worker` both import this; a handler module missing here would make
its jobs die with "no handler" in a separate worker process.
"""

from kefu.channels import delivery as channel_delivery_jobs
from kefu.channels.email import intake as email_intake_jobs
from kefu.chat import adapter as chat_adapter
from kefu.integrations.exchange import jobs as exchange_jobs
from kefu.kb import index as kb_index_jobs
from kefu.notifications import service as notification_jobs

__all__ = ["channel_delivery_jobs", "chat_adapter", "email_intake_jobs", "exchange_jobs",
           "kb_index_jobs", "notification_jobs"]
