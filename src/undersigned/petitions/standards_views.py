"""The published standards (/standards/): what every submission is checked against."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from undersigned.petitions.access import may_edit_standards
from undersigned.petitions.models import Standard


@require_GET
def standards(request: HttpRequest) -> HttpResponse:
    shown = Standard.objects.filter(retired=False).prefetch_related("texts")
    return render(
        request,
        "petitions/standards.html",
        {
            "standards": list(shown),
            "rejected_url": reverse("petitions") + "?" + urlencode({"state": "rejected"}),
            "can_edit": may_edit_standards(request.user),
        },
    )
