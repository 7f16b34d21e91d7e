"""Field staff and their visits, mobile-team visit plans, outside lenders and referrals.

Built on the shared vocabulary of ``orgs.models`` (field workers, organisations of
kind lender, projects); the tables here are this feature's own (``field.models``).
"""
