"""Two-factor authentication pages: set up an authenticator app, enter its code after login.

A helper or coordinator logs in with the password as before; with OTP_REQUIRED the console and
the admin then send them here (verkkoapu.security.RequireOTPMiddleware). The first time, the
setup page shows a QR code (a TOTP secret, kept by django-otp) and takes one code to confirm
it; later logins ask for a code. Wrong codes slow down (django-otp's throttling). A lost phone:
a coordinator deletes the person's TOTP device in the admin, and the next login sets up anew.
"""

from base64 import b32encode

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("The code is six digits.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip()


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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Show a new secret as a QR code; the first right code confirms it (and verifies now)."""
    user = request.user
    if user_has_device(user, confirmed=True) and not user.is_verified():
        # Only a session that already passed a code may replace the authenticator.
        return redirect(_with_next("otp-verify", request))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                # The new phone replaces any earlier one.
                TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", _("That code did not match. Check the phone's clock and retry."))
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "next": _next(request),
        "qr_svg": mark_safe(qr.svg_inline(scale=5, light="#fff", title="QR")),  # noqa: S308
        "secret": " ".join(_groups(b32encode(device.bin_key).decode())),
        "replacing": user_has_device(user, confirmed=True),
    }
    return render(request, "security/otp_setup.html", context)


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
