from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.registers.forms import RegisterUploadForm
from undersigned.registers.models import Register, RegisterEntry
from undersigned.registers.services import import_register

MAX_UPLOAD = 5_000_000


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin[Register]):
    list_display = ["name", "created"]
    search_fields = ["name"]
    change_list_template = "registers/admin_changelist.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="registers_register_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = RegisterUploadForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD:
                form.add_error("file", _("The file is larger than 5 MB."))
            else:
                result = import_register(form.cleaned_data["name"], upload.read())
                if result.ok:
                    messages.success(
                        request,
                        ngettext(
                            "Imported %(count)d person into “%(register)s”.",
                            "Imported %(count)d people into “%(register)s”.",
                            result.imported,
                        )
                        % {"count": result.imported, "register": result.register},
                    )
                    return redirect("admin:registers_register_changelist")
                errors = result.errors
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "errors": errors,
            "title": _("Import a register"),
            "opts": self.model._meta,
        }
        return render(
            request,
            "registers/admin_import.html",
            context,
            status=400 if errors or form.errors else 200,
        )


@admin.register(RegisterEntry)
class RegisterEntryAdmin(admin.ModelAdmin[RegisterEntry]):
    list_display = ["full_name", "role", "municipality", "region", "register"]
    list_filter = ["register", "region"]
    search_fields = ["full_name", "municipality"]
    exclude = ["official_email_hash", "name_key", "place_key"]
