from django.contrib import admin

from .models import HoursException, OpeningHours


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class HoursExceptionInline(admin.TabularInline):
    model = HoursException
    extra = 0
    fields = ["first_day", "last_day", "closed", "opens", "closes", "weekdays_only", "note"]


@admin.register(HoursException)
class HoursExceptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "line", "closed", "note"]
    list_filter = ["line", "closed"]
    date_hierarchy = "first_day"
