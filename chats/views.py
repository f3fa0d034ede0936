from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import services
from .models import ServiceLine


@require_GET
def demo_page(request):
    """A neutral page embedding the widget; it touches no session, so it sets no cookie."""
    lines = ServiceLine.objects.filter(active=True)
    return render(request, "chats/demo.html", {"lines": lines})


@require_GET
def service_list(request):
    lines = ServiceLine.objects.filter(active=True)
    return JsonResponse([services.service_object(line) for line in lines], safe=False)


@require_GET
def service_detail(request, slug):
    try:
        line = ServiceLine.objects.get(slug=slug, active=True)
    except ServiceLine.DoesNotExist:
        return JsonResponse(
            {"error": "not_found", "message": f"No service line {slug!r}."}, status=404
        )
    return JsonResponse(services.service_object(line))


@login_required
def console(request):
    if not hasattr(request.user, "helper"):
        raise Http404("Only helpers have a console.")
    return render(request, "chats/console.html", {"helper": request.user.helper})
