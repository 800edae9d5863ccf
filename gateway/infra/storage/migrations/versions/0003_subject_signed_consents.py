"""subject-signed consents

Consents now carry the subject's EIP-712 signature and the registrar credential that binds
its key (docs/formats.md, "Subjects' signatures"). Consents registered before, by members
alone, never came from their subject: they are revoked here, and the read path ignores any
consent without a credential.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_key", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("credential_hash", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("registrar", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("credential_expires_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("nonce", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(length=65), nullable=True))
        batch_op.create_index(batch_op.f("ix_consents_credential_hash"), ["credential_hash"], unique=False)
        batch_op.create_index("ux_consents_subject_nonce", ["subject_ref", "nonce"], unique=True)
    consents = sa.table(
        "consents",
        sa.column("revoked_at", sa.BigInteger()),
        sa.column("credential_hash", sa.LargeBinary(length=32)),
    )
    op.execute(
        consents.update()
        .where(consents.c.credential_hash.is_(None), consents.c.revoked_at.is_(None))
        .values(revoked_at=int(time.time()))
    )


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ux_consents_subject_nonce")
        batch_op.drop_index(batch_op.f("ix_consents_credential_hash"))
        batch_op.drop_column("signature")
        batch_op.drop_column("nonce")
        batch_op.drop_column("credential_expires_at")
        batch_op.drop_column("registrar")
        batch_op.drop_column("credential_hash")
        batch_op.drop_column("subject_key")
