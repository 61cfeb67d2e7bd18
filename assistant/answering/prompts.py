"""Prompt files: `prompts/<name>.md`, front matter (name, version, variables) then the template.

Templates use `{variable}` placeholders and are rendered strictly: a missing or unexpected variable is an
error, never a silently empty string. Literal braces are written `{{` and `}}`.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


class PromptError(AssistantError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    variables: frozenset[str]
    template: str

    def render(self, **values: str) -> str:
        given = set(values)
        if given != self.variables:
            missing = ", ".join(sorted(self.variables - given)) or "none"
            extra = ", ".join(sorted(given - self.variables)) or "none"
            raise PromptError(f"prompt {self.name!r} needs {{{missing}}} missing, {{{extra}}} unexpected")
        return self.template.format(**values)


@functools.cache
def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    path = directory / f"{name}.md"
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc.strerror or exc}") from None
    head, sep, body = raw.partition("\n---\n")
    if not raw.startswith("---\n") or not sep:
        raise PromptError(f"prompt file {path} must open with front matter between '---' lines")
    meta = {}
    for line in head.removeprefix("---\n").splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    try:
        version = int(meta["version"])
    except (KeyError, ValueError):
        raise PromptError(f"prompt file {path} needs a whole-number 'version'") from None
    declared = frozenset(v.strip() for v in meta.get("variables", "").split(",") if v.strip())
    template = body.strip("\n")
    used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    if used != declared:
        raise PromptError(f"prompt file {path} declares variables {sorted(declared)} but uses {sorted(used)}")
    return Prompt(meta.get("name", name), version, declared, template)


def prompt_versions(directory: Path = PROMPTS_DIR) -> dict[str, int]:
    """Every prompt's version, for reports and manifests."""
    return {path.stem: load_prompt(path.stem, directory).version for path in sorted(directory.glob("*.md"))}
