"""The feedback log: citations in a fixed shape whatever a client sends, and a file that rotates
instead of growing without end."""

from assistant.feedback import MAX_FIELD_CHARS, FeedbackLog


def test_citations_keep_a_fixed_shape(tmp_path):
    log = FeedbackLog(tmp_path)
    odd = [
        {"n": 1, "doc_id": "a.txt", "quote": "q" * 70_000, "junk": "j" * 70_000, "start_char": "0"},
        {"n": True, "title": ["not", "text"], "end_char": 12},
        "not a citation",
    ]
    log.record(rating="up", question="q", answer="a", citations=odd)
    (entry,) = log.entries()
    assert entry["citations"] == [
        {"n": 1, "doc_id": "a.txt", "quote": "q" * MAX_FIELD_CHARS},
        {"end_char": 12},
    ]
    assert log.path.stat().st_size < 2 * MAX_FIELD_CHARS


def test_the_file_rotates_and_the_export_reads_both(tmp_path):
    log = FeedbackLog(tmp_path, rotate_bytes=2_000)
    ids = [log.record(rating="down", question=f"question {n}", answer="a" * 300) for n in range(20)]
    assert log.path.stat().st_size <= 2_000 and log.rotated.stat().st_size <= 2_000
    exported = [e["id"] for e in log.entries()]
    assert exported == ids[-len(exported) :], "the newest entries, oldest first"
    assert len(exported) < len(ids), "the oldest went with the second rotation"
