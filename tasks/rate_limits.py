"""Former home of the send-rate caps, still imported by the report modules: remove once they
import `tasks.messages.rate_limits`."""

from tasks.messages.rate_limits import NoTurn, cap_of, wait_turn

__all__ = ["NoTurn", "cap_of", "wait_turn"]
