"""A rejected submission's public page: its reason, and its text unless the reason hides it.

Not a view module: the petition page's view (petitions/views.py) answers with
it for a slug that is no public petition but a rejected one.

When the standard it failed hides the text (defamatory, personal data, …),
the page says only "Rejected: <standard>": no title, no text, no organiser
and no note, which may quote them; its address no longer holds its title
either (moderation/submissions.py renames it at the rejection).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from undersigned.petitions.models import Decision, Petition


def text_hidden(rejection: Decision | None) -> bool:
    """Whether a rejection keeps the petition's words off the public pages."""
    return rejection is None or rejection.standard is None or rejection.standard.hides_text


def viewable_original(rejection: Decision | None) -> Petition | None:
    """The petition a duplicate repeats, if a visitor can read it."""
    original = rejection.duplicate_of if rejection else None
    if original is None or original.status in Petition.PUBLISHED:
        return original
    if original.status == Petition.Status.REJECTED and not text_hidden(original.rejection()):
        return original
    return None


def rejected_page(request: HttpRequest, petition: Petition) -> HttpResponse:
    rejection = petition.rejection()
    hidden = text_hidden(rejection)
    original = viewable_original(rejection)
    return render(
        request,
        "petitions/rejected.html",
        {
            "petition": petition,
            "rejection": rejection,
            "standard": rejection.standard if rejection else None,
            "hidden": hidden,
            "version": None if hidden else petition.current_version(),
            "original": original,
            "original_title": original.shown_version().title if original else "",
        },
    )
