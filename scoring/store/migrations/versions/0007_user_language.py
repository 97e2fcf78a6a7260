"""users.language: the app's language a user chose last (issue 14 item 6), kept across logins and browsers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite copies the table (env.py sets render_as_batch for SQLite); a nullable column, so
    # existing users simply have made no choice yet (the app then uses the browser's choice or Japanese)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
