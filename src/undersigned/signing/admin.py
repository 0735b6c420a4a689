from django.contrib import admin

from undersigned.signing.models import Signature


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin[Signature]):
    """What an administrator may see of a signature: what the public may, and its state.

    Reading a claim (a hidden name, an address, evidence) is for the petition's
    assigned moderators, on the review page, while it awaits review.
    """

    list_display = ["id", "petition", "shown_as", "state", "is_founder", "created"]
    list_filter = ["state", "petition", "is_founder"]
    fields = readonly_fields = (
        "petition",
        "text_version",
        "state",
        "shown_as",
        "show_name",
        "role",
        "municipality",
        "region",
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

    @admin.display(description="shown publicly as")
    def shown_as(self, signature: Signature) -> str:
        if signature.state == Signature.State.VERIFIED and signature.show_name:
            return str(signature.full_name)
        return "—"
