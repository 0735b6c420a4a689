from django import forms
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import PlainTextField


class RegisterUploadForm(forms.Form):
    name = PlainTextField(
        label=_("Register"),
        max_length=200,
        help_text=_("An existing register's name adds to it; a new name creates one."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with a header: full_name, role, municipality, region, and optionally email."
        ),
    )
