"""Former home of one delivery, still imported by the report modules: remove once they import
`tasks.messages.deliver`."""

from tasks.messages.deliver import Delivery, deliver, takes_attachments

__all__ = ["Delivery", "deliver", "takes_attachments"]
