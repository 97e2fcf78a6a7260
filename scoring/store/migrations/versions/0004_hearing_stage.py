"""the hearing stage (stages.md): a pack's stage per round with its fixed shortlist, the chair's shortlist edits,
and one review per (proposal, reviewer, stage)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite copies the tables (env.py sets render_as_batch for SQLite). Existing packs are in the
    # document stage and existing reviews are document reviews (server defaults).
    with op.batch_alter_table('round_packs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=20), server_default='document', nullable=False))
        batch_op.add_column(sa.Column('shortlist', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('hearing_params', sa.JSON(), nullable=True))
        batch_op.create_check_constraint('ck_round_packs_stage',
                                         "stage in ('document', 'shortlist', 'hearing', 'decided')")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=20), server_default='document', nullable=False))
        batch_op.drop_constraint('uq_reviews', type_='unique')
        batch_op.create_unique_constraint('uq_reviews_stage', ['proposal_pk', 'user_id', 'stage'])
        batch_op.create_check_constraint('ck_reviews_stage', "stage in ('document', 'hearing')")
    op.create_table(
        'shortlist_edits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('pack_id', sa.String(length=100), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action in ('add', 'remove')", name='ck_shortlist_edits_action'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name='fk_shortlist_edits_round_id_rounds',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_pk'], ['proposals.id'], name='fk_shortlist_edits_proposal_pk_proposals',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_shortlist_edits'),
    )
    op.create_index('ix_shortlist_edits_round', 'shortlist_edits', ['round_id', 'pack_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shortlist_edits_round', table_name='shortlist_edits')
    op.drop_table('shortlist_edits')
    op.execute("DELETE FROM reviews WHERE stage <> 'document'")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint('ck_reviews_stage', type_='check')
        batch_op.drop_constraint('uq_reviews_stage', type_='unique')
        batch_op.create_unique_constraint('uq_reviews', ['proposal_pk', 'user_id'])
        batch_op.drop_column('stage')
    with op.batch_alter_table('round_packs', schema=None) as batch_op:
        batch_op.drop_constraint('ck_round_packs_stage', type_='check')
        batch_op.drop_column('hearing_params')
        batch_op.drop_column('shortlist')
        batch_op.drop_column('stage')
