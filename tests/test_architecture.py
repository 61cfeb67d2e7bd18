"""The layers of ARCHITECTURE.md, enforced: the package's folders are its layers (and a few modules at
its top), and every import inside the package goes to the module's own layer or to one it may use."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
# The layers that are folders: every module inside one belongs to its layer
FOLDERS = ("library", "answering", "records", "evaluation", "web", "bench")
# The layers of the modules at the package's top
TOP = {
    "base": {"assistant", "errors", "modes", "config", "atomic", "lru"},
    "assistant": {"pipeline", "watch"},
    "cli": {"cli", "cli_eval", "cli_sources", "cluster"},
}
MAY_IMPORT = {
    "base": {"base"},
    "library": {"base", "library"},
    "answering": {"base", "library", "answering"},
    "records": {"base", "records"},
    "assistant": {"base", "library", "answering", "records", "assistant"},
    "evaluation": {"base", "library", "answering", "assistant", "evaluation"},
    "web": {"base", "answering", "assistant", "records", "evaluation", "web"},
    "bench": {"base", "library", "assistant", "records", "web", "evaluation", "bench"},
    "cli": {*TOP, *FOLDERS},
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside the package ("assistant.web.ui" -> "web")."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else parts[0]
    if name in FOLDERS:
        return name
    return next(layer for layer, names in TOP.items() if name in names)


def imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of the package by itself."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("assistant")
            ):
                found.append((module, node.module, node.lineno))
            elif isinstance(node, ast.Import):
                found += [(module, a.name, node.lineno) for a in node.names if a.name.startswith("assistant")]
    return found


def test_every_module_has_a_layer():
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        layer_of(module)  # raises StopIteration for a module the table does not place


def violations(found: list[tuple[str, str, int]]) -> list[str]:
    return [
        f"{importer} (line {line}, {layer_of(importer)}) imports {imported} ({layer_of(imported)})"
        for importer, imported, line in found
        if layer_of(imported) not in MAY_IMPORT[layer_of(importer)]
    ]


def test_imports_follow_the_layers():
    found = imports()
    assert len(found) > 100, "the package's own imports were read"
    assert violations(found) == []


def test_an_import_against_the_layers_is_caught():
    upward = [
        ("assistant.library.store", "assistant.answering.extractive", 3),
        ("assistant.web.ui", "assistant.cli", 9),
    ]
    assert violations(upward) == [
        "assistant.library.store (line 3, library) imports assistant.answering.extractive (answering)",
        "assistant.web.ui (line 9, web) imports assistant.cli (cli)",
    ]


def test_no_module_passes_400_lines():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, "split these by job (ARCHITECTURE.md)"
