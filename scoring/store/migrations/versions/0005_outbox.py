"""the outbox (issue 18 item 6): notices to applicants and reviewer reminders as e-mails, each with its status,
attempts, last error and the claim that makes a send happen at most once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('proposal_id', sa.String(length=100), nullable=True),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('attachment_name', sa.String(length=255), nullable=True),
        sa.Column('attachment', sa.LargeBinary(), nullable=True),
        sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=10), server_default='draft', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claim_token', sa.String(length=64), nullable=True),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind in ('notice', 'reminder')", name='ck_outbox_kind'),
        sa.CheckConstraint("status in ('draft', 'sending', 'sent', 'failed')", name='ck_outbox_status'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name='fk_outbox_round_id_rounds', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_outbox'),
        sqlite_autoincrement=True,   # ids never reused: a page showing a replaced draft cannot send its successor
    )
    op.create_index('ix_outbox_round', 'outbox', ['round_id', 'kind', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_round', table_name='outbox')
    op.drop_table('outbox')
