"""Outreach: weekly meeting reminders and coordinator broadcasts, exactly once, at national scale.

- ``groups.schedule``: when a group meets and when its members are reminded (pure).
- ``outreach.planner``: ``plan_batch(session, now)`` writes the due reminders into the outbox;
  ``run_planner(services)`` plans until no group is due.
- ``outreach.broadcast``: preview, start and fan out a coordinator's announcement.
- ``jobs.outreach`` and ``jobs.schedule`` (above this package): the RQ jobs and scheduler tasks that drive them.
"""
