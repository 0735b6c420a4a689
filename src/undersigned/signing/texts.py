"""Which text a signer read: the sign form's hidden field, checked.

The petition page puts the id of the text version it shows into the sign
form (petitions/templates/petitions/petition.html); a signature records that
version, so a signer of the English translation signs the English text and
their log entry names its hash.
"""

from django.utils import translation
from django.utils.translation import gettext as _

from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.texts import cached_texts

FIELD = "text_version"


class TextRefused(Exception):
    """The form names a text the signer cannot sign now; the message says why.

    Raised with a message in the active language, before anything is written.
    """

    def __init__(self, message: str, language: str | None = None) -> None:
        super().__init__(message)
        self.language = language  # the language of the text to show them again, if known


def text_read(petition: Petition, posted: str | None) -> TextVersion:
    """The text the signer read, as the form's hidden field (`posted`) names it.

    One of the petition's current texts (one per language) from the page's
    copy, so that a correction or a translation reaches the page and this
    check together. A form without the field (an old page, a script) signs the
    text the page shows this visitor. Anything else is refused: not a number,
    a version of another petition or of none, one not published, or a text
    corrected since the page was read (the signer reads the correction first).
    A text published after this process's copy was read is taken from the
    database: a faster process showed it.
    """
    texts = cached_texts(petition)
    if posted is None:
        return texts.for_reader(translation.get_language())
    for version in texts.versions:
        if posted == str(version.pk):
            return version
    found = None
    if posted.isdigit() and len(posted) < 19:  # within a database's integer
        found = TextVersion.objects.filter(
            pk=int(posted), petition=petition, published_at__isnull=False
        ).first()
    if found is not None:
        copy = texts.in_language(found.language)
        if copy is None or found.number > copy.number:
            # Published after this process's copy was read: another process
            # showed it already, and it is the current text in its language.
            return found
        raise TextRefused(
            _(
                "The text you read has been corrected since you opened the page. "
                "Read the current text, then sign again."
            ),
            found.language,
        )
    raise TextRefused(
        _("This form does not say which of the petition's texts you read. Read it, then sign.")
    )
