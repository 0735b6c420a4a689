"""The organiser adds a translation of a draft's or an open petition's text (translations.py)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from undersigned.accounts.twofactor import second_factor_required
from undersigned.petitions.access import organiser_petition_or_404
from undersigned.petitions.forms import TranslationForm
from undersigned.petitions.services import PetitionError
from undersigned.petitions.translations import add_translation, translation_languages


@second_factor_required
@require_POST
def add(request: HttpRequest, slug: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    form = TranslationForm(request.POST, languages=translation_languages(petition))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("manage", slug=slug)
    try:
        version = add_translation(petition, request.user, **form.cleaned_data)
    except PetitionError as exc:
        messages.error(request, str(exc))
    else:
        if version.published_at is None:
            messages.success(request, _("Translation saved: it is published with the petition."))
        else:
            messages.success(request, _("Translation published as a text version of its own."))
    return redirect("manage", slug=slug)
