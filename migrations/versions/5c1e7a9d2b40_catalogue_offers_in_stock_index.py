"""the catalogue's offers in stock by supplier, in a partial index: "page x of y" counted from the index
alone

Revision ID: 5c1e7a9d2b40
Revises: 0d3f3e4454e3
Create Date: 2026-12-07 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a9d2b40'
down_revision = '0d3f3e4454e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalogue_offers', schema=None) as batch_op:
        batch_op.create_index('ix_catalogue_offers_in_stock', ['supplier_id'], unique=False,
                              postgresql_where=sa.text('active IS true AND stock > 0'),
                              sqlite_where=sa.text('active IS 1 AND stock > 0'))


def downgrade():
    with op.batch_alter_table('catalogue_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_catalogue_offers_in_stock')
