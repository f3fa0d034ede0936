"""The admin runs the service; it never shows an asker's secrets nor lets anyone test them.

`ASKER_SECRETS` is the one list of fields that hold what an asker said or who they are: a
message's text, the resume token, the address, a handover or follow-up note, and every hash
derived from a code or an address (a hash of a short value can be tested by a prefix as well as
the value). `NOT_SECRET` names the fields that only look like one (their name says token, ip,
hash, text, note, code, ...) and says why they may be shown; tests/test_admin_secrets.py fails
when a model gains such a field that neither list names.

`GuardedAdmin` is the base of every ModelAdmin of the service: its changelist accepts only the
lookups its declared list filters and date hierarchy make, never one that reaches a secret field
from any model (`?token__startswith=`, `?chat__token__startswith=` from another model), and
`check_admin_secrets` (a system check) refuses, for every registered ModelAdmin, a display,
filter, search, ordering, form field or autocomplete on a secret. A refused lookup answers 400
whatever its value (Django's DisallowedModelAdminLookup, logged by `django.security`).
"""

from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

ASKER_SECRETS = {
    "chats.chat": {"token", "asker_ip", "transfer_note"},
    "chats.message": {"text", "client_id"},
    "chats.bar": {"address_hash"},
    "chats.addresscounter": {"address_hash"},
    "chats.followup": {"code_hash", "note"},
    "chats.codeguess": {"address_hash"},
    "chats.groupparticipant": {"address_hash", "nickname"},
    "chats.groupmessage": {"text", "nickname"},
    "letters.thread": {"code_hash"},
    "letters.letter": {"text"},
    # Not an asker's but as secret: the hash of a person's one-time enrolment code.
    "chats.enrolmentcode": {"code_hash"},
}

NOT_SECRET = {
    # What coordinators write for askers to read: a line's description and rules.
    "chats.serviceline": {
        "description",
        "description_sv",
        "description_en",
        "rules",
        "rules_sv",
        "rules_en",
        # A practice line's code, set by a coordinator for helpers in training (no asker's).
        "practice_code",
    },
    # The referral directory and a line's age ranges (their statistics keys): coordinators'
    # texts for askers to read.
    "chats.referral": {"description", "description_sv", "description_en"},
    "chats.agerange": {"key"},
    # The helpers' own library of replies, written by coordinators.
    "chats.preparedtext": {"text"},
    # A closed group's shared code, set by a coordinator to be given out again (not an asker's),
    # and the message a moderator pins for everyone.
    "chats.groupsession": {"invite", "pinned"},
    # The same, shared by every meeting of a closed group series.
    "chats.groupseries": {"invite"},
    # What a scheduled job printed: counts, never a row.
    "stats.jobrun": {"output"},
    # A coordinator's note on an exception to the opening hours.
    "scheduling.hoursexception": {"note"},
    # Anonymous feedback (month and line only), written to be read and exported by coordinators.
    "feedback.feedback": {"text"},
    # A topic's slug in the daily counts.
    "stats.dailycount": {"key"},
    "stats.statisticsexport": {"key"},
    "stats.statisticschart": {"key"},
}

# What Django's field list filters put after a declared filter's path (or its related key).
FILTER_SUFFIXES = ("exact", "isnull", "isempty", "gte", "lt", "in")


def is_secret(field) -> bool:
    model = getattr(field, "model", None)
    return model is not None and field.name in ASKER_SECRETS.get(model._meta.label_lower, ())


def fields_on_path(model, path: str):
    """The model fields a lookup path goes through (transforms and lookups left out)."""
    fields = []
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        fields.append(field)
        if not getattr(field, "path_infos", None):
            break
        model = field.path_infos[-1].to_opts.model
    return fields


def reaches_secret(model, path: str) -> bool:
    return any(is_secret(field) for field in fields_on_path(model, path))


def _name(item) -> str | None:
    if isinstance(item, str):
        return item.lstrip("-^=@")
    return None


class GuardedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose changelist answers only to its declared filters, never to a secret."""

    def declared_lookups(self, request) -> tuple[set[str], set[str]]:
        """(exact parameter names, field paths whose filter suffixes are accepted)."""
        names, paths = set(), set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                names.add(item.parameter_name)
            else:
                path = item[0] if isinstance(item, (list, tuple)) else item
                if isinstance(path, str):
                    paths.add(path)
        if self.date_hierarchy:
            names.update(f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day"))
        return names, paths

    def lookup_allowed(self, lookup, value, request):
        if reaches_secret(self.model, lookup):
            return False
        names, paths = self.declared_lookups(request)
        if lookup in names:
            return True
        for path in paths:
            if lookup.startswith(f"{path}{LOOKUP_SEP}"):
                rest = lookup.removeprefix(f"{path}{LOOKUP_SEP}")
                if rest in self._filter_rests(path):
                    return True
        # Raw-id popups narrowed by limit_choices_to pass their own lookups.
        return self._fkey_popup_lookup(lookup, value)

    def _filter_rests(self, path) -> set[str]:
        """What a field list filter adds to its path: exact, or the related key's id__exact."""
        rests = set(FILTER_SUFFIXES)
        fields = fields_on_path(self.model, path)
        if fields and fields[-1].is_relation:
            target = getattr(fields[-1], "target_field", None) or fields[-1].related_model._meta.pk
            rests |= {f"{target.name}{LOOKUP_SEP}{suffix}" for suffix in FILTER_SUFFIXES}
        return rests

    def _fkey_popup_lookup(self, lookup, value) -> bool:
        from django.contrib.admin import widgets

        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def to_field_allowed(self, request, to_field):
        if reaches_secret(self.model, to_field):
            return False
        return super().to_field_allowed(request, to_field)

    def get_deleted_objects(self, objs, request):
        """The confirmation lists what goes by kind and count, never each related row."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return [str(obj) for obj in objs], model_count, perms_needed, protected


def declared_names(model_admin) -> dict[str, list[str]]:
    """Every field path a ModelAdmin shows, filters, searches, orders or edits by."""
    fieldsets = model_admin.fieldsets or []
    in_fieldsets = [
        name
        for _, options in fieldsets
        for entry in options.get("fields", ())
        for name in (entry if isinstance(entry, (list, tuple)) else [entry])
    ]
    form_meta = getattr(model_admin.form, "_meta", None)
    list_display = [
        item if isinstance(item, str) else getattr(item, "admin_order_field", None)
        for item in model_admin.list_display
    ]
    orderings = []
    for item in model_admin.list_display:
        attr = item if callable(item) else getattr(model_admin, str(item), None)
        orderings.append(getattr(attr, "admin_order_field", None))
    filters = []
    for item in model_admin.list_filter:
        if isinstance(item, (list, tuple)):
            filters.append(item[0])
        elif isinstance(item, str):
            filters.append(item)
    return {
        "list_display": list_display + orderings,
        "list_filter": filters,
        "search_fields": list(model_admin.search_fields or ()),
        "ordering": list(model_admin.ordering or ()),
        "sortable_by": list(model_admin.sortable_by or ()),
        "date_hierarchy": [model_admin.date_hierarchy],
        "fields": list(model_admin.fields or ()) + in_fieldsets,
        "readonly_fields": list(model_admin.readonly_fields or ()),
        "form": list(getattr(form_meta, "fields", None) or ())
        if getattr(form_meta, "fields", None) != "__all__"
        else [],
        "raw_id_fields": list(model_admin.raw_id_fields or ()),
        "autocomplete_fields": list(model_admin.autocomplete_fields or ()),
        "list_editable": list(model_admin.list_editable or ()),
    }


def holds_secrets(model) -> bool:
    return bool(ASKER_SECRETS.get(model._meta.label_lower))


def admin_secret_errors(site=None) -> list[checks.CheckMessage]:
    site = site or admin.site
    errors = []
    for model, model_admin in site._registry.items():
        where = f"{type(model_admin).__module__}.{type(model_admin).__qualname__}"
        for option, names in declared_names(model_admin).items():
            for name in filter(None, map(_name, names)):
                if reaches_secret(model, name):
                    errors.append(
                        checks.Error(
                            f"{where}.{option} names {name!r}, an asker's secret.",
                            obj=type(model_admin),
                            id="verkkoapu.E101",
                        )
                    )
        if holds_secrets(model):
            if not isinstance(model_admin, GuardedAdmin):
                errors.append(
                    checks.Error(
                        f"{where} shows {model._meta.label}, which holds asker secrets, "
                        "but is not a GuardedAdmin.",
                        obj=type(model_admin),
                        id="verkkoapu.E102",
                    )
                )
            if not (model_admin.fields or model_admin.fieldsets):
                errors.append(
                    checks.Error(
                        f"{where} must list its fields: {model._meta.label} holds asker secrets.",
                        obj=type(model_admin),
                        id="verkkoapu.E103",
                    )
                )
    return errors


@checks.register(checks.Tags.admin)
def check_admin_secrets(app_configs=None, **kwargs):
    return admin_secret_errors()
