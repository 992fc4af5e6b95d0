"""The whole schema: every area's tables on one metadata, for Alembic and each process.

Each area owns its models; relationships across areas are named by string, so the
mappers can only be configured once every area's module is imported. The app, the
worker, the CLI and Alembic import this module first.
"""

from __future__ import annotations

from escalation import models as escalation_models
from oncall import models as oncall_models
from voiceline import lease
from voiceline.admin import models as admin_models
from voiceline.customers import models as customer_models
from voiceline.incidents import models as incident_models
from voiceline.line import models as line_models
from voiceline.orm import Base
from voiceline.sla import models as sla_models

AREAS = (
    admin_models,
    customer_models,
    escalation_models,
    incident_models,
    lease,
    line_models,
    oncall_models,
    sla_models,
)
metadata = Base.metadata
