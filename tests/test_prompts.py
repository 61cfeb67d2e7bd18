import pytest

from assistant.answering.prompts import PromptError, load_prompt, prompt_versions


def test_every_prompt_file_loads_with_a_version():
    versions = prompt_versions()
    assert set(versions) == {"answer", "condense", "refusal"}
    assert all(isinstance(v, int) and v >= 1 for v in versions.values())


def test_rendering_is_strict():
    prompt = load_prompt("condense")
    assert "Who is going?" in prompt.render(history="User: hi", question="Who is going?")
    with pytest.raises(PromptError) as error:
        prompt.render(question="Who is going?")
    assert "history" in str(error.value)
    with pytest.raises(PromptError):
        prompt.render(history="", question="q", extra="x")


def test_a_template_using_an_undeclared_variable_is_refused(tmp_path):
    (tmp_path / "bad.md").write_text("---\nname: bad\nversion: 1\nvariables: a\n---\n{a} and {b}\n")
    with pytest.raises(PromptError) as error:
        load_prompt("bad", tmp_path)
    assert "declares variables ['a'] but uses ['a', 'b']" in str(error.value)
