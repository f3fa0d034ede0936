"""The helper's side of letters: pages under /console/letters/ and JSON under its api/.

Logged-in helpers only, with the session and CSRF protection of the console (the JSON posts
take the CSRF token in the X-CSRFToken header). What a helper may see and do is decided in
letters/answering.py; these views parse, call and answer.
"""

from datetime import datetime
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from chats.errors import ChatError
from chats.models import PreparedText

from . import answering
from .views import _body, error_response


def helper_only(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not hasattr(request.user, "helper"):
            raise Http404("Only helpers have a letters inbox.")
        return view(request, request.user.helper, *args, **kwargs)

    return wrapped


def _api(view):
    @wraps(view)
    def wrapped(request, helper, *args, **kwargs):
        try:
            return JsonResponse(view(request, helper, *args, **kwargs))
        except ChatError as error:
            return error_response(error)

    return helper_only(wrapped)


def _ok_api(action):
    """A posted action on one thread or reply: {"ok": true} once it went through."""

    @require_POST
    @_api
    def view(request, helper, **ids):
        (object_id,) = ids.values()
        action(helper, object_id)
        return {"ok": True}

    return view


# --- Pages ---------------------------------------------------------------------------------------


@require_GET
@helper_only
def inbox_page(request, helper):
    now = timezone.now()
    rows = answering.inbox(helper, now)
    for row in rows:
        row["since"] = datetime.fromisoformat(row["waiting_since"])
    return render(
        request,
        "letters/console_inbox.html",
        {"helper": helper, "rows": rows, "approvals": answering.approvals(helper)},
    )


def _thread_action(request, helper, thread_id):
    """Do the posted action: a redirect when it went through, else the error to show."""
    action = request.POST.get("action")
    try:
        if action == "claim":
            answering.claim(helper, thread_id)
        elif action == "hand_back":
            answering.hand_back(helper, thread_id)
            return redirect(reverse("letters-inbox"))
        elif action == "answer":
            keep = request.POST.get("keep") == "on"
            answering.answer(helper, thread_id, request.POST.get("text", ""), keep=keep)
            return redirect(reverse("letters-inbox"))
        elif action == "approve":
            answering.approve(helper, int(request.POST.get("reply", "0") or 0))
            return redirect(reverse("letters-inbox"))
        elif action == "end":
            answering.end_by_helper(helper, thread_id)
            return redirect(reverse("letters-inbox"))
    except ChatError as failed:
        return failed
    except ValueError:
        return ChatError("bad_request", "Bad request.")
    return redirect(reverse("letters-thread", args=[thread_id]))


@helper_only
def thread_page(request, helper, thread_id):
    error = None
    if request.method == "POST":
        outcome = _thread_action(request, helper, thread_id)
        if not isinstance(outcome, ChatError):
            return outcome
        error = outcome
    try:
        thread = answering.helper_thread(helper, thread_id)
    except ChatError as failed:
        return render(
            request,
            "letters/console_inbox.html",
            {
                "helper": helper,
                "rows": answering.inbox(helper),
                "approvals": answering.approvals(helper),
                "error": error or failed,
            },
            status=404 if error is None else 409,
        )
    prepared = PreparedText.objects.filter(active=True).filter(
        Q(line__isnull=True) | Q(line__slug=thread["service"])
    )
    pending = [letter for letter in thread["letters"] if not letter["released"]]
    return render(
        request,
        "letters/console_thread.html",
        {
            "helper": helper,
            "thread": thread,
            "prepared": prepared,
            "pending": pending,
            "error": error,
            "text": request.POST.get("text", "") if error else "",
        },
        status=409 if error else 200,
    )


# --- JSON ----------------------------------------------------------------------------------------


@require_GET
@_api
def api_inbox(request, helper):
    """The waiting threads of the helper's lines and the replies awaiting their approval."""
    return {"letters": answering.inbox(helper), "approvals": answering.approvals(helper)}


@require_GET
@_api
def api_thread(request, helper, thread_id):
    return answering.helper_thread(helper, thread_id)


@require_POST
@_api
def api_claim(request, helper, thread_id):
    answering.claim(helper, thread_id)
    return answering.helper_thread(helper, thread_id)


@require_POST
@_api
def api_claim_next(request, helper, slug):
    thread = answering.claim_next(helper, slug)
    return {"thread": answering.helper_thread(helper, thread.pk) if thread else None}


@require_POST
@_api
def api_answer(request, helper, thread_id):
    body = _body(request)
    reply = answering.answer(helper, thread_id, body.get("text"), keep=bool(body.get("keep")))
    return {"reply": reply.pk, "released": reply.released_at is not None}


api_hand_back = _ok_api(answering.hand_back)
api_approve = _ok_api(answering.approve)
api_end = _ok_api(answering.end_by_helper)
