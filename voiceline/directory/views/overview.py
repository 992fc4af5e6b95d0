"""The directory's front page: customers (searchable), plans, policies, and the way to
everything else the directory holds."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from escalation.models import EscalationPolicy
from voiceline.admin.auth import login_required
from voiceline.customers.models import Contact, Customer, Plan
from voiceline.db import request_session
from voiceline.directory.views.blueprint import bp

SHOWN = 200


@bp.get("/")
@login_required
def overview() -> ResponseReturnValue:
    """List customers, plans and policies, with links to edit each."""
    db = request_session()
    wanted = (request.args.get("q") or "").strip()[:100]
    query = select(Customer).options(
        selectinload(Customer.plan),
        selectinload(Customer.escalation_policy),
        selectinload(Customer.contacts),
    )
    if wanted:
        like = f"%{wanted}%"
        has_contact = select(Contact.customer_id).where(
            or_(Contact.name.ilike(like), Contact.phone.ilike(like))
        )
        query = query.where(
            or_(Customer.name.ilike(like), Customer.code.ilike(like), Customer.id.in_(has_contact))
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    customers = list(db.scalars(query.order_by(Customer.name).limit(SHOWN)))
    plans = list(db.scalars(select(Plan).options(selectinload(Plan.targets)).order_by(Plan.name)))
    users = dict(
        db.execute(
            select(Customer.plan_id, func.count(Customer.id)).group_by(Customer.plan_id)
        ).all()
    )
    policies = list(db.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name)))
    return render_template(
        "directory/overview.html",
        customers=customers,
        total=total,
        shown=SHOWN,
        wanted=wanted,
        plans=plans,
        plan_users=users,
        policies=policies,
    )
