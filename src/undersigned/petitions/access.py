"""Who may see and change what: least privilege, checked in one place."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from undersigned.petitions.models import Petition

AnyUser = AbstractBaseUser | AnonymousUser


def organised_by(user: AnyUser) -> "QuerySet[Petition]":
    if not user.is_authenticated:
        return Petition.objects.none()
    if getattr(user, "is_superuser", False):
        return Petition.objects.all()
    return Petition.objects.filter(organiser=user)


def moderated_by(user: AnyUser) -> "QuerySet[Petition]":
    if not user.is_authenticated:
        return Petition.objects.none()
    if getattr(user, "is_superuser", False) or user.has_perm("signing.moderate_any"):
        return Petition.objects.all()
    return Petition.objects.filter(Q(organiser=user) | Q(moderators=user)).distinct()


def organiser_petition_or_404(user: AnyUser, slug: str) -> Petition:
    # 404 rather than 403, so that nobody learns which drafts exist.
    petition = organised_by(user).filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition among yours")
    return petition
