"""Messages in and out: inbound bookkeeping, the outbox and its sending rules."""
