"""Askers and helpers that speak only the wire contract, and keep score of every message.

A chat (`Pair`) is watched from both ends. Each side keeps a transcript by message id (the
chat's sequence number, 1..n): a live `message` frame must carry exactly the next id, so a
duplicate or a gap on a connection is caught as it happens; a `history` after a reconnect may
repeat ids the side already has (that is the client's dedupe) but must agree with them. At the
end both transcripts must be identical and contiguous, and every message whose sender saw it
accepted must be in them exactly once.

Sockets that break reconnect on their own (to the next server when theirs is gone): an asker
sends `resume` with its token, a helper reopens `/ws/helper/` and gets its chats replayed.
"""

import asyncio
import http.cookiejar
import json
import random
import re
import time
import urllib.parse
import urllib.request
from collections import Counter, deque
from dataclasses import dataclass

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ORIGIN = "http://127.0.0.1"
FILLER = "Hei, tässä on viesti, jonka pituus on tavallisen chat-viestin luokkaa. " * 2
now = time.monotonic


async def open_ws(url: str, headers=None, ping: float | None = None, local_addr=None):
    return await connect(
        url,
        origin=ORIGIN,
        additional_headers=headers,
        compression=None,  # daphne offers none; the floor must not get it either
        proxy=None,
        open_timeout=10,
        ping_interval=ping,
        ping_timeout=ping * 1.5 if ping else None,
        close_timeout=2,
        max_size=2**23,
        max_queue=None,
        # Each asker has an address of its own (127.x.y.z): per-address limits see people, as
        # behind the real proxy, not one machine.
        local_addr=(local_addr, 0) if local_addr else None,
    )


# --- Scorekeeping --------------------------------------------------------------------------------


class Recorder:
    """Delivery latencies (send → the other side's receipt) with the moment of receipt."""

    def __init__(self):
        self.samples: list[tuple[float, float, bool]] = []  # (received at, latency, live)
        self.sent: list[float] = []
        self.errors: Counter = Counter()
        self.events: Counter = Counter()

    def window(self, start: float, end: float) -> dict:
        latencies = sorted(lat for at, lat, _ in self.samples if start <= at < end)
        sent = sum(1 for at in self.sent if start <= at < end)
        span = max(end - start, 1e-9)
        return {
            "delivered": len(latencies),
            "msgs_per_s": round(len(latencies) / span, 1),
            "sent_per_s": round(sent / span, 1),
            **percentiles(latencies),
        }


def percentiles(latencies: list[float]) -> dict:
    if not latencies:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}

    def rank(q):
        return latencies[min(len(latencies) - 1, max(0, int(q * len(latencies) + 0.999999) - 1))]

    return {
        "p50_ms": round(rank(0.50) * 1000, 1),
        "p99_ms": round(rank(0.99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


@dataclass
class Sent:
    role: str
    at: float
    delivered_at: float | None = None
    confirmed: bool = False
    rejected: str | None = None  # an error code the server answered instead
    in_flight_at_break: bool = False  # the sender's socket broke before any answer
    probe: asyncio.Future | None = None
    client_id: str = ""
    resent: int = 0


class Transcript:
    """One side's view of a chat: id -> text, checked frame by frame."""

    def __init__(self):
        self.texts: dict[int, str] = {}
        self.last = 0
        self.anomalies: Counter = Counter()

    def live(self, msg_id: int, text: str) -> bool:
        """A `message` frame; True if it is new to this side."""
        if msg_id == self.last + 1:
            self.texts[msg_id] = text
            self.last = msg_id
            return True
        if msg_id <= self.last:
            known = self.texts.get(msg_id)
            if known is None:  # arrived after a gap: out of order
                self.anomalies["reordered"] += 1
                self.texts[msg_id] = text
                return True
            self.anomalies["duplicate_frames" if known == text else "mismatched"] += 1
            return False
        self.anomalies["gaps"] += 1
        self.texts[msg_id] = text
        self.last = msg_id
        return True

    def history(self, messages: list[dict]) -> list[dict]:
        """A `history` frame; returns the messages new to this side."""
        fresh = []
        expected = 1
        for message in messages:
            msg_id, text = message["id"], message["text"]
            if msg_id != expected:
                self.anomalies["history_gaps"] += 1
            expected = msg_id + 1
            known = self.texts.get(msg_id)
            if known is not None:
                if known != text:
                    self.anomalies["mismatched"] += 1
                continue
            self.texts[msg_id] = text
            self.last = max(self.last, msg_id)
            fresh.append(message)
        return fresh


class Pair:
    """One chat, seen from both ends."""

    def __init__(self, run, idx: int):
        self.run, self.idx = run, idx
        self.hello = f"hello {idx} {random.getrandbits(32):08x}"
        self.asker: Asker | None = None
        self.helper: Helper | None = None
        self.chat_id: int | None = None
        self.sides = {"asker": Transcript(), "helper": Transcript()}
        self.sent: dict[str, Sent] = {}
        self.counter = 0
        self.ended = False
        self.resending = {"asker": asyncio.Lock(), "helper": asyncio.Lock()}

    def next_text(self, role: str) -> str:
        self.counter += 1
        return f"{self.idx}{role[0]}{self.counter} {FILLER[: 60 + self.counter % 40]}"

    def on_message(self, role: str, frame: dict, live: bool):
        """`role`'s socket received `frame` (live or out of a history)."""
        text, sender = frame["text"], frame["sender"]
        if live:
            fresh = self.sides[role].live(frame["id"], text)
        else:
            fresh = True  # Transcript.history already filtered
        if not fresh:
            return
        sent = self.sent.get(text)
        if sent is None:
            return  # a system message
        if sender == role:
            sent.confirmed = True
        elif text == self.hello:
            sent.delivered_at = now()  # the helper reads it in the history when taking the chat
        elif sent.delivered_at is None:
            at = now()
            sent.delivered_at = at
            self.run.recorder.samples.append((at, at - sent.at, live))
            if sent.probe is not None and not sent.probe.done():
                sent.probe.set_result(at)

    @property
    def ready(self) -> bool:
        return bool(self.asker and self.asker.ready and self.helper and self.helper.ready_for(self))

    async def say(self, role: str, probe: bool = False) -> Sent | None:
        side = self.asker if role == "asker" else self.helper
        if (
            self.ended
            or side is None
            or not (side.ready if role == "asker" else side.ready_for(self))
        ):
            self.run.recorder.events["skipped_not_ready"] += 1
            return None
        await self.resend(role)
        text = self.next_text(role)
        sent = Sent(role, now(), client_id=f"{self.idx}-{self.counter}")
        if probe:
            sent.probe = asyncio.get_running_loop().create_future()
        self.sent[text] = sent
        self.run.recorder.sent.append(sent.at)
        ok = await side.send_message(self, text, sent)
        return sent if ok else None

    async def resend(self, role: str):
        """As the widget and console do after a reconnect: send again, with the same
        `client_id`, what was sent and never answered; the server stores each one once."""
        side = self.asker if role == "asker" else self.helper
        async with self.resending[role]:
            for text, sent in list(self.sent.items()):
                if sent.role != role or not sent.in_flight_at_break or sent.confirmed:
                    continue
                if sent.rejected or not (side.ready if role == "asker" else side.ready_for(self)):
                    continue
                sent.in_flight_at_break = False
                sent.resent += 1
                self.run.recorder.events["resent_after_reconnect"] += 1
                await side.send_message(self, text, sent)

    async def say_hello(self):
        """The asker's first words: how the helper's console tells which asker it took."""
        sent = Sent("asker", now())
        self.sent[self.hello] = sent
        await self.asker.send_message(self, self.hello, sent)

    def converged(self) -> bool:
        a, h = self.sides["asker"], self.sides["helper"]
        if a.last != h.last or a.texts.keys() != h.texts.keys():
            return False
        for sent in self.sent.values():
            if sent.rejected or (sent.in_flight_at_break and not sent.confirmed):
                continue
            if not sent.confirmed or sent.delivered_at is None:
                return False
        return True

    def check(self) -> Counter:
        """Everything wrong with this chat once it is quiet (0 everywhere = perfect)."""
        issues = Counter()
        if self.asker is not None and self.asker.state == "lost":
            issues["askers_lost"] += 1  # `resume` answered not_found: the chat is gone
        a, h = self.sides["asker"], self.sides["helper"]
        for side in (a, h):
            issues.update(side.anomalies)
            if set(side.texts) != set(range(1, side.last + 1)):
                issues["missing_ids"] += side.last - len(side.texts)
        for msg_id in set(a.texts) | set(h.texts):
            if msg_id not in a.texts or msg_id not in h.texts:
                issues["lost"] += 1  # stored, but one side never got it
            elif a.texts[msg_id] != h.texts[msg_id]:
                issues["mismatched"] += 1
        stored = Counter(a.texts.values())
        for text, sent in self.sent.items():
            if stored[text] > 1:
                issues["duplicated"] += stored[text] - 1
            if stored[text]:
                continue
            if sent.rejected:
                issues[f"refused_{sent.rejected}"] += 1
            elif sent.in_flight_at_break:
                issues["unanswered_at_break"] += 1  # the sender never saw it accepted
            else:
                issues["lost"] += 1
        return issues


# --- Connections ---------------------------------------------------------------------------------


class Client:
    """A socket that reconnects by itself, trying its servers in turn."""

    role = "client"
    ping: float | None = None

    def __init__(self, run, urls: list[str]):
        self.run, self.urls = run, urls
        self.url_index = 0
        self.ws = None
        self.task: asyncio.Task | None = None
        self.closing = False
        self.connected = asyncio.Event()
        self.outstanding: deque = deque()  # requests awaiting their answer, in order
        self.broke_at: float | None = None
        self.outages: list[tuple[float, float]] = []
        self.connects = 0
        self.address: str | None = None
        run.clients.add(self)

    def headers(self):
        return None

    @property
    def path(self) -> str:
        raise NotImplementedError

    def begin(self):
        self.task = asyncio.get_running_loop().create_task(self._life())
        return self

    async def _life(self):
        delay = 0.1
        while not self.closing:
            url = self.urls[self.url_index % len(self.urls)] + self.path
            try:
                ws = await open_ws(url, self.headers(), self.ping, self.address)
            except Exception:
                self.run.recorder.events[f"{self.role}_connect_failed"] += 1
                self.url_index += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.1
            self.ws = ws
            self.connects += 1
            try:
                await self.opened()
                self.connected.set()
                async for raw in ws:
                    self.on_frame(json.loads(raw))
            except ConnectionClosed:
                pass
            except Exception as error:  # a bug in the benchmark itself: say so loudly
                self.run.recorder.events[f"client_error {type(error).__name__}: {error}"] += 1
            self.ws = None
            self.connected.clear()
            self.lost_connection()
            if self.closing:
                break
            if self.broke_at is None:
                self.broke_at = now()
            self.run.recorder.events[f"{self.role}_reconnects"] += 1

    async def opened(self):
        pass

    def lost_connection(self):
        # Whatever was sent and not yet answered may or may not have reached the server.
        for kind, payload in self.outstanding:
            if kind == "message":
                payload.in_flight_at_break = True
        self.outstanding.clear()

    def restored(self):
        if self.broke_at is not None:
            self.outages.append((self.broke_at, now()))
            self.broke_at = None
        loop = asyncio.get_running_loop()
        for pair in self.pairs():
            task = loop.create_task(pair.resend(self.role))
            self.run.background.add(task)
            task.add_done_callback(self.run.background.discard)

    def pairs(self):
        return []

    async def send(self, frame: dict) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps(frame))
            return True
        except ConnectionClosed:
            return False

    async def close(self):
        self.run.clients.discard(self)
        self.closing = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:
                pass
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass

    def on_frame(self, frame: dict):
        raise NotImplementedError

    def answered(self, kind: str, error: str | None = None):
        """The oldest outstanding request got its answer (the server answers in order)."""
        while self.outstanding:
            head_kind, payload = self.outstanding.popleft()
            if head_kind == kind or error:
                if error and head_kind == "message":
                    payload.rejected = error
                return payload
        return None


class Asker(Client):
    role = "asker"

    def __init__(self, run, pair: Pair, urls: list[str], slug: str):
        super().__init__(run, urls)
        self.pair, self.slug = pair, slug
        pair.asker = self
        self.token: str | None = None
        self.state = "new"
        self.resuming = False
        self.position: int | None = None
        self.queued_at: float | None = None
        self.assigned_count = 0
        self.assigned_at: float | None = None
        self.helper_name: str | None = None
        self.state_ready = asyncio.Event()
        self.ended_by: str | None = None
        self.address = run.next_address()

    @property
    def path(self):
        return f"/ws/ask/{self.slug}/"

    def pairs(self):
        return [self.pair]

    @property
    def ready(self) -> bool:
        return self.ws is not None and not self.resuming and self.state in ("queued", "assigned")

    async def opened(self):
        if self.token and self.state != "ended":
            self.resuming = True
            self.outstanding.append(("resume", None))
            await self.ws.send(json.dumps({"type": "resume", "token": self.token}))

    async def start(self):
        self.start_sent_at = now()
        self.outstanding.append(("start", None))
        await self.send({"type": "start", "language": "fi"})

    async def send_message(self, pair, text, sent) -> bool:
        self.outstanding.append(("message", sent))
        frame = {"type": "message", "text": text}
        if sent.client_id:
            frame["client_id"] = sent.client_id
        if not await self.send(frame):
            sent.in_flight_at_break = True
            return False
        return True

    async def end(self):
        await self.send({"type": "end"})

    def on_frame(self, frame: dict):
        kind = frame["type"]
        if kind == "message":
            if frame["sender"] == "asker" and frame["text"] in self.pair.sent:
                self._answer_message(frame["text"])
            self.pair.on_message("asker", frame, live=True)
        elif kind == "queued":
            self.answered("start")
            self.token, self.position, self.state = frame["token"], frame["position"], "queued"
            self.queued_at, self.queued_position = now(), frame["position"]
            self.state_ready.set()
        elif kind == "position":
            self.position = frame["position"]
            if self.resuming:
                self._resumed("queued")
        elif kind == "assigned":
            self.helper_name = frame["helper"]["name"]
            if self.resuming:
                self._resumed("assigned")
            else:
                self.assigned_count += 1
                self.assigned_at = now()
                self.state, self.position = "assigned", None
        elif kind == "history":
            for message in self.pair.sides["asker"].history(frame["messages"]):
                if message["sender"] == "asker" and message["text"] in self.pair.sent:
                    self._answer_message(message["text"])
                self.pair.on_message("asker", message, live=False)
        elif kind == "ended":
            self.state, self.ended_by = "ended", frame["by"]
        elif kind == "error":
            self.run.recorder.errors[f"asker:{frame['code']}"] += 1
            request = self.outstanding[0][0] if self.outstanding else None
            self.answered(request or "message", error=frame["code"])
            if request == "resume":
                self.resuming = False
                self.state = "lost"  # the chat is gone: an asker lost
            elif request == "start":
                self.state = f"refused {frame['code']}"
                self.state_ready.set()
        elif kind == "closed":
            self.answered("start")
            self.state = "closed"
            self.state_ready.set()

    def _answer_message(self, text):
        for i, (kind, payload) in enumerate(self.outstanding):
            if kind == "message" and self.pair.sent.get(text) is payload:
                del self.outstanding[i]
                return

    def _resumed(self, state: str):
        self.answered("resume")
        self.resuming = False
        self.state = state
        self.restored()


class Helper(Client):
    role = "helper"

    def __init__(self, run, username: str, password: str, urls: list[str], proxied=False):
        super().__init__(run, urls)
        self.username, self.password = username, password
        self.cookie: str | None = None
        self.chats: dict[int, Pair] = {}
        self.accepting: asyncio.Future | None = None
        self.pending_assigned: int | None = None
        self.replaying: set[int] = set()
        self.ping = 2.0 if proxied else None
        self.takes: list[dict] = []

    @property
    def path(self):
        return "/ws/helper/"

    def pairs(self):
        return list(self.chats.values())

    def headers(self):
        return {"Cookie": f"sessionid={self.cookie}"}

    def ready_for(self, pair) -> bool:
        return (
            self.ws is not None
            and pair.chat_id in self.chats
            and pair.chat_id not in self.replaying
        )

    async def opened(self):
        # The server replays `assigned` + `history` for each chat it still gives this helper.
        self.replaying = set(self.chats)
        if not self.replaying:
            self.restored()

    def login(self, http_base: str):
        """The contract's login: GET the form for its CSRF token, POST, keep the session cookie."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        url = f"{http_base}/accounts/login/"
        page = opener.open(url, timeout=60).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": self.username, "password": self.password, "csrfmiddlewaretoken": token}
        ).encode()
        opener.open(urllib.request.Request(url, body, {"Referer": url}), timeout=60).read()
        cookies = {cookie.name: cookie.value for cookie in jar}
        if "sessionid" not in cookies:
            raise RuntimeError(f"login of {self.username} failed")
        self.cookie = cookies["sessionid"]

    async def accept_next(self, slug: str) -> dict:
        """Send `accept_next`; the answer: {"pair": Pair|None, "sent": t, "answered": t}."""
        future = asyncio.get_running_loop().create_future()
        self.accepting = future
        self.outstanding.append(("accept", future))
        sent_at = now()
        if not await self.send({"type": "accept_next", "service": slug}):
            return {"pair": None, "sent": sent_at, "answered": now(), "error": "disconnected"}
        try:
            result = await asyncio.wait_for(future, 60)
        except TimeoutError:
            result = {"pair": None, "error": "timeout"}
        result.update(sent=sent_at, answered=now())
        self.takes.append(result)
        return result

    async def send_message(self, pair, text, sent) -> bool:
        self.outstanding.append(("message", sent))
        frame = {"type": "message", "chat": pair.chat_id, "text": text}
        if sent.client_id:
            frame["client_id"] = sent.client_id
        if not await self.send(frame):
            sent.in_flight_at_break = True
            return False
        return True

    async def end_chat(self, pair):
        await self.send({"type": "end", "chat": pair.chat_id, "topics": []})

    def _resolve_accept(self, result: dict):
        for i, (kind, _payload) in enumerate(self.outstanding):
            if kind == "accept":
                del self.outstanding[i]
                break
        if self.accepting is not None and not self.accepting.done():
            self.accepting.set_result(result)
        self.accepting = None

    def on_frame(self, frame: dict):
        kind = frame["type"]
        if kind == "message":
            pair = self.chats.get(frame["chat"])
            if pair is None:
                self.run.recorder.events["helper_message_for_unknown_chat"] += 1
                return
            if frame["sender"] == "helper" and frame["text"] in pair.sent:
                self._answer_message(pair, frame["text"])
            pair.on_message("helper", frame, live=True)
        elif kind == "assigned":
            if frame["chat"] not in self.chats:
                self.pending_assigned = frame["chat"]
        elif kind == "history":
            chat_id = frame["chat"]
            pair = self.chats.get(chat_id)
            if pair is None:
                pair = self._adopt(chat_id, frame["messages"])
                if pair is None:
                    return
            for message in pair.sides["helper"].history(frame["messages"]):
                if message["sender"] == "helper" and message["text"] in pair.sent:
                    self._answer_message(pair, message["text"])
                pair.on_message("helper", message, live=False)
            if chat_id in self.replaying:
                self.replaying.discard(chat_id)
                if not self.replaying:
                    self.restored()
        elif kind == "empty":
            self._resolve_accept({"pair": None, "empty": True})
        elif kind == "ended":
            pair = self.chats.pop(frame["chat"], None)
            if pair is not None:
                pair.ended = True
        elif kind == "error":
            self.run.recorder.errors[f"helper:{frame['code']}"] += 1
            request = self.outstanding[0][0] if self.outstanding else None
            if request == "accept":
                self._resolve_accept({"pair": None, "error": frame["code"]})
            else:
                self.answered("message", error=frame["code"])

    def _adopt(self, chat_id: int, messages: list[dict]) -> Pair | None:
        """A chat new to this helper: which asker is it? Its hello says."""
        self.pending_assigned = None
        hello = next((m["text"] for m in messages if m["sender"] == "asker"), None)
        pair = self.run.by_hello.get(hello)
        if pair is None:
            self.run.recorder.events["helper_got_unknown_chat"] += 1
            self._resolve_accept({"pair": None, "error": "unknown_chat", "chat": chat_id})
            return None
        if pair.helper is not None:
            self.run.recorder.events["chat_taken_twice"] += 1
        pair.helper, pair.chat_id = self, chat_id
        self.chats[chat_id] = pair
        self._resolve_accept({"pair": pair, "chat": chat_id})
        return pair

    def _answer_message(self, pair, text):
        for i, (kind, payload) in enumerate(self.outstanding):
            if kind == "message" and pair.sent.get(text) is payload:
                del self.outstanding[i]
                return


# --- Baseline clients: the relay and the echo floor ----------------------------------------------


class RawSide(Client):
    """One socket of a baseline pair: frames are {"text", "sender"}, fanned out by the server."""

    def __init__(self, run, pair: "RawPair", url: str, path: str, role: str):
        super().__init__(run, [url])
        self.pair, self._path, self.role = pair, path, role
        self.received = Counter()

    @property
    def path(self):
        return self._path

    @property
    def ready(self):
        return self.ws is not None

    def on_frame(self, frame: dict):
        self.pair.on_frame(self.role, frame)


class RawPair:
    def __init__(self, run, idx: int, url: str, prefix: str):
        self.run, self.idx = run, idx
        path = f"/{prefix}/{idx}/"
        self.asker = RawSide(run, self, url, path, "asker")
        self.helper = RawSide(run, self, url, path, "helper")
        self.sent: dict[str, Sent] = {}
        self.counter = 0
        self.numbers = {"asker": 0, "helper": 0}
        self.order = {"asker": {"asker": 0, "helper": 0}, "helper": {"asker": 0, "helper": 0}}
        self.issues = Counter()
        self.ended = False

    def next_text(self, role):
        self.counter += 1
        return f"{self.idx}{role[0]}{self.counter} {FILLER[: 60 + self.counter % 40]}"

    async def say(self, role: str, probe: bool = False):
        side = self.asker if role == "asker" else self.helper
        if not side.ready:
            self.run.recorder.events["skipped_not_ready"] += 1
            return None
        text = self.next_text(role)
        sent = Sent(role, now())
        self.sent[text] = sent
        self.run.recorder.sent.append(sent.at)
        self.numbers[role] += 1
        n = self.numbers[role]
        await side.send({"text": text, "sender": role, "n": n})
        return sent

    def on_frame(self, role: str, frame: dict):
        sender, text, n = frame["sender"], frame["text"], frame["n"]
        seen = self.order[role]
        if n != seen[sender] + 1:
            self.issues["reordered" if n <= seen[sender] else "gaps"] += 1
        seen[sender] = max(seen[sender], n)
        sent = self.sent.get(text)
        if sent is None:
            return
        if sender == role:
            sent.confirmed = True
        elif sent.delivered_at is None:
            at = now()
            sent.delivered_at = at
            self.run.recorder.samples.append((at, at - sent.at, True))

    def converged(self):
        return all(s.confirmed and s.delivered_at is not None for s in self.sent.values())

    def check(self) -> Counter:
        issues = Counter(self.issues)
        for sent in self.sent.values():
            if not sent.confirmed or sent.delivered_at is None:
                issues["lost"] += 1
        return issues
