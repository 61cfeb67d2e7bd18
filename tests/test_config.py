import re
from pathlib import Path

import pytest

from assistant.config import Settings, describe
from assistant.errors import ConfigError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_environment_overrides_defaults_with_types():
    settings = Settings.from_env(
        {"ASSISTANT_TOP_K": "9", "ASSISTANT_INDEX_DIR": "/tmp/x", "ASSISTANT_KEYWORD_WEIGHT": "1.5"}
    )
    assert settings.top_k == 9
    assert settings.index_dir == Path("/tmp/x")
    assert settings.keyword_weight == 1.5
    assert Settings.from_env({}).top_k == Settings().top_k


def test_flags_override_environment_and_none_means_unset():
    settings = Settings.from_env({"ASSISTANT_COLLECTION": "from-env"}, collection="from-flag")
    assert settings.collection == "from-flag"
    assert Settings.from_env({"ASSISTANT_COLLECTION": "from-env"}, collection=None).collection == "from-env"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ASSISTANT_TOP_K", "many", "ASSISTANT_TOP_K='many' is not a whole number"),
        ("ASSISTANT_TOP_K", "0", "ASSISTANT_TOP_K must be at least 1"),
        ("ASSISTANT_COLLECTION", "x", "ASSISTANT_COLLECTION must be 3-512"),
        ("ASSISTANT_CHROMA_URL", "localhost:8000", "ASSISTANT_CHROMA_URL must start with http://"),
        ("ASSISTANT_CHUNK_OVERLAP_TOKENS", "150", "ASSISTANT_CHUNK_OVERLAP_TOKENS must be between 0"),
        ("ASSISTANT_RETRIEVER", "magic", "ASSISTANT_RETRIEVER must be one of hybrid, dense, bm25"),
        ("ASSISTANT_DENSE_WEIGHT", "heavy", "ASSISTANT_DENSE_WEIGHT='heavy' is not a number"),
        ("ASSISTANT_INGEST_NICE", "-5", "ASSISTANT_INGEST_NICE must be between 0 and 19"),
    ],
)
def test_bad_value_names_the_variable(variable, value, message):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert str(error.value).startswith(message)


def test_readme_table_lists_every_setting():
    table_rows = re.findall(r"^\| `(ASSISTANT_[A-Z_]+)` \| `([^`]*)` \|", README.read_text(), re.M)
    documented = dict(table_rows)
    for variable, default, _ in describe():
        assert variable in documented, f"{variable} missing from the README's settings table"
        assert documented[variable] == default, f"README gives another default for {variable}"
