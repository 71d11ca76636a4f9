"""Former home of the attachment rules, still imported by the report modules: remove once they
import `tasks.link.storage`."""

from tasks.link.storage import path_of

__all__ = ["path_of"]
