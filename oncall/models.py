"""Analysts, their paging numbers, rotations, members and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voiceline.orm import Base


class Analyst(Base):
    """A support analyst who can be on call and paged."""

    __tablename__ = "analysts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    contact_methods: Mapped[list[ContactMethod]] = relationship(
        back_populates="analyst", cascade="all, delete-orphan", order_by="ContactMethod.id"
    )


class ContactMethod(Base):
    """A way to page an analyst: SMS or voice to an E.164 number."""

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("analyst_id", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # sms | voice
    address: Mapped[str] = mapped_column(String(20))
    is_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(nullable=True)

    analyst: Mapped[Analyst] = relationship(back_populates="contact_methods")


class Rotation(Base):
    """An ordered list of analysts taking turns, restricted to weekly windows."""

    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    shift_length: Mapped[str] = mapped_column(String(16))  # 1w, 1d, 12h
    handoff_anchor: Mapped[str] = mapped_column(String(32))  # local wall time, ISO
    hours: Mapped[list[Any] | None] = mapped_column(nullable=True)  # None = always
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    members: Mapped[list[RotationMember]] = relationship(
        back_populates="rotation",
        cascade="all, delete-orphan",
        order_by="RotationMember.position",
    )
    overrides: Mapped[list[Override]] = relationship(
        back_populates="rotation", cascade="all, delete-orphan", order_by="Override.starts_at"
    )


class RotationMember(Base):
    """An analyst's place in a rotation."""

    __tablename__ = "rotation_members"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    rotation: Mapped[Rotation] = relationship(back_populates="members")
    analyst: Mapped[Analyst] = relationship()


class Override(Base):
    """Someone covers a rotation (or a named member of it) from starts_at to ends_at."""

    __tablename__ = "overrides"
    # Who is on call at an instant reads only the overrides in force then.
    __table_args__ = (Index("ix_overrides_rotation_id_ends_at", "rotation_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    replaces_analyst_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysts.id", ondelete="CASCADE"), nullable=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)

    rotation: Mapped[Rotation] = relationship(back_populates="overrides")
    analyst: Mapped[Analyst] = relationship(foreign_keys=[analyst_id])
    replaces: Mapped[Analyst | None] = relationship(foreign_keys=[replaces_analyst_id])
