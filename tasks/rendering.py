"""Former home of message wording, still imported by the report modules: remove once they
import `tasks.messages.render` and `tasks.messages.labels`."""

from tasks.messages.labels import STATUS_LABELS, message_label, wording_of
from tasks.messages.render import Message, format_deadline, period_text, text_template

__all__ = [
    "STATUS_LABELS",
    "Message",
    "format_deadline",
    "message_label",
    "period_text",
    "text_template",
    "wording_of",
]
