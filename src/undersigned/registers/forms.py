from django import forms

from undersigned.core.forms import PlainTextField


class RegisterUploadForm(forms.Form):
    name = PlainTextField(
        label="Register",
        max_length=200,
        help_text="An existing register's name adds to it; a new name creates one.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8, with a header: full_name, role, municipality, region, and optionally email."
        ),
    )
