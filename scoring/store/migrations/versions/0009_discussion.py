"""the panel's discussion (issue 16 §7–9): comments per proposal with their versions, per-user read markers, and
the round's review-visibility policy (rounds.review_visibility)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_visibility', sa.String(length=20), nullable=True))
    op.create_table(
        'discussion_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('visibility', sa.String(length=20), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("visibility in ('committee', 'chairs')", name='ck_discussion_visibility'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.ForeignKeyConstraint(['proposal_pk'], ['proposals.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_discussion_proposal', 'discussion_comments', ['proposal_pk', 'id'])
    op.create_table(
        'discussion_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('visibility', sa.String(length=20), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['comment_id'], ['discussion_comments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_pk'], ['proposals.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('comment_id', 'version', name='uq_discussion_versions'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_discussion_versions_proposal', 'discussion_versions', ['proposal_pk', 'id'])
    op.create_table(
        'discussion_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), nullable=False),
        sa.Column('seen_upto', sa.Integer(), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_pk'], ['proposals.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'proposal_pk', name='uq_discussion_reads'),
    )


def downgrade() -> None:
    op.drop_table('discussion_reads')
    op.drop_index('ix_discussion_versions_proposal', table_name='discussion_versions')
    op.drop_table('discussion_versions')
    op.drop_index('ix_discussion_proposal', table_name='discussion_comments')
    op.drop_table('discussion_comments')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('review_visibility')
