"""The asker's feedback page: no cookie, no session, no CSRF token, nothing that links back.

The POST is csrf_exempt on purpose. CSRF protects state that a browser's cookies authenticate;
this page has none (it sets no cookie and reads none), so a forged cross-site POST could do
only what anyone may do here anyway: leave one anonymous answer. A CSRF token would need a
cookie, which the asker pages must not set. Abuse is bounded by the size limits and a
per-address rate limit (an IPv6 /64 counts as one address), the window counter of every
per-address limit (verkkoapu/counters.py) kept in the cache only: a keyed hash of the address
for FEEDBACK_RATE_WINDOW seconds, one atomic add/incr per send before the form is looked at.
Never the database: a counter row there would tell when an answer was given.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from chats.models import ServiceLine
from verkkoapu.addresses import address_hash, request_ip
from verkkoapu.counters import CacheWindowCounter

from .forms import FeedbackForm

MAX_BODY_BYTES = 64 * 1024


def _language(request) -> str:
    wanted = request.GET.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else translation.get_language()


def _window() -> int:
    return settings.FEEDBACK_RATE_WINDOW


SENDS = CacheWindowCounter("feedback-rate", _window)


def _over_limit(request) -> bool:
    """Count this send against its address, unless the window's FEEDBACK_RATE_LIMIT are used."""
    # The address rule of every per-address measure: an IPv6 /64 is one sender.
    sender = address_hash(request_ip(request) or "unknown")
    return not SENDS.take(sender, timezone.now(), settings.FEEDBACK_RATE_LIMIT)


def _save(form: FeedbackForm, line: ServiceLine) -> None:
    feedback = form.save(commit=False)
    feedback.line = line
    feedback.month = timezone.localdate().replace(day=1)  # never the day or time
    feedback.save()


def _line(slug):
    return get_object_or_404(ServiceLine, slug=slug, active=True)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def feedback_page(request, slug):
    line = _line(slug)
    language = _language(request)
    with translation.override(language):
        if request.method == "GET":
            return _page(request, line, language, FeedbackForm())
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return HttpResponse(status=413)
        if _over_limit(request):
            return _page(request, line, language, FeedbackForm(request.POST), status=429)
        form = FeedbackForm(request.POST)
        if not form.is_valid():
            return _page(request, line, language, form, status=400)
        _save(form, line)
    return redirect(f"{request.path}kiitos/?lang={language}")


def _page(request, line, language, form, status=200):
    context = {
        "line": line,
        "line_name": line.localized_name(language),
        "form": form,
        "rate_limited": status == 429,
        "language": language,
    }
    return render(request, "feedback/form.html", context, status=status)


@require_GET
def thanks_page(request, slug):
    line = _line(slug)
    language = _language(request)
    with translation.override(language):
        return render(
            request,
            "feedback/thanks.html",
            {"line": line, "line_name": line.localized_name(language), "language": language},
        )


# --- The widget's feedback view (issue 20): the same form, as JSON, so it stays in the widget --


def _questions(form: FeedbackForm) -> list[dict]:
    """The form's questions in the active language: what the widget draws."""
    questions = []
    for name, field in form.fields.items():
        question = {"name": name, "label": str(field.label)}
        if hasattr(field, "choices"):
            question["choices"] = [[str(value), str(label)] for value, label in field.choices]
        else:
            question["max_length"] = field.max_length
        questions.append(question)
    return questions


def _cors(request, response):
    origin = request.headers.get("Origin")
    if origin and origin in settings.EMBEDDING_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def feedback_api(request, slug):
    """`GET`: the questions in `?lang=`; `POST` (form-encoded, a CORS simple request): one
    anonymous answer, with the page's size and address limits. Sets and reads no cookie."""
    line = _line(slug)
    with translation.override(_language(request)):
        if request.method == "GET":
            return _cors(request, JsonResponse({"questions": _questions(FeedbackForm())}))
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return _cors(request, JsonResponse({"error": "too_long"}, status=413))
        if _over_limit(request):
            return _cors(request, JsonResponse({"error": "rate_limited"}, status=429))
        form = FeedbackForm(request.POST)
        if not form.is_valid():
            messages = [str(error) for errors in form.errors.values() for error in errors]
            return _cors(
                request, JsonResponse({"error": "invalid", "messages": messages}, status=400)
            )
        _save(form, line)
    return _cors(request, JsonResponse({"ok": True}))
