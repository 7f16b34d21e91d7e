"""Every module that declares tables, imported so ``Base.metadata`` is complete.

Alembic's env.py and the migration check read the metadata from here. (Not
named ``schema``: that name belongs to the PyPI package the africastalking SDK
imports, and a top-level module of ours would shadow it.)
"""
import console.models  # noqa: F401
import field.models  # noqa: F401
import groups.changes  # noqa: F401
import groups.models  # noqa: F401
import groups.rules  # noqa: F401
import ledger.models  # noqa: F401
import messaging.models  # noqa: F401
import orgs.models  # noqa: F401
import outreach.models  # noqa: F401
import programmes.models  # noqa: F401
import reports.models  # noqa: F401
import support.models  # noqa: F401
from db import Base

metadata = Base.metadata
