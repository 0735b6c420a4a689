"""The moderators' queue of submissions, each one's review and decision, and the standards.

Only the site's moderators (`signing.moderate_any`), past the second factor,
and never on a submission of their own (petitions.access); anyone else gets
a 404, as on the other moderation pages. The standards are edited by staff
with the permission to change them; every change is audited.
"""

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.accounts.twofactor import second_factor_required
from undersigned.audit import services as audit
from undersigned.audit.models import AuditEvent
from undersigned.moderation import submissions
from undersigned.moderation.submission_forms import StandardForm, SubmissionDecisionForm
from undersigned.petitions import lookalike
from undersigned.petitions import submissions as submitted
from undersigned.petitions.access import (
    may_edit_standards,
    may_moderate_submissions,
    submissions_moderated_by,
)
from undersigned.petitions.models import Petition, Standard, StandardText
from undersigned.petitions.texts import register_name

QUEUE_PAGE = 100


@second_factor_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if not may_moderate_submissions(request.user):
        raise Http404("you moderate no submissions")
    mine = submissions_moderated_by(request.user)
    waiting = list(
        mine.filter(status=Petition.Status.MODERATION).order_by("submitted_at", "pk")[:QUEUE_PAGE]
    )
    versions = {p.pk: p.current_version() for p in waiting}
    # Two submissions asking for one thing may both wait here, neither yet published.
    queued = lookalike.alike_among([(pk, v.title, v.body) for pk, v in versions.items()])
    by_pk = {p.pk: p for p in waiting}
    rows = []
    for p in waiting:
        version = versions[p.pk]
        # What each one looks like, so a duplicate stands out before it is opened.
        alike = lookalike.described(
            lookalike.lookalikes(version.title, version.body, exclude_id=p.pk, limit=2)
        )
        waiting_alike = [(by_pk[o], versions[o]) for o in queued.get(p.pk, [])]
        rows.append((p, version, submitted.supporters(p), alike, waiting_alike))
    return render(
        request,
        "moderation/submissions.html",
        {
            "rows": rows,
            "collecting": mine.filter(status=Petition.Status.COLLECTING).count(),
            "needed": submitted.supporters_needed(),
            "can_edit_standards": may_edit_standards(request.user),
        },
    )


def _page(
    request: HttpRequest, petition: Petition, form: SubmissionDecisionForm, status: int = 200
) -> HttpResponse:
    version = petition.current_version()
    found = lookalike.lookalikes(version.title, version.body, exclude_id=petition.pk, limit=5)
    context: dict[str, Any] = {
        "petition": petition,
        "version": version,
        "texts": list(petition.versions.order_by("number")),
        "register_name": register_name(petition),
        "supporters": submitted.supporters(petition),
        "needed": submitted.supporters_needed(),
        "lookalikes": lookalike.described(found),
        "form": form,
        "standards": list(
            Standard.objects.filter(retired=False).prefetch_related("texts")
        ),
        "decisions": list(
            petition.decisions.select_related("standard", "decided_by").prefetch_related(
                "standard__texts"
            )
        ),
        "history": AuditEvent.objects.filter(petition=petition, signature__isnull=True)[:100],
        "awaiting": petition.status == Petition.Status.MODERATION,
    }
    return render(request, "moderation/submission.html", context, status=status)


@second_factor_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, slug: str) -> HttpResponse:
    petition = (
        submissions_moderated_by(request.user)
        .exclude(status=Petition.Status.DRAFT)
        .filter(slug=slug)
        .first()
    )
    if petition is None:
        raise Http404("no such submission among those you may decide")
    form = SubmissionDecisionForm(request.POST or None)
    if request.method == "GET":
        return _page(request, petition, form)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "publish":
                submissions.publish(petition, request.user, note=data["note"])
                messages.success(request, _("Published: anyone may sign it now."))
            elif data["decision"] == "reject":
                submissions.reject(
                    petition,
                    request.user,
                    standard=data["standard"],
                    note=data["note"],
                    original=data["original"],
                )
                messages.success(request, _("Rejected; the creator is told why."))
            else:
                submissions.send_back(petition, request.user, note=data["note"])
                messages.success(request, _("Sent back; the creator is told what to change."))
        except submissions.DecisionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("moderation-submissions")
    return _page(request, petition, form, status=400)


# ------------------------------------------------------------------ standards


@second_factor_required
@require_GET
def standards(request: HttpRequest) -> HttpResponse:
    if not may_edit_standards(request.user):
        raise Http404("you do not edit the standards")
    return render(
        request,
        "moderation/standards.html",
        {
            "standards": list(Standard.objects.prefetch_related("texts")),
            "can_add": may_edit_standards(request.user, add=True),
        },
    )


def _initial(standard: Standard) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "position": standard.position,
        "hides_text": standard.hides_text,
        "names_original": standard.names_original,
        "retired": standard.retired,
    }
    for text in standard.texts.all():
        initial[f"title_{text.language}"] = text.title
        initial[f"text_{text.language}"] = text.text
    return initial


def _save(standard: Standard, data: dict[str, Any], form: StandardForm) -> list[str]:
    """Write the form's values; the names of what changed."""
    changed = [
        name
        for name in ("position", "hides_text", "names_original", "retired")
        if getattr(standard, name) != data[name]
    ]
    for name in changed:
        setattr(standard, name, data[name])
    standard.save()
    for code, _name in form.languages():
        title, text = data.get(f"title_{code}") or "", data.get(f"text_{code}") or ""
        row = standard.texts.filter(language=code).first()
        if not title:
            if row is not None:
                row.delete()
                changed.append(f"text_{code}")
            continue
        if row is None:
            StandardText.objects.create(standard=standard, language=code, title=title, text=text)
            changed.append(f"text_{code}")
        elif (row.title, row.text) != (title, text):
            row.title, row.text = title, text
            row.save(update_fields=["title", "text"])
            changed.append(f"text_{code}")
    return changed


@second_factor_required
@require_http_methods(["GET", "POST"])
def edit_standard(request: HttpRequest, code: str) -> HttpResponse:
    if not may_edit_standards(request.user):
        raise Http404("you do not edit the standards")
    standard = Standard.objects.filter(code=code).prefetch_related("texts").first()
    if standard is None:
        raise Http404("no such standard")
    form = StandardForm(request.POST or None, existing=standard, initial=_initial(standard))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = _save(standard, form.cleaned_data, form)
            if changed:
                audit.record(
                    "standard.changed",
                    actor=request.user,
                    petition=None,
                    standard=standard.code,
                    changed=changed,
                    hides_text=standard.hides_text,
                    names_original=standard.names_original,
                    retired=standard.retired,
                )
        messages.success(request, _("Standard saved.") if changed else _("Nothing changed."))
        return redirect("moderation-standards")
    return render(
        request,
        "moderation/standard_edit.html",
        {"form": form, "standard": standard},
        status=400 if form.errors else 200,
    )


@second_factor_required
@require_http_methods(["GET", "POST"])
def new_standard(request: HttpRequest) -> HttpResponse:
    if not may_edit_standards(request.user, add=True):
        raise Http404("you do not add standards")
    form = StandardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            standard = Standard(code=form.cleaned_data["code"])
            _save(standard, form.cleaned_data, form)
            audit.record(
                "standard.added",
                actor=request.user,
                petition=None,
                standard=standard.code,
                hides_text=standard.hides_text,
                names_original=standard.names_original,
            )
        messages.success(request, _("Standard added."))
        return redirect("moderation-standards")
    return render(
        request,
        "moderation/standard_edit.html",
        {"form": form, "standard": None},
        status=400 if form.errors else 200,
    )
