"""Outreach: weekly meeting reminders and coordinator broadcasts, exactly once, at national scale.

- ``groups.schedule``: when a group meets and when its members are reminded (pure).
- ``outreach.planner``: ``plan_batch(session, now)`` writes the due reminders into the outbox;
  ``run_planner(services)`` plans until no group is due.
- ``outreach.broadcast``: target, draft, texts, preview and price, start a coordinator's announcement.
- ``outreach.fanout``: expand a started broadcast into outbox rows in batches; resume one that stopped.
- ``jobs.outreach`` and ``jobs.schedule`` (above this package): the RQ jobs and scheduler tasks that drive them.
"""
