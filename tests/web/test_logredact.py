"""A visitor's token in a logged WebSocket path is redacted."""

import logging

from kefu.web.logredact import RedactTokens


def test_the_token_is_taken_out_of_uvicorns_line() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5", "/chat/ws?token=kv_SECRET123&chat=4&after=0"),
                               None)
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert "kv_SECRET123" not in line and "token=[redacted]&chat=4" in line
