"""dmp_patients: the patient's refusals of emergency access (FACTS §3.5: consents to bris de glace
and to the regulation centre are proposed at DMP creation as pre-checked boxes)

Revision ID: 0002_dmp_emergency
Revises: 0001_dmp
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_dmp_emergency"
down_revision = "0001_dmp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dmp_patients", sa.Column("refuses_bris_de_glace", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column("dmp_patients", sa.Column("refuses_centre_15", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("dmp_patients", "refuses_centre_15")
    op.drop_column("dmp_patients", "refuses_bris_de_glace")
