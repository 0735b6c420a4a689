"""Entering signatures on paper: one by one, or a sheet as CSV (preview, then all or nothing).

Only the petition's assigned moderators, past the second factor: they read
the names on the sheet as they type them, hidden signers' included.
"""

import base64
import binascii
import hashlib

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.accounts.twofactor import second_factor_required
from undersigned.moderation.forms import PaperSignatureForm, SheetUploadForm
from undersigned.petitions.access import reviewed_by
from undersigned.petitions.models import Petition, Tally
from undersigned.signing import paper
from undersigned.signing.models import Signature
from undersigned.signing.paper_csv import COLUMNS, MAX_BYTES, parse_sheet_csv

LISTED = 100


def _petition_or_404(request: HttpRequest, slug: str) -> Petition:
    petition = reviewed_by(request.user).filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition among those you moderate")
    return petition


def _page(
    request: HttpRequest,
    petition: Petition,
    form: PaperSignatureForm,
    upload: SheetUploadForm,
    status: int = 200,
) -> HttpResponse:
    entered = (
        Signature.objects.filter(petition=petition, channel=Signature.Channel.PAPER)
        .select_related("register_entry")
        .order_by("-pk")[:LISTED]
    )
    totals = Tally.objects.filter(petition=petition).values_list("verified", "verified_paper")
    response = render(
        request,
        "moderation/paper.html",
        {
            "petition": petition,
            "version": petition.current_version(),
            "form": form,
            "upload": upload,
            "entered": entered,
            "verified": sum(v for v, _ in totals),
            "paper": sum(p for _, p in totals),
            "columns": COLUMNS,
        },
        status=status,
    )
    # The page lists the names just typed, a hidden signer's among them.
    response["Cache-Control"] = "no-store"
    return response


@second_factor_required
@require_http_methods(["GET", "POST"])
def paper_entry(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_or_404(request, slug)
    form = PaperSignatureForm(request.POST or None, needs_register=petition.needs_register)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        line = paper.PaperLine(
            sheet_reference=data["sheet_reference"],
            full_name=data["full_name"],
            show_name=data["show_name"],
            role=data["role"],
            municipality=data["municipality"],
            region=data["region"],
            entry_id=data.get("register_entry"),
        )
        try:
            signature = paper.enter_one(petition, line, request.user)
        except paper.PaperRefused as exc:
            for problem in exc.problems:
                form.add_error(None, str(problem))
        else:
            messages.success(
                request,
                _("Entered: signature #%(id)s from sheet “%(sheet)s” now counts.")
                % {"id": signature.pk, "sheet": signature.sheet_reference},
            )
            return redirect("moderation-paper", slug=petition.slug)
    status = 400 if form.errors else 200
    return _page(request, petition, form, SheetUploadForm(), status)


def _uploaded(form: SheetUploadForm, request: HttpRequest) -> bytes | None:
    """The file's bytes: the upload, or the previewed copy the commit sends back."""
    upload = request.FILES.get("file")
    if upload is not None:
        # One byte over the limit is enough for the parser to refuse it by size.
        data: bytes = upload.read(MAX_BYTES + 1)
        return data
    content = form.cleaned_data.get("content") or ""
    if not content:
        return None
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return None


@second_factor_required
@require_POST
def paper_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    """Preview an uploaded sheet line by line; with `commit`, enter all of it or nothing."""
    petition = _petition_or_404(request, slug)
    upload = SheetUploadForm(request.POST, request.FILES)
    if not upload.is_valid():
        form = PaperSignatureForm(needs_register=petition.needs_register)
        return _page(request, petition, form, upload, status=400)
    data = _uploaded(upload, request)
    if data is None:
        upload.add_error("file", _("Choose the CSV file of the sheet."))
        form = PaperSignatureForm(needs_register=petition.needs_register)
        return _page(request, petition, form, upload, status=400)
    encoding, sheet = upload.cleaned_data["encoding"], upload.cleaned_data["sheet"]
    parsed = parse_sheet_csv(data, encoding=encoding, sheet=sheet)
    problems = list(parsed.problems)
    checked = paper.check(petition, parsed.lines) if parsed.ok else paper.CheckResult()
    problems += checked.problems
    digest = hashlib.sha256(data).hexdigest()
    if "commit" in request.POST and not problems:
        try:
            entered = paper.enter(
                petition,
                parsed.lines,
                request.user,
                upload={
                    "sha256": digest,
                    "lines": len(parsed.lines),
                    "sheets": sorted({line.sheet_reference for line in parsed.lines}),
                },
            )
        except paper.PaperRefused as exc:
            problems = exc.problems
        else:
            messages.success(
                request,
                ngettext(
                    "Entered %(n)d signature from the file; it counts now.",
                    "Entered %(n)d signatures from the file; they count now.",
                    len(entered),
                )
                % {"n": len(entered)},
            )
            return redirect("moderation-paper", slug=petition.slug)
    listed = {line.line for line in parsed.lines}
    by_line: dict[int, list[str]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem.reason)
    response = render(
        request,
        "moderation/paper_preview.html",
        {
            "petition": petition,
            "version": petition.current_version(),
            "rows": [(line, by_line.get(line.line, [])) for line in parsed.lines],
            # Problems of the file, and of lines the file could not be read into.
            "file_problems": [p for p in problems if p.line not in listed],
            "problem_count": len(problems),
            "content": base64.b64encode(data).decode(),
            "encoding": encoding,
            "sheet": sheet,
            "sha256": digest,
            "committed": "commit" in request.POST,
        },
        status=400 if problems else 200,
    )
    response["Cache-Control"] = "no-store"
    return response
