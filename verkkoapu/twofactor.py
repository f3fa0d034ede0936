"""Two-factor authentication pages: set up an authenticator app, enter its code after login.

A helper or coordinator logs in with the password as before; with OTP_REQUIRED the console and
the admin then send them here (verkkoapu.security.RequireOTPMiddleware). Later logins ask for a
code; wrong codes slow down (django-otp's throttling).

Setting up an authenticator (docs/security.md) needs more than the password: the first one a
one-time enrolment code from a coordinator (createhelper, createcoordinator, resetotp, the
admin's action on users); replacing it the password and a code from the current one, or a new
enrolment code (a lost phone). The page's secret travels signed in the form, so looking at the
page writes nothing; the new device is saved only once its first code is right, and only then
does it replace the earlier ones. Every change is in the audit log (chats/audit.py).
"""

import secrets
import time
from base64 import b32encode

import segno
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from chats.accounts import spend_enrolment_code, valid_enrolment_code

SETUP_SALT = "verkkoapu.twofactor.setup"
SETUP_MAX_AGE = 3600  # seconds a setup page's secret stays usable


def six_digits(**kwargs):
    return forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("The code is six digits.")},
        **kwargs,
    )


class CodeForm(forms.Form):
    code = six_digits(
        label=_("Code from the authenticator app"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class SetupForm(CodeForm):
    """Who may enrol (an enrolment code, or the password and a current code) and the new code."""

    enrolment_code = forms.CharField(
        label=_("Enrolment code"),
        required=False,
        max_length=100,
        help_text=_("The one-time code or link a coordinator gave you."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    current_code = six_digits(
        label=_("Code from your current authenticator"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    secret = forms.CharField(widget=forms.HiddenInput, max_length=500)
    field_order = ["enrolment_code", "password", "current_code", "code", "secret"]

    def __init__(self, *args, replacing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not replacing:
            del self.fields["password"], self.fields["current_code"]
        self.fields["code"].label = _("Code from the new authenticator")
        self.fields["code"].widget.attrs.pop("autofocus", None)


def _next(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/console/" if hasattr(request.user, "helper") else "/admin/"


def _with_next(name: str, request) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def _new_secret(user) -> tuple[bytes, str]:
    key = secrets.token_bytes(20)
    return key, signing.dumps({"u": user.pk, "k": key.hex()}, salt=SETUP_SALT)


def _secret_of(user, signed: str) -> bytes | None:
    """The key a setup page showed this user (None if forged, someone else's or too old)."""
    try:
        data = signing.loads(signed, salt=SETUP_SALT, max_age=SETUP_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        return None
    return bytes.fromhex(data["k"])


def _current_code_right(user, code: str) -> bool:
    # verify_token counts wrong codes on the device (django-otp's throttle).
    return any(
        device.verify_token(code) for device in TOTPDevice.objects.filter(user=user, confirmed=True)
    )


def _entitled(request, form, replacing: bool):
    """(allowed, the enrolment code to spend or None); adds the form's error when refused."""
    user = request.user
    enrolment = valid_enrolment_code(user, form.cleaned_data["enrolment_code"])
    if enrolment is not None:
        return True, enrolment
    if form.cleaned_data["enrolment_code"]:
        form.add_error("enrolment_code", _("This enrolment code is not valid (used or expired)."))
        return False, None
    if not replacing:
        form.add_error(
            "enrolment_code", _("Enter the enrolment code a coordinator gave you for this.")
        )
        return False, None
    password, current = form.cleaned_data["password"], form.cleaned_data["current_code"]
    if not password or not current:
        form.add_error(
            None,
            _(
                "Enter your password and a code from your current authenticator, "
                "or an enrolment code from a coordinator."
            ),
        )
        return False, None
    # The current code first: a stolen session cannot guess the password here without it.
    if not _current_code_right(user, current.strip()):
        form.add_error("current_code", _("That code did not match. Try the newest code."))
        return False, None
    try:
        checked = authenticate(request, username=user.get_username(), password=password)
    except PermissionDenied:  # django-axes: locked out
        checked = None
    if checked is None or checked.pk != user.pk:
        form.add_error("password", _("The password is not right."))
        return False, None
    return True, None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Show a new secret as a QR code; with the right to enrol, its first code confirms it.

    A GET writes nothing: the secret is in the page (signed), the device is created only when
    its first code is right, and then it replaces the person's earlier ones.
    """
    user = request.user
    replacing = user_has_device(user, confirmed=True)
    form = SetupForm(
        request.POST or None,
        replacing=replacing,
        initial={"enrolment_code": request.GET.get("code", "")},
    )
    key = None
    if request.method == "POST" and form.is_valid():
        key = _secret_of(user, form.cleaned_data["secret"])
        allowed, enrolment = _entitled(request, form, replacing)
        if key is None:
            form.add_error(None, _("The page was open too long. Scan the new QR code."))
        elif allowed:
            device = _confirm(request, key, form.cleaned_data["code"], enrolment)
            if device is not None:
                otp_login(request, device)
                return redirect(_next(request))
            form.add_error("code", _("That code did not match. Check the phone's clock and retry."))
    elif request.method == "POST":
        key = _secret_of(user, request.POST.get("secret", ""))
    if key is None:
        key, signed = _new_secret(user)
    else:
        signed = signing.dumps({"u": user.pk, "k": key.hex()}, salt=SETUP_SALT)
    data = form.data.copy() if form.is_bound else None
    if data is not None:
        data["secret"] = signed
        form.data = data
    else:
        form.initial["secret"] = signed
    device = TOTPDevice(user=user, name="authenticator", key=key.hex())  # never saved here
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "next": _next(request),
        "qr_svg": mark_safe(qr.svg_inline(scale=5, light="#fff", title="QR")),  # noqa: S308
        "secret": " ".join(_groups(b32encode(key).decode())),
        "replacing": replacing,
    }
    return render(request, "security/otp_setup.html", context)


def _confirm(request, key: bytes, code: str, enrolment) -> TOTPDevice | None:
    """Save the new authenticator if `code` is its current one, spend the enrolment code, and
    only then remove the earlier authenticators; None if the code is wrong (nothing changes)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time()
    if not totp.verify(int(code), tolerance=1):
        return None
    user = request.user
    with transaction.atomic():
        if enrolment is not None and not spend_enrolment_code(enrolment):
            return None  # spent by a request a moment ago
        earlier = list(TOTPDevice.objects.filter(user=user))
        device = TOTPDevice.objects.create(
            user=user, name="authenticator", key=key.hex(), confirmed=True, last_t=totp.t()
        )
        for old in earlier:
            old.delete()  # one by one, so that each removal is audited
    return device


def _groups(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """Ask for a code from the user's authenticator; a right one verifies this session."""
    user = request.user
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect(_with_next("otp-setup", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                return redirect(_next(request))
        if not all(device.verify_is_allowed()[0] for device in devices):
            form.add_error("code", _("Too many wrong codes. Wait a moment before the next try."))
        else:
            form.add_error("code", _("That code did not match. Try the newest code."))
    return render(request, "security/otp_verify.html", {"form": form, "next": _next(request)})
