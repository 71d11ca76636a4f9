"""Former home of the outbox, still imported by the report modules: remove once they import
`tasks.messages.outbox`."""

from tasks.messages.outbox import FileToSend

__all__ = ["FileToSend"]
