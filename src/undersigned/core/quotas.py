"""Quotas: how often one actor may do something that mails a person, per window.

Counted in the shared cache (Redis, or a database table without it), so
every process on every box counts the same uses: unlike the signing rate
limits (abuse/limits.py), these guard against using the site to send mail,
and a quota that each process counted alone would multiply with the workers.
The windows are fixed (a day is a UTC calendar day), which is what a
person refused is told: "try again tomorrow". Redis counts exactly; the
database table can count two uses at the same instant once, which a quota
meant to stop hundreds of mails can afford.
"""

from dataclasses import dataclass

from django.core.cache import caches
from django.utils import timezone

DAY = 24 * 3600


@dataclass(frozen=True)
class Quota:
    scope: str
    allowed: int  # 0 or less: no quota
    seconds: int = DAY

    def _key(self, ident: str) -> str:
        window = int(timezone.now().timestamp()) // self.seconds
        return f"quota:{self.scope}:{ident}:{window}"

    def take(self, ident: str) -> bool:
        """Count one use; False, and nothing counted, when the window's uses are all taken."""
        if self.allowed <= 0:
            return True
        cache = caches["shared"]
        key = self._key(ident)
        cache.add(key, 0, timeout=self.seconds + 60)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.seconds + 60)
            used = 1
        if used > self.allowed:
            self.give_back(ident)
            return False
        return True

    def give_back(self, ident: str) -> None:
        """Uncount a use taken for something that then did not happen."""
        if self.allowed <= 0:
            return
        try:
            caches["shared"].decr(self._key(ident))
        except ValueError:
            pass
