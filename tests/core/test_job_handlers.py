"""A separate `kefu worker` process must know every job kind the app enqueues."""

import subprocess
import sys


def test_a_fresh_worker_process_registers_every_job_kind() -> None:
    script = (
        "import kefu.job_handlers\n"
        "from kefu.core import jobs\n"
        "print(sorted(jobs._handlers))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    for kind in ("email.send", "exchange.freeze_account", "kb.reindex_article"):
        assert kind in out
