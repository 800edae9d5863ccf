"""subject filings: subjects' own signed objections and repair requests

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_filings",
        sa.Column("filing_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_ref", sa.LargeBinary(length=32), nullable=False),
        sa.Column("filed_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("evidence_kind", sa.String(length=40), nullable=True),
        sa.Column("documents_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("credential_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_key", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=65), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("filed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("filing_id"),
    )
    with op.batch_alter_table("subject_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_filings_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_filings_subject_ref"), ["subject_ref"], unique=False)
        batch_op.create_index("ux_subject_filings_subject_nonce", ["subject_ref", "nonce"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("subject_filings", schema=None) as batch_op:
        batch_op.drop_index("ux_subject_filings_subject_nonce")
        batch_op.drop_index(batch_op.f("ix_subject_filings_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_subject_filings_record_id"))
    op.drop_table("subject_filings")
