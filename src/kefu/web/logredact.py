"""The chat WebSocket carries the visitor's bearer token in its query string (browsers
cannot set headers on a WebSocket); uvicorn logs that path. This filter takes the token
out of every uvicorn log line, so a log file holds no usable credential."""

import logging
import re

_TOKEN = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN.sub(r"\1[redacted]", record.msg)
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Idempotent: a logger keeps one copy of a given filter."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(_FILTER)
