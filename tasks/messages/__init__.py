"""Messages to departments and coordinators: which ledger rows go out (plan), their words
(render, labels), the claimed send (send), one delivery to one channel (deliver, outbox, tls),
the channel's rate cap (rate_limits) and the personal links they carry (tokens)."""
