"""The guides for helpers and coordinators (docs/guide-*.md), shown to logged-in staff.

The Markdown in docs/ is the one source: the same file reads well on the code host and here.
Its pictures are docs/screenshots/*.png (made by `./dev screenshots`), served beside it.
"""

import re

from django.conf import settings
from django.contrib.admin import site
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from markdown_it import MarkdownIt

DOCS = settings.BASE_DIR / "docs"
GUIDES = {
    "guide-helper.fi": _("Helper's guide (Finnish)"),
    "guide-coordinator.fi": _("Coordinator's guide (Finnish)"),
}
PICTURE = re.compile(r"^[a-z0-9-]+\.png$")
# Raw HTML in the Markdown stays text: nothing in a guide can add script or style.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _staff_or_helper(user) -> bool:
    return user.is_staff or hasattr(user, "helper")


@login_required
def guide(request, name):
    if name not in GUIDES or not _staff_or_helper(request.user):
        raise Http404("No such guide.")
    text = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    context = {
        **site.each_context(request),
        "title": GUIDES[name],
        "body": mark_safe(_markdown.render(text)),  # noqa: S308 - our own docs, HTML off
    }
    return TemplateResponse(request, "admin/guide.html", context)


@login_required
def picture(request, file):
    if not PICTURE.match(file) or not _staff_or_helper(request.user):
        raise Http404("No such picture.")
    path = DOCS / "screenshots" / file
    if not path.exists():
        raise Http404("No such picture.")
    return FileResponse(path.open("rb"), content_type="image/png")
