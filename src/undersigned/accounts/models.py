from django.conf import settings
from django.db import models


class Account(models.Model):
    """What this site keeps about a log-in beyond Django's user: its address's
    confirmation and its sessions' generation.

    Made on first need; a user without one has confirmed nothing and has
    never signed out everywhere.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The keyed hash of the address that was confirmed, not a flag: an address
    # changed afterwards (in the admin) is unconfirmed again without anyone
    # having to remember to reset anything.
    confirmed_email_hash = models.CharField(max_length=64, blank=True)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # "Sign out everywhere" raises it; a session that began under a lower
    # value is ended at its next request (accounts/sessions.py).
    session_generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"account of user {self.user_id}"
