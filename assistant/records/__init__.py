"""The project's database: conversations and feedback, through SQLAlchemy (a SQLite file in the index
folder by default, any SQLAlchemy URL through ASSISTANT_DATABASE_URL), its schema kept by Alembic."""
