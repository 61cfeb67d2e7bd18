"""Refusal calibration: the threshold table, the chosen operating point, and the command on the seed."""

from assistant.cli import main
from assistant.evaluation.calibration import Outcome, best_threshold, threshold_table


def outcomes() -> list[Outcome]:
    return [
        Outcome(answerable=True, correct=True, confidence=0.9),
        Outcome(answerable=True, correct=True, confidence=0.7),
        Outcome(answerable=True, correct=False, confidence=0.5),  # a wrong answer
        Outcome(answerable=False, correct=False, confidence=0.3),  # should be refused
        Outcome(answerable=False, correct=False, confidence=0.8, refused=True),  # refused at any threshold
    ]


def test_the_table_counts_right_answers_right_refusals_and_wrong_answers():
    table = {round(t, 2): rest for t, *rest in threshold_table(outcomes())}
    assert table[0.0] == [2, 1, 2]  # everything answered but the always-refused one
    assert table[0.4] == [2, 2, 1]  # the unanswerable one at 0.3 is refused now
    assert table[0.6] == [2, 2, 0]  # and the wrong answer at 0.5
    assert table[0.8] == [1, 2, 0]  # a right answer is lost
    assert table[0.98] == [0, 2, 0]


def test_the_threshold_is_the_middle_of_the_best_plateau():
    # utility (right + right refusals - wrong) peaks at 4 for thresholds 0.52 .. 0.70
    assert best_threshold(outcomes()) == 0.62


def test_calibrate_suggests_a_threshold_for_the_seed_set(embedded_settings, embedder, seed_dir, capsys):
    from assistant.pipeline import Assistant

    Assistant(embedded_settings, embedder).library.ingest([seed_dir])
    questions = seed_dir.parent / "set.jsonl"
    questions.write_text(
        '{"question": "Who will represent the U.S. at the NATO meeting?", "answers": ["Landau"]}\n'
        '{"question": "What is the capital of Australia?", "answerable": false}\n'
    )
    assert main(["--index-dir", str(embedded_settings.index_dir), "calibrate", str(questions)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("threshold  right  refused(unanswerable)  wrong")
    assert "2 questions (1 answerable); suggested ASSISTANT_REFUSAL_THRESHOLD=" in out
    rows = [line.split() for line in out.splitlines()[1:-1]]
    assert rows[0] == ["0.00", "1", "1", "0"], "refused even with refusal off: no passage is about Australia"
