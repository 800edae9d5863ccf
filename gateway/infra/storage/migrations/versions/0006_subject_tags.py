"""subject tags: record leaves name the subject blinded per record; commitments' subjects

Revision ID: 0006
Revises: 0005

Record leaves used to carry the stable subjectRef; from this revision they carry
subjectTag = keccak256(abi.encode(subjectRef, subjectSalt)) (docs/formats.md, "Subject
tags"), under new contracts. Rows of the old leaf format belong to a deployment of the
old contracts and cannot be re-expressed (their providers signed the old leaves), so a
database that holds records is refused, untouched, with what to do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM records")).scalar_one()
    if held:
        raise RuntimeError(
            f"this database holds {held} records whose leaves name the subject by its stable subjectRef, "
            "a format of the contracts before subject tags; serve them with the release that wrote them, "
            "and start this release with a new database against a new deployment"
        )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_tag", sa.LargeBinary(length=32), nullable=False))
        batch_op.add_column(sa.Column("subject_salt", sa.LargeBinary(length=32), nullable=False))
    op.create_table(
        "commitment_subjects",
        sa.Column("commitment_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("department", sa.String(length=42), nullable=False),
        sa.Column("subject_ref", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_salt", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("commitment_id"),
    )
    with op.batch_alter_table("commitment_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_subjects_department"), ["department"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitment_subjects_subject_ref"), ["subject_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commitment_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_subjects_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_commitment_subjects_department"))
    op.drop_table("commitment_subjects")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("subject_salt")
        batch_op.drop_column("subject_tag")
