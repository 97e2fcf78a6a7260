"""the hearing timetable (stages.md "The hearing timetable"): a pack's timetable settings per round — start (JST),
order of the shortlisted proposals, slot and break minutes — as one JSON value on round_packs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('round_packs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timetable', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('round_packs', schema=None) as batch_op:
        batch_op.drop_column('timetable')
