"""The LLM path end to end against a real OpenAI-compatible server (llama.cpp serving SmolLM2-135M).

The model is tiny and often wrong: these tests check the plumbing (streaming, marker checks,
fallback, condensing), never its knowledge.
"""

import time

import pytest
from conftest import free_port

from assistant.errors import AssistantError
from assistant.pipeline import Assistant

QUESTION = "Who will represent the U.S. at the NATO foreign ministers' meeting?"


@pytest.fixture
def llm_assistant(embedded_settings, embedder, seed_dir, llm_server) -> Assistant:
    Assistant(embedded_settings, embedder).library.ingest([seed_dir])
    settings = embedded_settings.replace(llm_url=llm_server, llm_model="smollm2", llm_timeout_s=60.0)
    return Assistant(settings, embedder)


def test_tokens_stream_then_a_checked_answer(llm_assistant):
    events = list(llm_assistant.ask_stream(QUESTION))
    tokens = [e for e in events if e.kind == "token"]
    assert len(tokens) >= 2, "the reply arrives in pieces"
    final = events[-1].answer
    assert events[-1].kind == "answer" and final.mode == "llm"
    assert llm_assistant.mode_label == f"LLM: smollm2 at {llm_assistant.settings.llm_url}"
    if not final.refused:
        numbers = {c.n for c in final.citations}
        for sentence in final.sentences:
            assert set(sentence.citations) <= numbers
            assert sentence.supported == bool(sentence.citations)
        assert all(f"[{n}]" in final.answer for n in numbers)


def test_a_stopped_server_gives_the_extractive_answer_with_a_notice(embedded_settings, embedder, seed_dir):
    Assistant(embedded_settings, embedder).library.ingest([seed_dir])
    dead = embedded_settings.replace(llm_url=f"http://127.0.0.1:{free_port()}/v1", llm_model="smollm2")
    events = list(Assistant(dead, embedder).ask_stream(QUESTION))
    notices = [e.text for e in events if e.kind == "notice"]
    answer = events[-1].answer
    assert answer.mode == "extractive"
    assert "Christopher Landau" in answer.answer
    assert notices and notices[0].startswith("The language model failed")
    assert notices[0].endswith("showing the offline extractive answer instead.")
    assert answer.warnings == notices


def test_a_slow_server_is_cut_off_at_the_timeout(llm_assistant):
    impatient = Assistant(llm_assistant.settings.replace(llm_timeout_s=0.05), llm_assistant.embedder)
    started = time.monotonic()
    answer = impatient.ask(QUESTION)
    assert time.monotonic() - started < 10
    assert answer.mode == "extractive"
    assert "Christopher Landau" in answer.answer
    assert any("showing the offline extractive answer" in w for w in answer.warnings)


def test_follow_up_is_condensed_by_the_llm(llm_assistant):
    history = [{"question": "Why is Marco Rubio not attending the NATO meeting?", "answer": "He is busy."}]
    answer = llm_assistant.ask("Who is going instead?", history=history)
    assert "condense" in answer.timings_ms
    assert answer.standalone_question and answer.standalone_question != "Who is going instead?"


def test_extractive_mode_can_be_chosen_with_an_llm_configured(llm_assistant):
    answer = llm_assistant.ask(QUESTION, mode="extractive")
    assert answer.mode == "extractive" and "Christopher Landau" in answer.answer


def test_llm_mode_without_an_llm_is_refused(embedded_settings, embedder):
    with pytest.raises(AssistantError) as error:
        Assistant(embedded_settings, embedder).ask(QUESTION, mode="llm")
    assert "set ASSISTANT_LLM_URL and ASSISTANT_LLM_MODEL" in str(error.value)


def test_a_local_gguf_model_answers_through_llama_cpp(embedded_settings, embedder, seed_dir, smollm2_path):
    Assistant(embedded_settings, embedder).library.ingest([seed_dir])
    local = Assistant(embedded_settings.replace(llm_gguf=str(smollm2_path), llm_max_tokens=64), embedder)
    assert local.mode_label == f"LLM: {smollm2_path.name}"
    events = list(local.ask_stream(QUESTION))
    assert sum(e.kind == "token" for e in events) >= 2
    answer = events[-1].answer
    assert answer.mode == "llm"
    numbers = {c.n for c in answer.citations}
    assert all(set(s.citations) <= numbers for s in answer.sentences)


def test_a_missing_gguf_file_is_a_clear_error(embedded_settings, tmp_path):
    with pytest.raises(AssistantError) as error:
        Assistant(embedded_settings.replace(llm_gguf=str(tmp_path / "none.gguf")))
    assert str(error.value) == f"ASSISTANT_LLM_GGUF: no such file {tmp_path / 'none.gguf'}"
