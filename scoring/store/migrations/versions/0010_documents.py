"""proposal documents (issue 16 items 1–6): content-addressed blobs (documents: sha256 → bytes, size, content type;
the same bytes stored once) and each proposal's documents (file name, kind 提案書/別紙/その他, pages, who, when)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'documents',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name='pk_documents'),
    )
    op.create_table(
        'proposal_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('proposal_pk', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('proposal', 'attachment', 'other')", name='ck_proposal_documents_kind'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name='fk_proposal_documents_round_id_rounds',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_pk'], ['proposals.id'], name='fk_proposal_documents_proposal_pk_proposals',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['documents.sha256'], name='fk_proposal_documents_sha256_documents'),
        sa.PrimaryKeyConstraint('id', name='pk_proposal_documents'),
        sa.UniqueConstraint('round_id', 'file_name', name='uq_proposal_documents_name'),
    )
    op.create_index('ix_proposal_documents_proposal', 'proposal_documents', ['proposal_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_proposal_documents_proposal', table_name='proposal_documents')
    op.drop_table('proposal_documents')
    op.drop_table('documents')
