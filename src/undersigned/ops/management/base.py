# Moved to core, where every app's commands can share it; kept for existing imports.
from undersigned.core.management.base import ExamplesCommand

__all__ = ["ExamplesCommand"]
