"""Property-based tests (Hypothesis): the frame parsers and the chat services under random use.

1. Whatever text arrives on a socket, the parsers answer with a frame or a FrameError, nothing
   else; what they let through the database can store; their errors can be sent back.
2. A state machine drives random sequences of asker and helper actions (start, resume,
   message, end, accept_next, writing into chats that are not yours, disconnects and the
   sweep) against chats/services.py, and after every step checks what the people involved
   rely on: an asker is in at most one chat, queue positions are 1..n without gaps, a helper
   sees only their own chats, nothing is accepted for an ended chat, and message ids run
   1..n without gaps.
"""

import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chats import asking, protocol, services, sweeps, taking
from chats.models import AddressCounter, Bar, Chat, DutySession, Message
from chats.protocol import FrameError
from chats.services import ChatError

PARSERS = [protocol.parse_asker_frame, protocol.parse_helper_frame, protocol.parse_group_frame]
TYPES = sorted({*protocol.ASKER_FRAMES, *protocol.HELPER_FRAMES, *protocol.GROUP_FRAMES})
FIELDS = [
    "language", "code", "token", "text", "client_id", "chat", "service", "topics",
    "follow_up_at", "note", "session", "id", "nickname", "invite", "hours", "paused",
]  # fmt: skip

# Any code point, lone surrogates and NUL included: what a hostile client can put in JSON.
any_text = st.text(st.characters(exclude_categories=()), max_size=60)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.floats()
    | any_text
    | st.sampled_from(["fi", "vakivalta", "2030-01-01T12:00", "", " ", "\x00"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | any_text | json_values},
    optional={name: json_values for name in FIELDS},
)


def _parse(parser, text):
    try:
        return parser(text)
    except FrameError as error:
        # The answer goes back over the socket as UTF-8 JSON: it must encode.
        protocol.dumps(error.as_frame()).encode()
        return None


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(raw=st.text(st.characters(exclude_categories=()), max_size=300) | st.none())
@hypothesis_settings(max_examples=300)
def test_any_text_gives_a_frame_or_a_frame_error(parser, raw):
    _parse(parser, raw)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(frame=frames | json_values)
@hypothesis_settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_gives_a_frame_or_a_frame_error_and_only_storable_text(parser, frame):
    parsed = _parse(parser, json.dumps(frame, ensure_ascii=False))
    if parsed is None:
        return
    assert isinstance(parsed.type, str)
    for value in parsed.fields.values():
        for text in _strings(value):
            assert "\x00" not in text
            text.encode()  # no lone surrogates: PostgreSQL and the socket both need UTF-8
        if isinstance(value, int) and not isinstance(value, bool):
            assert 0 < value < 2**63  # fits a database integer


@given(raw=st.binary(max_size=200))
def test_binary_frames_and_undecodable_bytes_are_refused(raw):
    for parser in PARSERS:
        assert _parse(parser, None) is None
        _parse(parser, raw.decode("utf-8", errors="surrogateescape"))


# --- The chat services under random use -----------------------------------------------------------

SLUG = "vakivalta"
ASKERS = 4
ADDRESSES = ["203.0.113.1", "203.0.113.2", "2001:db8::1"]


class ChatServices(RuleBasedStateMachine):
    """The model: which asker holds which chat, who took it, and which chats have ended."""

    helpers: list = []  # set by the test: HelperProfiles of the line

    chat_ids = Bundle("chat_ids")

    @initialize(waiting=st.integers(0, ASKERS), taken=st.integers(0, 2))
    def a_busy_moment(self, waiting, taken):
        """A fresh service with a few askers queued, some of them already with a helper."""
        Chat.objects.all().delete()
        for model in (AddressCounter, Bar, DutySession):
            model.objects.all().delete()
        self.now = timezone.now()
        self.chats = {}  # chat id -> {"asker", "token", "ip", "helper", "last_seq"}
        self.holding = {}  # asker -> chat id
        self.connected_askers = set()
        self.ended = set()
        self.old_tokens = []
        self.on_duty = set()
        self.starts = {}  # (limit key, hour) -> chats started
        for helper in self.helpers:
            self._duty(helper, True)
        for asker in range(waiting):
            ip = f"198.51.100.{asker}"
            answer = asking.enqueue_asker(SLUG, language="fi", ip=ip, now=self.now)
            self.chats[answer.chat_id] = {
                "asker": asker, "token": answer.frames[0]["token"], "ip": ip, "helper": None,
                "last_seq": 0,
            }  # fmt: skip
            self.holding[asker] = answer.chat_id
            self.connected_askers.add(asker)
        for helper in self.helpers[:taken]:
            if chat_id := taking.accept_next(helper, SLUG, now=self.now).chat_id:
                self.chats[chat_id]["helper"] = helper.pk

    def _tick(self, seconds=1):
        self.now += timedelta(seconds=seconds)

    def _duty(self, helper, on: bool):
        channel = f"test.{helper.pk}"
        if on:
            services.start_duty(helper, channel, now=self.now)
            self.on_duty.add(helper.pk)
        else:
            services.end_duty(channel, now=self.now)
            self.on_duty.discard(helper.pk)

    def _end(self, chat_id):
        self.ended.add(chat_id)
        chat = self.chats.pop(chat_id)
        self.old_tokens.append((chat_id, chat["token"]))
        self.holding.pop(chat["asker"], None)

    def _expect(self, code, call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except ChatError as error:
            assert error.code == code, (error.code, error.message)
        else:
            raise AssertionError(f"{call.__name__} accepted what it must refuse ({code})")

    # Askers ---------------------------------------------------------------------------------------

    def _holder(self, data):
        return data.draw(st.sampled_from(sorted(self.holding)), label="asker")

    # One chat per connection: the consumer refuses a second `start`, so only free askers start.
    @precondition(lambda self: len(self.holding) < ASKERS)
    @rule(data=st.data(), language=st.sampled_from(protocol.LANGUAGES))
    def start(self, data, language):
        free = sorted(set(range(ASKERS)) - set(self.holding))
        asker = data.draw(st.sampled_from(free), label="asker")
        self._tick()
        ip = ADDRESSES[asker % len(ADDRESSES)]
        key = (services_limit_key(ip), self.now.replace(minute=0, second=0, microsecond=0))
        open_here = sum(1 for c in self.chats.values() if c["ip"] == ip)
        if (
            open_here >= django_settings.CHAT_MAX_OPEN_PER_ADDRESS
            or self.starts.get(key, 0) >= django_settings.CHAT_MAX_STARTS_PER_HOUR
        ):
            return self._expect(
                "rate_limited", asking.enqueue_asker, SLUG, language=language, ip=ip, now=self.now
            )
        answer = asking.enqueue_asker(SLUG, language=language, ip=ip, now=self.now)
        [queued] = answer.frames
        assert queued["type"] == "queued"
        assert queued["position"] == Chat.objects.general_queue(answer.chat.line_id).count()
        self.starts[key] = self.starts.get(key, 0) + 1
        self.chats[answer.chat_id] = {
            "asker": asker, "token": queued["token"], "ip": ip, "helper": None, "last_seq": 0,
        }  # fmt: skip
        self.holding[asker] = answer.chat_id
        self.connected_askers.add(asker)

    @precondition(lambda self: self.holding)
    @rule(data=st.data())
    def resume(self, data):
        asker = self._holder(data)
        chat_id = self.holding[asker]
        answer = asking.resume_chat(self.chats[chat_id]["token"], now=self.now)
        assert answer.chat_id == chat_id
        ids = [m["id"] for m in answer.frames[0]["messages"]]
        assert ids == list(range(1, len(ids) + 1))
        state = answer.frames[-1]["type"]
        assert state == ("assigned" if self.chats[chat_id]["helper"] else "position")
        self.connected_askers.add(asker)

    @rule(token=st.text(max_size=40))
    def resume_a_guessed_token(self, token):
        self._expect("not_found", asking.resume_chat, token, now=self.now)

    @precondition(lambda self: self.old_tokens)
    @rule(pick=st.integers(0, 100))
    def an_ended_chat_accepts_nothing(self, pick):
        chat_id, token = self.old_tokens[pick % len(self.old_tokens)]
        self._expect("not_found", asking.resume_chat, token, now=self.now)
        self._expect("not_found", services.post_message, chat_id, "asker", "vieläkö?")

    @precondition(lambda self: self.holding)
    @rule(data=st.data(), text=st.sampled_from(["hei", "apua", "ööö 🙂", "<b>x</b>"]))
    def asker_writes(self, data, text):
        chat_id = self.holding[self._holder(data)]
        self._tick()
        message = services.post_message(chat_id, "asker", text, now=self.now)
        chat = self.chats[chat_id]
        assert message.seq == chat["last_seq"] + 1
        chat["last_seq"] = message.seq

    @precondition(lambda self: self.holding)
    @rule(target=chat_ids, data=st.data())
    def asker_ends(self, data):
        chat_id = self.holding[self._holder(data)]
        assert services.end_chat(chat_id, by="asker", now=self.now)
        self._end(chat_id)
        return chat_id

    @precondition(lambda self: self.holding)
    @rule(data=st.data(), back=st.booleans())
    def asker_vanishes_or_comes_back(self, data, back):
        asker = self._holder(data)
        if back:
            self.connected_askers.add(asker)
        else:
            self.connected_askers.discard(asker)

    # Helpers --------------------------------------------------------------------------------------

    @precondition(lambda self: self.helpers)
    @rule(target=chat_ids, index=st.integers(0, 2))
    def helper_accepts(self, index):
        helper = self.helpers[index % len(self.helpers)]
        if helper.pk not in self.on_duty:
            return -1
        self._tick()
        queue = Chat.objects.general_queue(self.helpers[0].lines.get(slug=SLUG).pk)
        expected = queue.values_list("pk", flat=True).first()
        answer = taking.accept_next(helper, SLUG, now=self.now)
        assert answer.chat_id == expected  # the longest waiting, or `empty` for nobody
        if expected is None:
            assert answer.frames[0]["type"] == "empty"
            return -1
        assert answer.chat_id not in self.ended
        self.chats[expected]["helper"] = helper.pk
        return expected

    @rule(index=st.integers(0, 2), chat_id=chat_ids, text=st.sampled_from(["hei", "moi"]))
    def helper_writes_anywhere(self, index, chat_id, text):
        helper = self.helpers[index % len(self.helpers)]
        chat = self.chats.get(chat_id)
        if chat is None or chat["helper"] != helper.pk:
            # Ended, never existed, still queued, or another helper's: refused, nothing stored.
            before = Message.objects.count()
            self._expect("not_found", services.post_message, chat_id, "helper", text, helper=helper)
            assert Message.objects.count() == before
            return
        self._tick()
        message = services.post_message(chat_id, "helper", text, helper=helper, now=self.now)
        assert message.seq == chat["last_seq"] + 1
        chat["last_seq"] = message.seq

    @rule(index=st.integers(0, 2), chat_id=chat_ids)
    def helper_ends_anywhere(self, index, chat_id):
        helper = self.helpers[index % len(self.helpers)]
        chat = self.chats.get(chat_id)
        if chat is None or chat["helper"] != helper.pk:
            self._expect("not_found", services.end_chat_by_helper, helper, chat_id, [])
            return
        services.end_chat_by_helper(helper, chat_id, [], now=self.now)
        self._end(chat_id)

    @precondition(lambda self: self.on_duty)
    @rule(data=st.data())
    def helper_goes(self, data):
        on_duty = [helper for helper in self.helpers if helper.pk in self.on_duty]
        self._duty(data.draw(st.sampled_from(on_duty), label="helper"), False)

    @precondition(lambda self: len(self.on_duty) < len(self.helpers))
    @rule(data=st.data())
    def helper_comes_back(self, data):
        away = [helper for helper in self.helpers if helper.pk not in self.on_duty]
        self._duty(data.draw(st.sampled_from(away), label="helper"), True)

    @rule()
    def time_passes_and_the_sweep_runs(self):
        self._tick(int(max(django_settings.CHAT_ASKER_GRACE_SECONDS, 60)) + 1)
        for chat_id, chat in self.chats.items():
            if chat["asker"] in self.connected_askers:
                services.touch_asker(chat_id, now=self.now)
        for helper in self.helpers:
            if helper.pk in self.on_duty:
                services.touch_duty(f"test.{helper.pk}", now=self.now)
        sweeps.sweep(now=self.now)
        for chat_id, chat in list(self.chats.items()):
            if chat["asker"] not in self.connected_askers:
                self._end(chat_id)  # the asker's grace is over: the chat ended
            elif chat["helper"] is not None and chat["helper"] not in self.on_duty:
                chat["helper"] = None  # back to the front of the queue
                chat["last_seq"] += 1  # the system's notice to the asker

    # What must always hold ------------------------------------------------------------------------

    @invariant()
    def the_database_has_exactly_the_live_chats(self):
        live = dict(Chat.objects.values_list("pk", "helper_id"))
        assert set(live) == set(self.chats)
        for chat_id, chat in self.chats.items():
            assert live[chat_id] == chat["helper"]

    @invariant()
    def an_asker_is_in_at_most_one_chat(self):
        holders = [chat["asker"] for chat in self.chats.values()]
        assert len(holders) == len(set(holders))
        tokens = list(Chat.objects.values_list("token", flat=True))
        assert len(tokens) == len(set(tokens))

    @invariant()
    def queue_positions_run_from_one_without_gaps(self):
        if not self.helpers:
            return
        line_id = self.helpers[0].lines.get(slug=SLUG).pk
        queue = list(Chat.objects.general_queue(line_id))
        assert [asking.position_of(chat) for chat in queue] == list(range(1, len(queue) + 1))

    @invariant()
    def a_helper_sees_only_their_own_chats(self):
        for helper in self.helpers:
            seen = {chat.pk for chat in services.helper_chats(helper)}
            assert seen == {i for i, c in self.chats.items() if c["helper"] == helper.pk}

    @invariant()
    def nothing_remains_or_is_accepted_for_an_ended_chat(self):
        assert not Message.objects.filter(chat_id__in=self.ended).exists()
        assert not Chat.objects.filter(pk__in=self.ended).exists()

    @invariant()
    def message_ids_run_from_one_without_gaps(self):
        for chat_id, chat in self.chats.items():
            seqs = list(Message.objects.filter(chat_id=chat_id).values_list("seq", flat=True))
            assert seqs == list(range(1, chat["last_seq"] + 1))

    @invariant()
    def no_address_holds_more_than_its_share(self):
        for ip in ADDRESSES:
            held = sum(1 for chat in self.chats.values() if chat["ip"] == ip)
            assert held <= django_settings.CHAT_MAX_OPEN_PER_ADDRESS


def services_limit_key(ip: str) -> str:
    from verkkoapu.security import limit_key

    return limit_key(ip)


@pytest.mark.django_db
def test_random_sequences_of_chat_actions_keep_every_promise(open_line, make_helper, settings):
    # Helpers' own limit on chats at once (chats/duty.py) is not what this machine models.
    settings.CHAT_MAX_CHATS_PEER = settings.CHAT_MAX_CHATS_PROFESSIONAL = 100
    ChatServices.helpers = [make_helper(), make_helper(role="peer"), make_helper()]
    run_state_machine_as_test(
        ChatServices,
        settings=hypothesis_settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
