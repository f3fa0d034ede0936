"""People's accounts: a coordinator cannot raise rights, nobody reads a TOTP key or a login
address in the admin, an authenticator is enrolled only with a one-time enrolment code (or,
to replace one, the password and a current code), and every change is in the audit log.

Each test plays the attacker of docs/security.md (issue 18, findings 2 and 3).
"""

import re
from base64 import b32encode
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from chats.accounts import create_coordinator, issue_enrolment_code
from chats.models import AuditEvent, EnrolmentCode

PASSWORD = "correct horse battery"
LOGIN_IP = "203.0.113.77"
SETUP = "/accounts/2fa/setup/"


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def code_for(key: bytes) -> str:
    return f"{totp(key):06d}"


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED = True


@pytest.fixture
def helper(make_helper):
    return make_helper()


@pytest.fixture
def coordinator(db):
    return create_coordinator("koordinaattori", PASSWORD)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("paakayttaja", "", PASSWORD)


def logged_in(user, device: TOTPDevice | None = None) -> Client:
    """A client logged in as `user`; with `device`, its session passed a code from it."""
    client = Client()
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def change_form(user, **changes) -> dict:
    """A complete POST of the user's change form, as the stock admin page would send it."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update(changes)
    return data


def setup_page(client: Client, query: str = ""):
    """GET the setup page: (the page, its signed secret, the key the QR code holds)."""
    page = client.get(SETUP + query)
    assert page.status_code == 200
    signed = re.search(r'name="secret" value="([^"]+)"', page.text)
    secret = signed.group(1) if signed else ""
    key_text = re.search(r'class="otp-secret">([A-Z2-7 ]+)<', page.text).group(1)
    from base64 import b32decode

    return page, secret, b32decode(key_text.replace(" ", ""))


# --- Finding 2: a coordinator makes itself superuser ----------------------------------------------


@pytest.mark.django_db
def test_a_coordinator_cannot_make_itself_or_anyone_superuser_staff_or_give_permissions(
    coordinator, helper
):
    client = logged_in(coordinator)
    own = client.get(f"/admin/auth/user/{coordinator.pk}/change/")
    assert own.status_code == 200
    for field in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{field}"' not in own.text  # no such box to tick
    every_permission = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    for target in (coordinator, helper.user):
        answer = client.post(
            f"/admin/auth/user/{target.pk}/change/",
            change_form(
                target, is_superuser="on", is_staff="on", user_permissions=every_permission
            ),
        )
        assert answer.status_code == 403
        target.refresh_from_db()
        assert not target.is_superuser and target.user_permissions.count() == 0
    helper.user.refresh_from_db()
    assert not helper.user.is_staff
    # What a coordinator may change still changes, and the rights stay as they were.
    answer = client.post(
        f"/admin/auth/user/{helper.user.pk}/change/", change_form(helper.user, first_name="Aino")
    )
    assert answer.status_code == 302
    helper.user.refresh_from_db()
    assert helper.user.first_name == "Aino" and not helper.user.is_staff


@pytest.mark.django_db
def test_a_coordinator_cannot_edit_delete_or_set_the_password_of_a_superuser(
    coordinator, superuser
):
    client = logged_in(coordinator)
    base = f"/admin/auth/user/{superuser.pk}"
    edited = client.post(f"{base}/change/", change_form(superuser, first_name="x"))
    new_password = {"password1": "another horse 12345", "password2": "another horse 12345"}
    password = client.post(f"{base}/password/", {**new_password, "usable_password": "true"})
    deleted = client.post(f"{base}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"},
    )
    assert (edited.status_code, password.status_code, deleted.status_code) == (403, 403, 403)
    assert bulk.status_code == 403
    superuser.refresh_from_db()
    assert superuser.first_name == "" and superuser.check_password(PASSWORD)
    # An enrolment code for a superuser's account is not theirs to give either.
    codes = client.post(
        "/admin/auth/user/",
        {"action": "issue_enrolment_codes", "_selected_action": [superuser.pk]},
    )
    assert codes.status_code == 200 and not EnrolmentCode.objects.filter(user=superuser).exists()


def _admin_pages(client: Client) -> list[str]:
    """Every registered model's list and the change page of its first row."""
    urls = []
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            )
    return urls


@pytest.mark.django_db
def test_no_totp_key_or_login_address_anywhere_in_the_admin(coordinator, superuser, helper):
    device = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    secrets = [device.key, b32encode(device.bin_key).decode(), LOGIN_IP]
    for kind in (AccessAttempt, AccessLog):
        extra = {"get_data": "", "post_data": "", "failures_since_start": 3}
        kind.objects.create(
            username=helper.user.username,
            ip_address=LOGIN_IP,
            user_agent="Mozilla",
            http_accept="*/*",
            path_info="/accounts/login/",
            **(extra if kind is AccessAttempt else {}),
        )
    for viewer in (coordinator, superuser):
        client = logged_in(viewer)
        for url in _admin_pages(client):
            page = client.get(url)
            assert page.status_code in (200, 302, 403), url
            for secret in secrets:
                assert secret not in page.content.decode(), (viewer.username, url)
        # Nor can a lookup in the address test a key or an address one character at a time.
        probes = [
            "/admin/axes/accessattempt/?ip_address__startswith=203",
            "/admin/axes/accesslog/?ip_address__startswith=203",
            f"/admin/otp_totp/totpdevice/?key__startswith={device.key[:2]}",
            "/admin/auth/user/?password__startswith=pbkdf2",
        ]
        for probe in probes:
            assert client.get(probe).status_code in (302, 400, 403), (viewer.username, probe)


# --- Finding 3: two-step login hijacked -----------------------------------------------------------


@pytest.mark.django_db
def test_looking_at_the_setup_page_writes_nothing(otp_required, helper):
    client = logged_in(helper.user)
    session_before = client.session.load()
    setup_page(client)
    setup_page(client, "?code=whatever")
    assert TOTPDevice.objects.count() == 0
    assert EnrolmentCode.objects.count() == 0
    assert client.session.load() == session_before


@pytest.mark.django_db
def test_a_first_authenticator_needs_an_enrolment_code(otp_required, helper):
    client = logged_in(helper.user)
    _page, secret, key = setup_page(client)
    refused = client.post(SETUP, {"code": code_for(key), "secret": secret})
    assert refused.status_code == 200 and "enrolment_code" in refused.context["form"].errors
    guessed = client.post(
        SETUP, {"code": code_for(key), "secret": secret, "enrolment_code": "guess"}
    )
    assert guessed.status_code == 200
    assert not TOTPDevice.objects.exists()
    assert client.get("/console/").status_code == 302  # still not through


@pytest.mark.django_db
def test_an_enrolment_code_works_once(otp_required, helper):
    code = issue_enrolment_code(helper.user)
    assert code not in str(list(EnrolmentCode.objects.values()))  # kept as a hash only
    client = logged_in(helper.user)
    page, secret, key = setup_page(client, f"?code={code}&next=/console/")
    assert f'value="{code}"' in page.text  # the link fills it in
    wrong = client.post(SETUP, {"code": "000000", "secret": secret, "enrolment_code": code})
    assert wrong.status_code == 200 and not TOTPDevice.objects.exists()
    right = client.post(
        SETUP,
        {"code": code_for(key), "secret": secret, "enrolment_code": code, "next": "/console/"},
    )
    assert right.status_code == 302 and right.url == "/console/"
    assert client.get("/console/").status_code == 200
    assert TOTPDevice.objects.filter(user=helper.user, confirmed=True).count() == 1
    # Someone else holding the same code and password gets nothing more out of it.
    other = logged_in(helper.user)
    _page, secret, key = setup_page(other)
    again = other.post(SETUP, {"code": code_for(key), "secret": secret, "enrolment_code": code})
    assert again.status_code == 200
    assert TOTPDevice.objects.filter(user=helper.user).count() == 1


@pytest.mark.django_db
def test_an_enrolment_code_expires(otp_required, helper, settings):
    settings.OTP_ENROLMENT_HOURS = 72
    code = issue_enrolment_code(helper.user)
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        client = logged_in(helper.user)
        _page, secret, key = setup_page(client)
        late = client.post(SETUP, {"code": code_for(key), "secret": secret, "enrolment_code": code})
    assert late.status_code == 200 and "enrolment_code" in late.context["form"].errors
    assert not TOTPDevice.objects.exists()


@pytest.mark.django_db
def test_replacing_the_authenticator_needs_the_password_and_a_current_code(otp_required, helper):
    old = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    client = logged_in(helper.user, device=old)  # a session that passed two-step login
    _page, secret, key = setup_page(client)
    attempts = [
        {},
        {"password": PASSWORD},
        {"current_code": code_of(old)},
        {"password": "wrong horse battery", "current_code": code_of(old)},
    ]
    for attempt in attempts:
        answer = client.post(SETUP, {"code": code_for(key), "secret": secret, **attempt})
        assert answer.status_code == 200, attempt
        assert list(TOTPDevice.objects.filter(user=helper.user)) == [old], attempt
    with time_machine.travel(timezone.now() + timedelta(seconds=40)):  # a new current code
        answer = client.post(
            SETUP,
            {
                "code": code_for(key),
                "secret": secret,
                "password": PASSWORD,
                "current_code": code_of(old),
            },
        )
    assert answer.status_code == 302
    (new,) = TOTPDevice.objects.filter(user=helper.user)
    assert new.pk != old.pk and new.confirmed and new.bin_key == key


@pytest.mark.django_db
def test_a_lost_phone_the_old_authenticator_stays_until_the_new_one_is_confirmed(
    otp_required, helper, capsys
):
    old = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    call_command("resetotp", helper.user.username)
    code = re.search(r"valid \d+ h\): (\S+)", capsys.readouterr().out).group(1)
    assert TOTPDevice.objects.filter(pk=old.pk).exists()  # still logs in
    client = logged_in(helper.user)  # password only: the verify page sends here with the code
    _page, secret, key = setup_page(client)
    wrong = client.post(SETUP, {"code": "000000", "secret": secret, "enrolment_code": code})
    assert wrong.status_code == 200
    assert list(TOTPDevice.objects.filter(user=helper.user)) == [old]
    right = client.post(SETUP, {"code": code_for(key), "secret": secret, "enrolment_code": code})
    assert right.status_code == 302
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.get(user=helper.user).bin_key == key


@pytest.mark.django_db
def test_the_commands_give_an_enrolment_code_only_with_two_step_login_on(lines, settings, capsys):
    call_command(
        "createhelper", "aino", "--password", PASSWORD, "--role", "peer",
        "--display-name", "Aino", "--service", "vakivalta",
    )  # fmt: skip
    assert "Enrolment code" not in capsys.readouterr().out  # the contract's flow, unchanged
    settings.OTP_REQUIRED = True
    call_command(
        "createhelper", "eino", "--password", PASSWORD, "--role", "peer",
        "--display-name", "Eino", "--service", "vakivalta",
    )  # fmt: skip
    call_command("createcoordinator", "kaisa", "--password", PASSWORD)
    out = capsys.readouterr().out
    codes = re.findall(r"valid 72 h\): (\S+) \(or, after logging in: /accounts/2fa/setup/", out)
    assert len(codes) == 2
    eino = get_user_model().objects.get(username="eino")
    client = logged_in(eino)
    _page, secret, key = setup_page(client, f"?code={codes[0]}")
    done = client.post(SETUP, {"code": code_for(key), "secret": secret, "enrolment_code": codes[0]})
    assert done.status_code == 302


@pytest.mark.django_db
def test_the_admin_action_gives_a_code_shown_once(coordinator, helper):
    client = logged_in(coordinator)
    page = client.post(
        "/admin/auth/user/",
        {"action": "issue_enrolment_codes", "_selected_action": [helper.user.pk]},
    )
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    link = re.search(r"http://testserver/accounts/2fa/setup/\?code=([\w-]+)", page.text)
    assert link and EnrolmentCode.objects.filter(user=helper.user).count() == 1


# --- The audit log ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_change_of_rights_password_or_authenticator_is_audited(
    coordinator, superuser, helper
):
    Action = AuditEvent.Action
    client = logged_in(coordinator)
    new_password = "another horse 12345"
    answer = client.post(
        f"/admin/auth/user/{helper.user.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert answer.status_code == 302
    device = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    client.post(
        "/admin/auth/user/",
        {"action": "replace_authenticators", "_selected_action": [helper.user.pk]},
    )
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    admin_client = logged_in(superuser)
    answer = admin_client.post(
        f"/admin/auth/user/{helper.user.pk}/change/",
        change_form(helper.user, is_staff="on", is_superuser="on"),
    )
    assert answer.status_code == 302
    name = helper.user.username
    events = list(AuditEvent.objects.order_by("pk").values_list("actor_name", "action", "detail"))
    assert ("koordinaattori", Action.PASSWORD, f"password of {name} set") in events
    assert ("paakayttaja", Action.RIGHTS, f"rights of {name}: superuser on, staff on") in events
    assert ("", Action.DEVICE, f"authenticator of {name} added (confirmed)") in events
    assert ("koordinaattori", Action.DEVICE, f"authenticator of {name} removed") in events
    assert ("koordinaattori", Action.ENROLMENT, f"enrolment code for {name}") in events
    for _who, _action, detail in events:
        assert new_password not in detail and device.key not in detail
    # Groups too, however they change (here by the command that makes a coordinator).
    create_coordinator("toinen", PASSWORD)
    assert AuditEvent.objects.filter(
        action=Action.RIGHTS, detail="rights: groups of toinen: +Coordinators"
    ).exists()


@pytest.mark.django_db
def test_deleting_an_account_is_audited_even_ones_own(superuser):
    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client = logged_in(superuser)
    answer = client.post(f"/admin/auth/user/{superuser.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not get_user_model().objects.filter(pk=superuser.pk).exists()
    details = set(AuditEvent.objects.values_list("detail", flat=True))
    assert {"account paakayttaja deleted", "authenticator of paakayttaja removed"} <= details
