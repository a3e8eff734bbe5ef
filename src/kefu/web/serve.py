"""Serving Kefu with several web processes, each on its own listening socket.

uvicorn's --workers shares one socket, and each worker's event loop accepts every
connection pending when it wakes: a burst of keep-alive connections lands on one process
(8:0 and 7:1 splits of 8 clients seen by `kefu bench tickets`), whose core then caps the
desk while the other one idles. With SO_REUSEPORT every process listens on a socket of
its own and the kernel spreads new connections over them. Where the option is missing,
uvicorn's shared socket serves as before.

`python -m kefu.web.serve --workers N` is what `kefu run --workers N` and the ticket
benchmark start, each after migrating and seeding the database once: every worker's
start-up checks that too, and several doing it first on an empty database would race.
"""

import argparse
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

APP = "kefu.web.asgi:app"
# On SIGTERM uvicorn waits for open responses; a live console's stream never ends by
# itself, so after this long the rest are closed (browsers reconnect elsewhere).
GRACEFUL_SECONDS = 10


def serve(*, host: str, port: int, workers: int, access_log: bool = True) -> None:
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, host=host, port=port, workers=workers, log_level="info",
                    access_log=access_log, proxy_headers=False,
                    timeout_graceful_shutdown=GRACEFUL_SECONDS)
        return
    spawn = multiprocessing.get_context("spawn")

    def start() -> BaseProcess:
        process = spawn.Process(target=_worker, args=(host, port, access_log))
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        # A worker that died (out of memory, a crash) is replaced, as uvicorn does.
        processes = [p if p.is_alive() or stopping else start() for p in processes]
        time.sleep(0.5)
    for process in processes:
        process.join()


def _worker(host: str, port: int, access_log: bool) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    config = uvicorn.Config(APP, host=host, port=port, log_level="info",
                            access_log=access_log, proxy_headers=False,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    serve(host=args.host, port=args.port, workers=args.workers,
          access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
