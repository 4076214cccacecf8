"""The migrations build exactly the schema the models describe."""
import pytest
from flask_migrate import check

from core.extensions import db


def test_models_and_migrations_agree(app):
    # `flask db check`: on a difference Flask-Migrate exits with status 1, which fails this test.
    check()


def test_a_model_change_without_migration_is_detected(app):
    from sqlalchemy import Column, Integer, Table

    table = Table("not_migrated", db.metadata, Column("id", Integer, primary_key=True))
    try:
        with pytest.raises(SystemExit) as exit_info:
            check()
        assert exit_info.value.code == 1
    finally:
        db.metadata.remove(table)
