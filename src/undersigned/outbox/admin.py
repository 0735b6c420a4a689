from django.contrib import admin

from undersigned.outbox.models import OutgoingMail


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin[OutgoingMail]):
    list_display = ["id", "kind", "created", "attempts", "sent_at", "next_attempt_at", "last_error"]
    list_filter = ["kind"]
    exclude = ["body", "to"]

    def has_add_permission(self, request: object) -> bool:
        return False
