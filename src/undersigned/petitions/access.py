"""Who may see and change what: least privilege, checked in one place."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from undersigned.petitions.models import Petition

AnyUser = User | AnonymousUser


def organised_by(user: AnyUser) -> "QuerySet[Petition]":
    if not user.is_authenticated:
        return Petition.objects.none()
    if not isinstance(user, User):
        return Petition.objects.none()
    if user.is_superuser:
        return Petition.objects.all()
    return Petition.objects.filter(organiser=user)


def moderated_by(user: AnyUser) -> "QuerySet[Petition]":
    """Petitions whose fraud tools (trending sources, bulk invalidation) the user may use.

    Its assigned moderators and the site's moderators (`moderate_any`). Not its
    organiser, who must not be able to drop signatures they dislike, and not a
    superuser as such: an admin who moderates is given the role, on the record.
    """
    if not user.is_authenticated or not isinstance(user, User):
        return Petition.objects.none()
    if user.has_perm("signing.moderate_any"):
        return Petition.objects.all()
    return Petition.objects.filter(moderators=user)


def reviewed_by(user: AnyUser) -> "QuerySet[Petition]":
    """Petitions whose claims awaiting review the user may read, identities included.

    Only the moderators assigned to the petition: reading who a hidden signer
    is, is the one privilege the platform gives sparingly (docs/security.md).
    """
    if not user.is_authenticated or not isinstance(user, User):
        return Petition.objects.none()
    return Petition.objects.filter(moderators=user)


def organiser_petition_or_404(user: AnyUser, slug: str) -> Petition:
    # 404 rather than 403, so that nobody learns which drafts exist.
    petition = organised_by(user).filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition among yours")
    return petition


def submissions_moderated_by(user: AnyUser) -> "QuerySet[Petition]":
    """Submissions whose moderation the user may see and decide (PUBLISHING=reviewed).

    The site's moderators (`moderate_any`), as for the fraud tools; never a
    submission of their own: whoever wrote a petition does not judge it.
    """
    if not user.is_authenticated or not isinstance(user, User):
        return Petition.objects.none()
    if not user.has_perm("signing.moderate_any"):
        return Petition.objects.none()
    return Petition.objects.exclude(organiser=user)


def may_moderate_submissions(user: AnyUser) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.has_perm(
        "signing.moderate_any"
    )


def may_edit_standards(user: AnyUser, *, add: bool = False) -> bool:
    """Staff with the permission to change (or add) the published standards (audited)."""
    permission = "petitions.add_standard" if add else "petitions.change_standard"
    return isinstance(user, User) and user.is_staff and user.has_perm(permission)
