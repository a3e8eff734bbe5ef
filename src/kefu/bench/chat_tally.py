"""What `kefu bench chat` counts, from the frames its clients receive; no I/O here.

Everything is judged per logical conversation, across its sockets (a customer who drops
and reconnects is still one conversation):

- lost: a message a customer sent (echoed, or only written before a drop and resent
  after it, as the widget resends) that never came back in its chat's numbered stream;
  a customer message of an agent's chat the agent's socket never received; an agent's
  reply the customer never saw.
- duplicated: a raw frame repeating a seq or a client_id the customer already saw, or a
  customer message the agent's socket received twice. After the dedupe the server
  promises (docs/chat.md), every one of them is a bug.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection

MAX_SAMPLES = 8


@dataclass
class Tally:
    bot_latencies: list[float] = field(default_factory=list)  # seconds
    relay_latencies: list[float] = field(default_factory=list)
    # When each timed message was sent (perf_counter), in the order of the latencies.
    bot_sent: list[float] = field(default_factory=list)
    relay_sent_times: list[float] = field(default_factory=list)
    bot_asked: int = 0
    bot_untimed: int = 0  # answered on a later socket, after a drop
    bot_skipped: int = 0  # no bot-owned chat free to ask at that moment
    handovers: int = 0  # bot chats that went to the queue (a question's answer)
    relay_sent: int = 0
    relay_untimed: int = 0  # resent after a drop, or read from history: not timed
    relay_caught_up: int = 0  # the agent read them from history, not live
    agent_reconnects: int = 0
    relay_skipped: int = 0
    agent_replies: int = 0
    message_frames: int = 0
    chat_frames: int = 0  # state frames: owner, queue position and wait
    error_frames: int = 0
    agent_reloads: int = 0
    handoff_errors: int = 0  # handoffs answered with an error though the chat moved
    drops: int = 0
    unplanned_closes: int = 0
    reconnect_failures: int = 0
    ramp_failures: int = 0
    duplicated: dict[str, int] = field(default_factory=dict)  # seq, client_id, agent
    close_codes: dict[str, int] = field(default_factory=dict)  # of unplanned closes
    samples: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(text[:200])

    def duplicate(self, kind: str, detail: str) -> None:
        self.duplicated[kind] = self.duplicated.get(kind, 0) + 1
        self.problem(f"duplicate {kind}: {detail}")

    def closed(self, ws: ClientConnection) -> None:
        self.unplanned_closes += 1
        code = str(ws.close_code)
        self.close_codes[code] = self.close_codes.get(code, 0) + 1


class Customer:
    """One widget: its chat, its socket, and what it sent and saw."""

    def __init__(self, token: str, chat_id: int, *, relay: bool) -> None:
        self.token, self.chat_id, self.relay = token, chat_id, relay
        self.ws: ClientConnection | None = None
        self.generation = 0  # sockets opened so far; a reply is timed on its own socket
        self.last_seq = 0
        self.seqs: set[int] = set()
        self.client_ids: set[str] = set()
        self.sent: dict[str, str] = {}  # every client id sent on this chat -> text
        self.pending: dict[str, str] = {}  # sent, echo not seen yet: resent on reconnect
        self.expected: set[str] = set()  # agents' replies this chat must show
        self.bot_owned = not relay
        self.waiting: tuple[float, int] | None = None  # a question: sent at, on socket
        self.pong: Any = None  # an asyncio.Event while a ping waits

    @property
    def free_for_bot(self) -> bool:
        return self.ws is not None and self.bot_owned and self.waiting is None

    def send(self, client_id: str, text: str) -> None:
        self.sent[client_id] = self.pending[client_id] = text

    def ask(self, client_id: str, text: str) -> None:
        self.send(client_id, text)
        self.waiting = (time.perf_counter(), self.generation)

    def on_frame(self, frame: dict[str, Any], tally: Tally) -> None:
        kind = frame.get("type")
        if kind == "message":
            self.on_message(frame["message"], tally)
        elif kind == "chat":
            tally.chat_frames += 1
            owner = frame["chat"].get("owner")
            if owner is not None and owner != "bot" and self.bot_owned:
                self.bot_owned = False
                tally.handovers += not self.relay
        elif kind == "pong" and self.pong is not None:
            self.pong.set()
        elif kind == "error":
            tally.error_frames += 1
            tally.problem(f"error frame: {frame.get('message')}")

    def on_message(self, message: dict[str, Any], tally: Tally) -> None:
        tally.message_frames += 1
        seq = int(message["seq"])
        if seq in self.seqs:
            tally.duplicate("seq", f"chat {self.chat_id} seq {seq} (socket {self.generation})")
        self.seqs.add(seq)
        self.last_seq = max(self.last_seq, seq)
        client_id = message.get("client_id")
        if client_id:
            if client_id in self.client_ids:
                tally.duplicate("client_id", f"chat {self.chat_id} {client_id} seq {seq} "
                                f"(socket {self.generation})")
            self.client_ids.add(client_id)
            self.pending.pop(client_id, None)
        # The bot's answer, or the system's handover notice: the next one after a question.
        if self.waiting is not None and message.get("author") in ("bot", "system"):
            sent_at, socket = self.waiting
            self.waiting = None
            if socket == self.generation:
                tally.bot_latencies.append(time.perf_counter() - sent_at)
                tally.bot_sent.append(sent_at)
            else:
                tally.bot_untimed += 1

    def missing(self) -> int:
        """What this customer sent that its stream never showed."""
        return len(self.sent.keys() - self.client_ids)

    def replies_missing(self) -> int:
        return len(self.expected - self.client_ids)


class Agent:
    """An agent's console: an HTTP session and the console WebSocket."""

    def __init__(self, email: str, password: str) -> None:
        self.email, self.password = email, password
        self.http: Any = None  # httpx.AsyncClient once signed in
        self.cookie = ""
        self.ws: ClientConnection | None = None
        self.chats: dict[int, Customer] = {}
        # Replies sent and not yet heard back on the console socket: resent after a
        # reconnect, as a console would (the server keeps one per client id).
        self.pending: dict[str, tuple[int, str]] = {}

    def on_own_message(self, message: dict[str, Any]) -> None:
        client_id = str(message.get("client_id") or "")
        if client_id.startswith("agent-"):
            self.pending.pop(client_id.removeprefix("agent-"), None)


class RelayLedger:
    """Customer messages of the agents' chats: sent when, received by an agent or not."""

    def __init__(self) -> None:
        self.chat_of: dict[str, int] = {}  # client id -> chat
        self.sent_at: dict[str, float] = {}  # client id -> when, until received
        self.seen: dict[tuple[int, str], int] = {}  # (chat, client id) -> seq, any way
        self.live: set[tuple[int, str]] = set()  # received as a frame on a socket

    def sent(self, client_id: str, chat_id: int) -> None:
        self.chat_of[client_id] = chat_id
        self.sent_at[client_id] = time.perf_counter()

    def untime(self, client_ids: list[str], tally: Tally) -> None:
        """Pending when their socket dropped: they are resent, so not timed."""
        for client_id in client_ids:
            if self.sent_at.pop(client_id, None) is not None:
                tally.relay_untimed += 1

    def received(self, chat_id: int, client_id: str, seq: int, tally: Tally) -> bool:
        """True the first time an agent's socket receives this message."""
        key = (chat_id, client_id)
        if key in self.live:
            tally.duplicate("agent", f"chat {chat_id} {client_id} seq {seq}, before seq "
                            f"{self.seen[key]}")
            return False
        self.live.add(key)
        if key in self.seen:  # read back from the history first; this frame came late
            return True
        self.seen[key] = seq
        sent_at = self.sent_at.pop(client_id, None)
        if sent_at is not None:
            tally.relay_latencies.append(time.perf_counter() - sent_at)
            tally.relay_sent_times.append(sent_at)
        return True

    def caught_up(self, chat_id: int, client_id: str, seq: int, tally: Tally) -> None:
        """Read from the history after a reconnect or a reload: delivered, not timed, and
        not a duplicate frame when seen live as well."""
        if (chat_id, client_id) not in self.seen:
            self.seen[(chat_id, client_id)] = seq
            if self.sent_at.pop(client_id, None) is not None:
                tally.relay_untimed += 1
                tally.relay_caught_up += 1

    def undelivered(self) -> int:
        return sum((chat, cid) not in self.seen for cid, chat in self.chat_of.items())
