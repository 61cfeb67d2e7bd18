"""The error family users see: one sentence saying what happened and the command that fixes it."""


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


class ModelLoadError(AssistantError):
    """The embedding model cannot be loaded."""
