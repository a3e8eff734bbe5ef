"""The email channel: team mailboxes in, threaded tickets, trusted mail out.

Raw first: every message that reaches a mailbox (the SMTP/LMTP receiver, `kefu mail
ingest`) is stored as it came (`RawEmail`, its bytes in the data folder) before anything
reads it; a job then parses it (`parser`), threads and routes it (`intake`). A parser
failure keeps the raw message, flagged and reprocessable.
"""
