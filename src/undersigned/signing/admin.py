from django.contrib import admin

from undersigned.signing.models import Signature


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin[Signature]):
    list_display = ["id", "petition", "full_name", "state", "is_founder", "created"]
    list_filter = ["state", "petition", "is_founder"]
    fields = readonly_fields = (
        "petition",
        "text_version",
        "state",
        "full_name",
        "show_name",
        "role",
        "municipality",
        "region",
        "register_entry",
        "evidence_url",
        "state_reason",
        "created",
        "confirmed_at",
        "verified_at",
        "ended_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False  # states change only through the signing services, which keep tallies

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
