from django.contrib import admin

from undersigned.petitions.models import Petition, Tally, TextVersion


class TextVersionInline(admin.TabularInline[TextVersion, Petition]):
    model = TextVersion
    extra = 0
    fields = readonly_fields = ("number", "title", "language", "published_at", "sha256")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin[Petition]):
    list_display = ["slug", "kind", "status", "audience", "organiser", "opened_at"]
    list_filter = ["status", "kind", "audience"]
    search_fields = ["slug", "versions__title"]
    filter_horizontal = ["moderators"]
    readonly_fields = ["status", "opened_at", "closed_at"]
    inlines = [TextVersionInline]


@admin.register(Tally)
class TallyAdmin(admin.ModelAdmin[Tally]):
    list_display = ["petition", "region", "municipality", "verified", "awaiting"]
    list_filter = ["petition"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # tallies move only with signatures; `undersigned reconcile` checks them
