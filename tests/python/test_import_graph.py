"""The package's modules import each other in one direction: no import circle, counting imports
inside functions too (they only hide a circle, they do not remove it). Also: callbacks and
saving do not depend on forgeflow.models (they use the model's small interface, see
callbacks/callback.py, and a registry of model classes)."""
import ast
import pathlib

import forgeflow

PACKAGE = pathlib.Path(forgeflow.__file__).parent


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(module, is_package, node, known):
    """The forgeflow modules an import statement of `module` names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in known:
            out.append(sub)  # a submodule
        elif target in known:
            out.append(target)  # a name defined in the module
    return out


def import_graph():
    modules = _modules()
    # Compiled extension modules (forgeflow._core) are leaves.
    known = set(modules) | {f"forgeflow.{p.name.split('.')[0]}" for p in PACKAGE.glob("*.so")}
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges.update(_resolve(name, path.name == "__init__.py", node, known))
        edges.discard(name)
        graph[name] = edges
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return result


def _reaches(graph, start, target):
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        if v == target:
            return True
        if v not in seen:
            seen.add(v)
            todo.extend(graph.get(v, ()))
    return False


def test_the_graph_reader_sees_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = import_graph()
    assert "forgeflow._loops" in graph["forgeflow.models"]  # it reads real imports


def test_no_import_circle():
    assert _cycles(import_graph()) == []


def test_callbacks_and_saving_do_not_depend_on_models():
    graph = import_graph()
    for module in graph:
        if module.startswith(("forgeflow.callbacks", "forgeflow.saving")):
            assert not _reaches(graph, module, "forgeflow.models"), module
