"""SMS in and out: the inbox, the outbox, encoding and segment counting, sending jobs."""
