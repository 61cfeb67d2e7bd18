"""The database of conversations and feedback: its migrations match its models, a conversation is only
its visitor's, feedback keeps a fixed shape and a bounded size, and an earlier version's feedback file
is carried over."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from assistant.config import Settings
from assistant.errors import AssistantError, DatabaseError
from assistant.records.conversations import MAX_TURNS, ConversationNotFound, Conversations, new_token
from assistant.records.database import Database, database_url
from assistant.records.feedback import MAX_FIELD_CHARS, FeedbackLog
from assistant.records.schema import Base


@pytest.fixture
def database(tmp_path):
    db = Database(database_url(Settings(index_dir=tmp_path / "index")))
    yield db
    db.close()


def answer(text: str) -> dict:
    return {"answer": text, "citations": [], "mode": "extractive"}


def test_the_migrations_build_exactly_the_models_tables(database):
    database.migrate()
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert {"conversations", "turns", "feedback", "alembic_version"} <= set(
            inspect(connection).get_table_names()
        )


def test_a_conversation_keeps_its_turns_in_order_and_is_titled_by_its_first_question(database):
    conversations = Conversations(database)
    token = new_token()
    made = conversations.create(token)
    assert made["title"] == "" and made["turn_count"] == 0
    conversations.add_turn(token, made["id"], "Why is Rubio not going?", answer("He has meetings [1]"))
    conversations.add_turn(token, made["id"], "Who is going instead?", answer("Landau [1]"))
    assert conversations.history(token, made["id"], 20) == [
        {"question": "Why is Rubio not going?", "answer": "He has meetings [1]"},
        {"question": "Who is going instead?", "answer": "Landau [1]"},
    ]
    assert conversations.history(token, made["id"], 1) == [
        {"question": "Who is going instead?", "answer": "Landau [1]"}
    ]
    (listed,) = conversations.list(token)
    assert listed["title"] == "Why is Rubio not going?" and listed["turn_count"] == 2
    whole = conversations.get(token, made["id"])
    assert [t["answer"]["answer"] for t in whole["turns"]] == ["He has meetings [1]", "Landau [1]"]
    assert conversations.turn(token, made["id"], 1)["question"] == "Who is going instead?"
    assert conversations.turn(token, made["id"], 2) is None


def test_only_the_visitor_who_made_a_conversation_can_reach_it(database):
    conversations = Conversations(database)
    mine, theirs = new_token(), new_token()
    made = conversations.create(mine, "Mine")
    assert conversations.list(theirs) == []
    for action in (
        lambda: conversations.get(theirs, made["id"]),
        lambda: conversations.history(theirs, made["id"], 5),
        lambda: conversations.add_turn(theirs, made["id"], "q", answer("a")),
        lambda: conversations.rename(theirs, made["id"], "Taken"),
        lambda: conversations.delete(theirs, made["id"]),
    ):
        with pytest.raises(ConversationNotFound, match="no conversation"):
            action()
    assert conversations.get(mine, made["id"])["title"] == "Mine"
    with pytest.raises(AssistantError, match="the visitor token must be 16-128 characters"):
        conversations.list("short")


def test_rename_delete_and_the_turn_limit(database, monkeypatch):
    conversations = Conversations(database)
    token = new_token()
    made = conversations.create(token)
    renamed = conversations.rename(token, made["id"], "  NATO   meeting  ")
    assert renamed["title"] == "NATO meeting"
    with pytest.raises(AssistantError, match="title cannot be empty"):
        conversations.rename(token, made["id"], "   ")
    monkeypatch.setattr("assistant.records.conversations.MAX_TURNS", 2)
    for n in range(2):
        conversations.add_turn(token, made["id"], f"q{n}", answer("a"))
    with pytest.raises(AssistantError, match="this conversation has 2 turns, the most kept; start a new one"):
        conversations.add_turn(token, made["id"], "one more", answer("a"))
    conversations.delete(token, made["id"])
    assert conversations.list(token) == []
    with database.session() as session:  # the turns went with it
        assert session.execute(Base.metadata.tables["turns"].select()).all() == []
    assert MAX_TURNS >= 100


def test_feedback_citations_keep_a_fixed_shape(database):
    log = FeedbackLog(database)
    odd = [
        {"n": 1, "doc_id": "a.txt", "quote": "q" * 70_000, "junk": "j" * 70_000, "start_char": "0"},
        {"n": True, "title": ["not", "text"], "end_char": 12},
        "not a citation",
    ]
    log.record(rating="up", question="q", answer="a", citations=odd, conversation_id="c1")
    (entry,) = log.entries()
    assert entry["citations"] == [
        {"n": 1, "doc_id": "a.txt", "quote": "q" * MAX_FIELD_CHARS},
        {"end_char": 12},
    ]
    assert entry["conversation_id"] == "c1"
    with pytest.raises(AssistantError, match="rating must be 'up' or 'down', not 'meh'"):
        log.record(rating="meh", question="q", answer="a")


def test_the_oldest_feedback_gives_way_past_the_limit(database):
    log = FeedbackLog(database, max_entries=5)
    ids = [log.record(rating="down", question=f"question {n}", answer="a") for n in range(8)]
    assert [e["id"] for e in log.entries()] == ids[-5:]


def test_an_earlier_versions_feedback_file_is_carried_over_once(database, tmp_path):
    folder = tmp_path / "index"
    folder.mkdir(exist_ok=True)
    old = {"id": "a" * 32, "time": "2026-01-02T03:04:05+00:00", "rating": "up", "comment": "good",
           "question": "q", "answer": "a", "mode": "extractive", "citations": [{"n": 1}]}  # fmt: skip
    (folder / "feedback.jsonl").write_text(json.dumps(old) + "\n{not json\n")
    FeedbackLog(database, folder).record(rating="down", question="new", answer="b")
    entries = FeedbackLog(database, folder).entries()  # a second process: nothing imported twice
    assert [(e["id"], e["time"], e["comment"]) for e in entries][0] == (
        "a" * 32,
        "2026-01-02T03:04:05+00:00",
        "good",
    )
    assert [e["question"] for e in entries] == ["q", "new"]
    assert not (folder / "feedback.jsonl").exists()
    assert (folder / "feedback.jsonl.imported").read_text().startswith("{")


def test_a_database_that_cannot_be_opened_is_one_clear_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    database = Database(f"sqlite:///{blocked}/sub/assistant.db")
    with pytest.raises(DatabaseError, match=r"cannot open the database \(sqlite:///.*\): "):
        Conversations(database).list(new_token())


def test_a_url_sqlalchemy_cannot_use_names_the_setting():
    with pytest.raises(AssistantError, match="ASSISTANT_DATABASE_URL is not a database SQLAlchemy can open"):
        Database("nosuchdb://user:pw@host/db")


def _migrate(url: str, start: float) -> str:
    """In a process of its own: wait for the common start, migrate, say the version reached."""
    import time

    from sqlalchemy import text

    time.sleep(max(0.0, start - time.time()))
    database = Database(url)
    database.migrate()
    with database.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_processes_starting_together_migrate_the_schema_once(tmp_path):
    import multiprocessing
    import time

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    start = time.time() + 2.0
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        versions = pool.starmap(_migrate, [(url, start)] * 4)
    assert len(set(versions)) == 1, versions
    with Database(url).engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one()
    assert rows == 1


def test_on_postgresql_the_migrations_build_the_models_tables_and_run_once_for_processes_together(
    postgres_url,
):
    import multiprocessing
    import time

    start = time.time() + 2.0
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        versions = pool.starmap(_migrate, [(postgres_url, start)] * 3)
    assert len(set(versions)) == 1, versions
    database = Database(postgres_url)
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    conversations = Conversations(database)
    token = new_token()
    made = conversations.create(token)
    conversations.add_turn(token, made["id"], "Who is going instead?", answer("Christopher Landau [1]"))
    assert conversations.history(token, made["id"], 20) == [
        {"question": "Who is going instead?", "answer": "Christopher Landau [1]"}
    ]
    database.close()
