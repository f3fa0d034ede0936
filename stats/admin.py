from django.contrib import admin

from .models import DailyCount, Topic


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0


@admin.register(DailyCount)
class DailyCountAdmin(admin.ModelAdmin):
    list_display = ["day", "line", "metric", "key", "count"]
    list_filter = ["line", "metric"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
