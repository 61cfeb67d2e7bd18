"""The Evaluate tab's job: `assistant eval` in a process of its own, with the server's settings."""

import sys
import time

import pytest

from assistant.config import Settings
from assistant.web.evaluate import evaluation_command, job_environment, run_evaluation


def test_the_job_gets_the_servers_settings_but_not_its_keys(tmp_path):
    settings = Settings(index_dir=tmp_path / "index", top_k=7, api_keys="a-key-of-sixteen-chars")
    env = job_environment(settings)
    assert env["ASSISTANT_INDEX_DIR"] == str(tmp_path / "index") and env["ASSISTANT_TOP_K"] == "7"
    assert "ASSISTANT_API_KEYS" not in env
    assert Settings.from_env(env).refusal_threshold is None, "an unset setting stays unset in the job"
    command = evaluation_command(tmp_path / "set.jsonl", ["hybrid", "bm25"], "extractive", 5, tmp_path)
    assert command[1:4] == ["-m", "assistant.cli", "eval"] and "hybrid,bm25" in command


def test_a_failing_job_reports_its_last_error_line(tmp_path):
    script = "import sys; print('loading', file=sys.stderr); sys.exit('error: no such set')"
    with pytest.raises(RuntimeError, match="^error: no such set$"):
        list(run_evaluation(Settings(index_dir=tmp_path), [sys.executable, "-c", script]))


def test_a_job_nobody_waits_for_is_stopped(tmp_path):
    marker = tmp_path / "finished"
    script = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    progress = run_evaluation(Settings(index_dir=tmp_path), [sys.executable, "-c", script])
    next(progress)
    progress.close()  # the page went away: the generator is closed, the job killed
    time.sleep(4)
    assert not marker.exists()
