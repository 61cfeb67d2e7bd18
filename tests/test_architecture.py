"""The layers of ARCHITECTURE.md, enforced: every import inside the package goes to the module's own
layer or to one it may use."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
LAYERS = {
    "base": {"assistant", "errors", "modes", "config", "atomic", "lru"},
    "library": {"corpus", "chunking", "encoders", "embeddings", "chroma", "store", "ingest", "keyword",
                "synthetic"},
    "answering": {"grounding", "dates", "names", "places", "relations", "constraints", "entities",
                  "candidates", "retrieval", "answer", "extractive", "prompts", "llm"},
    "assistant": {"resources", "library", "pipeline", "feedback"},
    "evaluation": {"evaluation"},
    "web": {"web"},
    "tools": {"bench", "bench_report", "loadtest"},
    "cli": {"cli", "cli_eval", "__main__"},
}  # fmt: skip
MAY_IMPORT = {
    "base": {"base"},
    "library": {"base", "library"},
    "answering": {"base", "library", "answering"},
    "assistant": {"base", "library", "answering", "assistant"},
    "evaluation": {"base", "library", "answering", "assistant", "evaluation"},
    "web": {"base", "answering", "assistant", "evaluation", "web"},
    "tools": {"base", "library", "assistant", "evaluation", "tools"},
    "cli": set(LAYERS),
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside the package ("assistant.web.ui" -> "web")."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else parts[0]
    return next(layer for layer, names in LAYERS.items() if name in names)


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
    upward = [("assistant.store", "assistant.extractive", 3), ("assistant.web.ui", "assistant.cli", 9)]
    assert violations(upward) == [
        "assistant.store (line 3, library) imports assistant.extractive (answering)",
        "assistant.web.ui (line 9, web) imports assistant.cli (cli)",
    ]


def test_no_module_passes_400_lines():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, "split these by job (ARCHITECTURE.md)"
