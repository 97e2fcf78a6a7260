"""the committee's decisions (decisions.md, issue 18 item 3): draft edits per proposal, confirmed versions (the
decided set frozen as JSON) with their reopening, per-round notice settings and uploaded notice templates; the
reviewers' 「申請者への所見」 as its own column of reviews

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_comment', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'decision_edits',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id', ondelete='CASCADE'), nullable=False),
        sa.Column('pack_id', sa.String(100), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'), nullable=False),
        sa.Column('decision', sa.String(30), nullable=True),
        sa.Column('awarded_yen', sa.BigInteger(), nullable=True),
        sa.Column('approved_cost_yen', sa.BigInteger(), nullable=True),
        sa.Column('conditions', sa.Text(), nullable=False, server_default=''),
        sa.Column('reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('reserve_position', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('updated_by', sa.String(100), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('proposal_pk', name='uq_decision_edits'),
        sa.Index('ix_decision_edits_round', 'round_id', 'pack_id'),
    )
    op.create_table(
        'decision_versions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id', ondelete='CASCADE'), nullable=False),
        sa.Column('pack_id', sa.String(100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('confirmed_by', sa.String(100), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reopened_by', sa.String(100), nullable=True),
        sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reopen_reason', sa.Text(), nullable=True),
        sa.UniqueConstraint('round_id', 'pack_id', 'version', name='uq_decision_versions'),
    )
    op.create_table(
        'notice_settings',
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('feedback', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('sender', sa.Text(), nullable=False, server_default=''),
        sa.Column('updated_by', sa.String(100), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'notice_templates',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id', ondelete='CASCADE'), nullable=False),
        sa.Column('decision_code', sa.String(30), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_by', sa.String(100), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('round_id', 'decision_code', name='uq_notice_templates'),
    )


def downgrade() -> None:
    op.drop_table('notice_templates')
    op.drop_table('notice_settings')
    op.drop_table('decision_versions')
    op.drop_table('decision_edits')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('applicant_comment')
