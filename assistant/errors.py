"""The error family users see: one sentence saying what happened and the command that fixes it."""

from __future__ import annotations


class AssistantError(Exception):
    """A failure the user can act on; its message is shown as is, without a traceback."""


class ConfigError(AssistantError):
    """A setting (environment variable or flag) has an invalid value."""


class ArticleError(AssistantError):
    """One input file cannot be turned into an article; the rest of a batch carries on."""


class IndexMissingError(AssistantError):
    """There is no index yet, or it holds no articles."""


class IndexMismatchError(AssistantError):
    """The index was built with a different embedding model or chunking than the settings ask for."""


class StoreUnavailableError(AssistantError):
    """The Chroma store cannot be opened or reached."""


class DatabaseError(AssistantError):
    """The database of conversations and feedback cannot be opened, reached or migrated."""


class ModelLoadError(AssistantError):
    """The embedding model cannot be loaded."""


class DateFilterError(AssistantError):
    """A date filter that is not a calendar date; each interface names the field its own way."""

    def __init__(self, field: str, value: str, label: str = "") -> None:
        self.field, self.value = field, value
        super().__init__(
            f"{label or field} {value!r} is not a date in the form YYYY-MM-DD, or days or weeks back (7d, 2w)"
        )

    def named(self, label: str) -> DateFilterError:
        """The same error, the field named as the interface calls it ("--since", "filters.since")."""
        return DateFilterError(self.field, self.value, label)
