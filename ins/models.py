"""Tables of the ``ins`` service (persistence only: repositories return domain objects).

``ins_identities`` holds the identities INSi knows, one row per person per workspace, with the
traits normalised as INSi compares them (FACTS §1.2, A.2) and indexed for the traits search
(birth name + birth date + sex), the matricule and the carte Vitale (insured person's NIR).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.changes import watch
from sandbox.db import Base
from sandbox.models import JSONType


class IdentityRow(Base):
    __tablename__ = "ins_identities"
    workspace: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.name", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    birth_name: Mapped[str] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(300))  # space-separated, register order
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    birth_place: Mapped[str] = mapped_column(String(5))  # COG
    number: Mapped[str] = mapped_column(String(13))
    key: Mapped[str] = mapped_column(String(2))
    oid: Mapped[str] = mapped_column(String(64))
    history: Mapped[list] = mapped_column(JSONType)  # [{number, key, oid, start, end}]
    identity_status: Mapped[str] = mapped_column(String(5))
    vitale_od: Mapped[str | None] = mapped_column(String(15), nullable=True)
    vitale_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (
        Index("ix_ins_identities_traits", "workspace", "birth_name", "birth_date", "sex"),
        Index("ix_ins_identities_number", "workspace", "number"),
        Index("ix_ins_identities_vitale", "workspace", "vitale_od"),
    )


# the DMP keeps per-process copies of RNIV statuses (dmp/identity.py): every write to this table is a
# change every process and node honours from its next request (sandbox.changes)
watch(IdentityRow.__table__)

