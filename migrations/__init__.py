"""The read model's schema migrations (Alembic): env.py and one revision per schema change in
versions/, run by readmodel/migrate.py (`python -m readmodel.migrate`)."""
