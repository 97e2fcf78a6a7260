"""login_sessions: built-in-account logins that survive a page reload or a server restart

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_login_sessions_user_id_users',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_login_sessions'),
        sa.UniqueConstraint('token_hash', name='uq_login_sessions_token_hash'),
    )
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_sessions_user_id', table_name='login_sessions')
    op.drop_table('login_sessions')
