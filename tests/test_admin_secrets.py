"""The admin runs the service; it never shows an asker's secrets nor lets anyone test them.

Issue 18, finding 1: `?pk=N&token__startswith=…` on the live chats answered 1 row or 0, so a
coordinator read a resume token (and the address, and the handover note) a character at a time.
These tests walk every registered ModelAdmin, logged in as a coordinator and as a superuser, and
every field that holds an asker's secret (chats/admin_base.py: ASKER_SECRETS), reached from the
admin's own model or through its relations, with every kind of lookup, a search, the
autocomplete and the pages of each object: a value that matches and one that does not must get
the same answer (a refusal is the same answer).
"""

import re
from datetime import timedelta
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chats.accounts import create_coordinator
from chats.admin_base import ASKER_SECRETS, NOT_SECRET, admin_secret_errors
from chats.followups import code_hash
from chats.models import (
    AddressCounter,
    Bar,
    Chat,
    CodeGuess,
    EnrolmentCode,
    FollowUp,
    GroupMessage,
    GroupParticipant,
    GroupSession,
    Message,
)
from letters.models import Letter, Thread
from verkkoapu.security import address_hash

PROJECT_APPS = ("chats", "scheduling", "stats", "feedback", "letters")
# A field whose name has one of these parts (or an address or free-text field) must be classified.
SECRET_LOOKING = {
    "token",
    "ip",
    "hash",
    "text",
    "note",
    "code",
    "address",
    "invite",
    "nickname",
    "key",
    "secret",
    "password",
    "session",
    "agent",
    "pinned",
}

ASKER_IP = "203.0.113.77"
TOKEN = "Kq7TsecretTokenOfTheAsker4fZ2"
NOTE = "Kaisa tuntee tilanteen, puhelinnumero 040"
TEXT = "Minun nimeni on Salainen Asukas ja asun Kalliossa"
CLIENT_ID = "client-7c41e2"
FOLLOW_UP_NOTE = "Seuraavalla kerralla puhutaan isästä"
NICKNAME = "sammakko_salainen"
GROUP_TEXT = "Ryhmässä sanottu salaisuus 93"
CODE = "KALA-7719-AHVEN"
LETTER_CODE = "hauki-kuha-lahna-sarki-salakka-made"
LETTER_TEXT = "Kirjeessä kerrottu salaisuus 41"
ENROLMENT_HASH = "e7c3" + "5a" * 30

# Lookups a prober would try; each with a value that matches and one that does not.
SUFFIXES = ["", "__exact", "__iexact", "__startswith", "__istartswith", "__contains", "__regex"]
SUFFIXES += ["__in", "__gt", "__isnull"]
SPAN_SUFFIXES = ["__startswith", "__regex"]


def probe_values(value: str, suffix: str) -> tuple[str, str]:
    other = "198.51.100.9" if value == ASKER_IP else "~" + value[1:]
    if suffix in ("__startswith", "__istartswith"):
        return value[:4], other[:4]
    if suffix == "__contains":
        return value[2:6], "~~~~"
    if suffix == "__regex":
        return "^" + re.escape(value[:4]), "^" + re.escape(other[:4])
    if suffix == "__gt":
        return "", "~~~~"
    if suffix == "__isnull":
        return "False", "True"
    return value, other


@pytest.fixture
def asker_secrets(lines, make_helper):
    """One of every kind of asker data, with values a page or an answer would give away."""
    line = lines["vakivalta"]
    helper = make_helper()
    now = timezone.now()
    chat = Chat.objects.create(
        line=line,
        status=Chat.Status.ACTIVE,
        token=TOKEN,
        asker_ip=ASKER_IP,
        helper=helper,
        queued_at=now,
        assigned_at=now,
        asker_seen_at=now,
        transfer_note=NOTE,
        transfer_from=helper,
        transfer_offered_at=now,
    )
    Message.objects.create(
        chat=chat, seq=1, sender="asker", text=TEXT, sent_at=now, client_id=CLIENT_ID
    )
    hashed = address_hash(ASKER_IP)
    Bar.objects.create(
        address_hash=hashed, line=line, until=now + timedelta(hours=1), created_at=now
    )
    AddressCounter.objects.create(kind="start", address_hash=hashed, window_start=now, count=1)
    CodeGuess.objects.create(address_hash=hashed, window_start=now, count=1)
    FollowUp.objects.create(
        line=line,
        helper=helper,
        code_hash=code_hash(CODE),
        at=now + timedelta(days=2),
        expires_at=now + timedelta(days=2, hours=2),
        note=FOLLOW_UP_NOTE,
        chat=chat,
        created_at=now,
    )
    session = GroupSession.objects.create(
        line=line, title="Vertaisryhmä", starts_at=now, ends_at=now + timedelta(hours=1)
    )
    GroupParticipant.objects.create(
        session=session, nickname=NICKNAME, address_hash=hashed, joined_at=now, seen_at=now
    )
    GroupMessage.objects.create(
        session=session, seq=1, nickname=NICKNAME, role="participant", text=GROUP_TEXT, sent_at=now
    )
    values = {
        ("chats.chat", "token"): TOKEN,
        ("chats.chat", "asker_ip"): ASKER_IP,
        ("chats.chat", "transfer_note"): NOTE,
        ("chats.message", "text"): TEXT,
        ("chats.message", "client_id"): CLIENT_ID,
        ("chats.bar", "address_hash"): hashed,
        ("chats.addresscounter", "address_hash"): hashed,
        ("chats.codeguess", "address_hash"): hashed,
        ("chats.followup", "code_hash"): code_hash(CODE),
        ("chats.followup", "note"): FOLLOW_UP_NOTE,
        ("chats.groupparticipant", "address_hash"): hashed,
        ("chats.groupparticipant", "nickname"): NICKNAME,
        ("chats.groupmessage", "text"): GROUP_TEXT,
        ("chats.groupmessage", "nickname"): NICKNAME,
        ("letters.thread", "code_hash"): code_hash(LETTER_CODE),
        ("letters.letter", "text"): LETTER_TEXT,
        ("chats.enrolmentcode", "code_hash"): ENROLMENT_HASH,
    }
    thread = Thread.objects.create(
        line=line, code_hash=code_hash(LETTER_CODE), created_at=now, last_activity_at=now
    )
    Letter.objects.create(thread=thread, sender="asker", text=LETTER_TEXT, written_at=now)
    EnrolmentCode.objects.create(
        user=helper.user, code_hash=ENROLMENT_HASH, created_at=now, expires_at=now
    )
    declared = {(label, name) for label, names in ASKER_SECRETS.items() for name in names}
    assert declared == set(values), "every declared secret has a value in this fixture"
    return {"chat": chat, "values": values}


@pytest.fixture(params=["coordinator", "superuser"])
def staff(request, db):
    if request.param == "coordinator":
        user = create_coordinator("koordinaattori", "Pitkä-salasana-2026")
    else:
        user = get_user_model().objects.create_superuser("paakayttaja", password="Pitkä-2026-x")
    client = Client()
    client.force_login(user)
    return client


def secret_paths(model, depth=2):
    """Every lookup path from `model` to a secret field: local, or across up to `depth` hops."""
    found = []

    def walk(current, prefix, hops):
        label = current._meta.label_lower
        for name in ASKER_SECRETS.get(label, ()):
            found.append((prefix + name, (label, name)))
        if hops == depth:
            return
        for field in current._meta.get_fields():
            if field.is_relation and field.related_model is not None:
                walk(field.related_model, f"{prefix}{field.name}__", hops + 1)

    walk(model, "", 0)
    return found


def normalised(response, probe: str) -> tuple[int, str, str]:
    """Status, redirect and page, with the probe's own echo (in a field or a link) taken out."""
    forms = [f for f in {probe, quote(probe), quote_plus(probe), quote_html(probe)} if f]

    def unecho(attribute):
        text = attribute.group(0)
        for form in forms:
            text = text.replace(form, "PROBE")
        return text

    body = response.content.decode(errors="replace")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    body = re.sub(r'(?:value|href)="[^"]*"', unecho, body)
    return response.status_code, response.get("Location", ""), body


def quote_html(value: str) -> str:
    from django.utils.html import escape

    return escape(value)


def rows_found(response) -> tuple[int, list[str]]:
    """What a search found: the status and the rows listed (their change links, in order)."""
    body = response.content.decode(errors="replace")
    return response.status_code, re.findall(r'href="([^"?]*/change/)', body)


def answers_differ(client, url, params_of, compare=None) -> str | None:
    """The two answers when the probe's matching and non-matching values give different ones."""
    (match, match_params), (other, other_params) = params_of
    first = client.get(f"{url}?{urlencode(match_params)}")
    second = client.get(f"{url}?{urlencode(other_params)}")
    if compare is not None:
        a, b = compare(first), compare(second)
    else:
        a, b = normalised(first, match), normalised(second, other)
    if a != b:
        return f"{url}?{urlencode(match_params)} answers {a[0]} but {b[0]} when it does not match"
    return None


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def changelist_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


# --- Every field is classified -------------------------------------------------------------------


def test_every_secret_looking_field_is_classified():
    """A new field named like a token, an address, a hash, a text or a note must be declared."""
    unclassified = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation:
                continue
            parts = set(field.name.split("_"))
            looks = bool(parts & SECRET_LOOKING) or isinstance(
                field, (models.TextField, models.GenericIPAddressField)
            )
            known = ASKER_SECRETS.get(label, set()) | NOT_SECRET.get(label, set())
            if looks and field.name not in known:
                unclassified.append(f"{label}.{field.name}")
    assert unclassified == [], (
        "Classify these in chats/admin_base.py (ASKER_SECRETS or NOT_SECRET): "
        + ", ".join(unclassified)
    )
    for label, names in {**ASKER_SECRETS, **NOT_SECRET}.items():
        model = apps.get_model(label)
        for name in names:
            model._meta.get_field(name)  # no typo in the declaration


def test_no_registered_admin_displays_filters_searches_or_orders_by_a_secret():
    assert [str(error) for error in admin_secret_errors()] == []
    for model, model_admin in registered():
        columns = []
        for item in model_admin.list_display:
            attr = item if callable(item) else getattr(model_admin, item, None)
            columns.append(getattr(attr, "admin_order_field", None) or item)
        names = [
            *columns,
            *(model_admin.ordering or ()),
            *(s.lstrip("^=@") for s in model_admin.search_fields or ()),
        ]
        secret = {path for path, _ in secret_paths(model, depth=3)}
        for name in names:
            if isinstance(name, str):
                path = name.lstrip("-")
                assert path not in secret, (
                    f"{model._meta.label} orders, lists or searches by {path}"
                )


# --- Lookups on the changelists -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.timeout(900)  # a walk of hundreds of requests on a shared machine
def test_no_lookup_on_a_secret_changes_the_answer(asker_secrets, staff):
    """From every registered admin, on the secret's own model or across relations."""
    chat = asker_secrets["chat"]
    differ = []
    for model, _ in registered():
        url = changelist_url(model)
        for path, secret in secret_paths(model):
            local = "__" not in path
            for suffix in SUFFIXES if local else SPAN_SUFFIXES:
                match, other = probe_values(asker_secrets["values"][secret], suffix)
                key = path + suffix
                extra = {"pk": chat.pk} if model is Chat else {}
                pairs = [(match, {**extra, key: match}), (other, {**extra, key: other})]
                found = answers_differ(staff, url, pairs)
                if found:
                    differ.append(found)
    assert differ == [], "\n".join(differ)


@pytest.mark.django_db
def test_the_probe_of_the_report_is_refused(asker_secrets, staff):
    """?pk=N&token__startswith=… (and the address, the note) answers 400 whatever the value."""
    url = changelist_url(Chat)
    chat = asker_secrets["chat"]
    for field, value in [("token", TOKEN), ("asker_ip", ASKER_IP), ("transfer_note", NOTE)]:
        for prefix in (value[:2], "~~"):
            answer = staff.get(url, {"pk": chat.pk, f"{field}__startswith": prefix})
            assert answer.status_code == 400, (field, answer.status_code)
    message_url = changelist_url(Message) if Message in admin.site._registry else None
    assert message_url is None, "messages have no admin page"


@pytest.mark.django_db
def test_declared_filters_still_work(asker_secrets, staff):
    """Refusing undeclared lookups leaves the coordinators' own filters working."""
    chat = asker_secrets["chat"]
    url = changelist_url(Chat)
    found = staff.get(url, {"line__id__exact": chat.line_id, "status__exact": "active"})
    assert found.status_code == 200 and f"/{chat.pk}/change/" in found.content.decode()
    other = staff.get(url, {"status__exact": "queued"})
    assert other.status_code == 200 and f"/{chat.pk}/change/" not in other.content.decode()
    rota = staff.get(changelist_url(apps.get_model("scheduling.shiftbooking")), {"debrief": "held"})
    assert rota.status_code == 200
    assert staff.get(url, {"pk": chat.pk}).status_code == 400  # undeclared, even a harmless one


# --- Search and autocomplete ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.timeout(900)  # a walk of hundreds of requests on a shared machine
def test_no_search_or_autocomplete_finds_a_secret(asker_secrets, staff):
    differ = []
    for model, model_admin in registered():
        if not (model_admin.search_fields or model_admin.autocomplete_fields):
            continue  # ?q= is not read at all
        for value in sorted(set(asker_secrets["values"].values())):
            for match, other in [(value, "~" + value[1:]), (value[:10], "~" * 10)]:
                pairs = [(match, {"q": match}), (other, {"q": other})]
                found = answers_differ(staff, changelist_url(model), pairs, rows_found)
                if found:
                    differ.append(found)
                for field_name in model_admin.autocomplete_fields:
                    base = {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                    }
                    found = answers_differ(
                        staff,
                        reverse("admin:autocomplete"),
                        [(match, {**base, "term": match}), (other, {**base, "term": other})],
                        lambda answer: (answer.status_code, answer.content),
                    )
                    if found:
                        differ.append(found)
    assert differ == [], "\n".join(differ)


# --- The pages of each object -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.timeout(900)  # a walk of hundreds of requests on a shared machine
def test_no_admin_page_shows_a_secret(asker_secrets, staff):
    """The list, change, history and delete pages of every object, and the admin's own pages."""
    from django.utils.html import escape

    urls = [reverse("admin:index")]
    for model, model_admin in registered():
        url = changelist_url(model)
        urls.append(url)
        urls.append(f"{url}?_changelist_filters={quote('token__startswith=' + TOKEN[:3])}")
        info = model._meta.app_label, model._meta.model_name
        for pk in model.objects.values_list("pk", flat=True)[:5]:
            for view in ("change", "history", "delete"):
                try:
                    urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[pk]))
                except Exception:  # no such page for this model
                    pass
        for pattern in model_admin.get_urls():
            if (
                pattern.name
                and not pattern.pattern.converters
                and pattern.name.endswith(("rota", "commitment"))
            ):
                urls.append(reverse(f"admin:{pattern.name}"))
    for value in ("chat", "message", "bar", "groupparticipant", "followup"):
        urls.append(f"/admin/chats/{value}/")
    shown = []
    for url in urls:
        body = staff.get(url).content.decode(errors="replace")
        for secret, value in asker_secrets["values"].items():
            if value in body or escape(value) in body:
                shown.append(f"{url} shows {secret[0]}.{secret[1]}")
    assert shown == [], "\n".join(shown)
