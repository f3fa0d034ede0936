"""The asker's side of letters: pages under /letters/ and JSON under /api/letters/.

Like the feedback page these set no cookie and read none: no session, no CSRF token (the posts
are csrf_exempt on purpose, see feedback/views.py: there is no cookie-authenticated state to
forge, and the code itself is the only key). The code travels in POST bodies only, never in an
address, so it is in no history, log or referrer; pages that show it or a letter are no-store,
so Back does not bring them out of the cache.
"""

import json
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from chats.errors import ChatError
from verkkoapu.security import request_ip

from . import services

MAX_BODY_BYTES = 64 * 1024
STATUS = {
    "not_found": 404,
    "rate_limited": 429,
    "blocked": 403,
    "forbidden": 403,
    "taken": 409,
    "reserved": 409,
    "not_claimed": 409,
    "too_long": 413,
}
NEUTRAL_URL = "https://www.google.com/search?q=s%C3%A4%C3%A4"


def status_of(error: ChatError) -> int:
    return STATUS.get(error.code, 400)


def _embedding_origin(request) -> str | None:
    """The site embedding the widget, if it is one of EMBEDDING_ORIGINS (else None)."""
    origin = request.headers.get("Origin")
    return origin if origin and origin in settings.EMBEDDING_ORIGINS else None


def asker_page(view):
    """No cookie, no referrer, no cache: what every asker-facing letters response needs. The
    widget on a site of EMBEDDING_ORIGINS may call the JSON (CORS, without credentials)."""

    @wraps(view)
    @csrf_exempt
    @never_cache
    def wrapped(request, *args, **kwargs):
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return HttpResponse(status=413)
        origin = _embedding_origin(request)
        if request.method == "OPTIONS" and origin:  # the preflight of a JSON post
            response = HttpResponse(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = view(request, *args, **kwargs)
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def _language(request, given=None) -> str:
    wanted = given or request.GET.get("lang", "")
    return wanted if wanted in services.LANGUAGES else "fi"


# --- Pages ---------------------------------------------------------------------------------------


def _context(language, **more):
    return {"language": language, "neutral_url": NEUTRAL_URL, **more}


@asker_page
@require_http_methods(["GET", "POST"])
def write_page(request, slug):
    language = _language(request)
    with translation.override(language):
        try:
            line, config = services.letter_line(slug)
        except ChatError as error:
            return render(
                request, "letters/error.html", _context(language, error=error), status=404
            )
        context = _context(
            language,
            line=services.line_object(line, config, language),
            max_chars=settings.LETTER_MAX_CHARS,
        )
        if request.method == "GET":
            return render(request, "letters/write.html", context)
        text = request.POST.get("text", "")
        topics = request.POST.getlist("topics")
        try:
            written = services.write_letter(
                slug, text, topics=topics, language=language, ip=request_ip(request)
            )
        except ChatError as error:
            context.update(error=error, text=text, chosen=topics)
            return render(request, "letters/write.html", context, status=status_of(error))
        return render(
            request, "letters/written.html", {**context, "code": written.code}, status=201
        )


@asker_page
@require_http_methods(["GET", "POST"])
def read_page(request):
    language = _language(request)
    with translation.override(language):
        context = _context(language)
        if request.method == "GET":
            return render(request, "letters/read.html", context)
        code = request.POST.get("code", "")
        action = request.POST.get("action", "read")
        ip = request_ip(request)
        try:
            if action == "end":
                services.end_by_asker(code, ip=ip)
                return render(request, "letters/ended.html", context)
            if action == "reply":
                text = request.POST.get("text", "")
                try:
                    services.write_again(code, text, ip=ip)
                except ChatError as error:
                    if error.code not in ("bad_request", "too_long"):
                        raise
                    # The code was right: show the thread with the error and the text kept.
                    thread = services.read_thread(code, ip=ip)
                    context.update(thread=thread, code=code, error=error, text=text)
                    return render(request, "letters/thread.html", context, status=status_of(error))
                context["sent"] = True
            thread = services.read_thread(code, ip=ip)
        except ChatError as error:
            context.update(error=error)
            return render(request, "letters/read.html", context, status=status_of(error))
        context.update(thread=thread, code=code)
        return render(request, "letters/thread.html", context)


# --- JSON ----------------------------------------------------------------------------------------


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ChatError("bad_json", "The request body is not JSON.") from error
    if not isinstance(body, dict):
        raise ChatError("bad_json", "The request body must be a JSON object.")
    return body


def error_response(error: ChatError) -> JsonResponse:
    return JsonResponse(
        {"error": error.code, "message": str(error.message), **error.extra},
        status=status_of(error),
    )


def json_view(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ChatError as error:
            return error_response(error)

    return wrapped


@asker_page
@require_http_methods(["GET", "POST"])
@json_view
def api_line(request, slug):
    """GET: what the line says before a letter. POST {text, topics, language}: a new thread."""
    if request.method == "GET":
        language = _language(request, request.GET.get("language"))
        with translation.override(language):
            line, config = services.letter_line(slug)
            return JsonResponse(services.line_object(line, config, language))
    body = _body(request)
    language = _language(request, body.get("language"))
    with translation.override(language):
        written = services.write_letter(
            slug,
            body.get("text"),
            topics=body.get("topics") or [],
            language=language,
            ip=request_ip(request),
        )
        return JsonResponse({"code": written.code, "answer_time": written.answer_time}, status=201)


def asker_post(view):
    """A JSON post by the asker: the body parsed and the view run in the asker's language."""

    @asker_page
    @require_POST
    @json_view
    @wraps(view)
    def wrapped(request):
        body = _body(request)
        with translation.override(_language(request, body.get("language"))):
            return view(request, body)

    return wrapped


@asker_post
def api_read(request, body):
    """{code}: the thread, as the asker sees it."""
    return JsonResponse(services.read_thread(body.get("code"), ip=request_ip(request)))


@asker_post
def api_reply(request, body):
    """{code, text}: the asker's next letter in the thread."""
    services.write_again(body.get("code"), body.get("text"), ip=request_ip(request))
    return JsonResponse({"ok": True}, status=201)


@asker_post
def api_end(request, body):
    """{code}: end the thread; it is erased at once."""
    services.end_by_asker(body.get("code"), ip=request_ip(request))
    return JsonResponse({"ok": True})
