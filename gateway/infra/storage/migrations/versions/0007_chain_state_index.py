"""chain-state index: records' lifecycle states, commitments and the block they are current to

Revision ID: 0007
Revises: 0006

Derived from the chain (gateway/infra/chain_index.py): the follower fills the tables from
the deployment's block on its first pass, so an existing database needs no data migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_record_states",
        sa.Column("record_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("repair_pending", sa.Boolean(), nullable=False),
        sa.Column("superseded_by", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_table(
        "index_commitments",
        sa.Column("commitment_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("department", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("subject_tag", sa.LargeBinary(length=32), nullable=False),
        sa.Column("doc_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("breach_record_id", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("commitment_id"),
    )
    with op.batch_alter_table("index_commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_commitments_department"), ["department"], unique=False)
        batch_op.create_index(batch_op.f("ix_index_commitments_status"), ["status"], unique=False)
    op.create_table(
        "index_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("advanced_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("index_cursor")
    with op.batch_alter_table("index_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_commitments_status"))
        batch_op.drop_index(batch_op.f("ix_index_commitments_department"))
    op.drop_table("index_commitments")
    op.drop_table("index_record_states")
