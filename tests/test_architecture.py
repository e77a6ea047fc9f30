"""The pipeline's layers import downward only, and the public surface is what __all__ says."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import agentcheck

PACKAGE = Path(agentcheck.__file__).parent

LAYERS = {
    "policy": 0,  # the policy language (spec, CEL conditions, decisions, lint): vocabulary, like matchers
    "collect": 1,
    "runner": 2,
    "agents": 2,
    "llm": 2,
    "judge": 3,
    "release": 3,
    "report": 4,
    "drills": 4,
    "session": 5,
    "replay": 5,
    "saved_shards": 5,
    "reporting": 5,
    "scaffold": 5,
    "showcmd": 5,
    "policycmd": 5,
    "cli": 6,
    "cli_release": 6,
    "__main__": 6,
}
"""Everything not listed (types, matchers, problems, serialize) is layer 0: the shared vocabulary."""


def layer_of(module: str) -> int:
    if module == "agentcheck":
        return 7  # the public façade re-exports from every layer
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("agentcheck.")}


def test_lower_layers_never_import_higher_ones():
    offences = []
    for path in PACKAGE.rglob("*.py"):
        module = "agentcheck." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        own = layer_of(module)
        for imported in imports_of(path):
            if layer_of(imported) > own:
                offences.append(f"{module} (layer {own}) imports {imported} (layer {layer_of(imported)})")
    assert offences == []


def test_public_names_resolve():
    for name in agentcheck.__all__:
        assert getattr(agentcheck, name) is not None, name


def test_importing_the_cli_stays_light():
    """`agentcheck --help` must not pay for pydantic, jsonschema, deepdiff or openai."""
    code = "import sys, agentcheck.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                 .stdout.split())
    assert not loaded & {"pydantic", "jsonschema", "deepdiff", "openai", "yaml"}


def test_loading_the_project_file_imports_no_scenario_models(tmp_path):
    """`merge` and `compare` validate the project file only: neither the scenario and fixture models
    nor the drill expansion (which pulls the fault and e-mail modules) may load for it."""
    (tmp_path / "agentcheck.yaml").write_text("version: 1\nagents:\n  a: {kind: python, entrypoint: m:run}\n")
    code = ("import sys; from pathlib import Path; from agentcheck.collect import load_project; "
            "from agentcheck.drillspec import drill_tags; drill_tags(); "
            f"load_project(Path({str(tmp_path / 'agentcheck.yaml')!r}), cwd=Path({str(tmp_path)!r})); "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                 .stdout.split())
    assert "agentcheck.collect.project_models" in loaded  # (the check can fail: the project did load)
    assert not loaded & {"agentcheck.collect.models", "agentcheck.collect.drill_models", "agentcheck.drills",
                         "agentcheck.faults"}


def test_all_lists_exactly_the_lazy_exports():
    from agentcheck import _EXPORTS

    assert set(agentcheck.__all__) == {"__version__", *_EXPORTS}


def test_serialising_never_fails_on_non_finite_numbers():
    from agentcheck.serialize import dumps, to_data
    from agentcheck.verdict import GateCheck

    check = GateCheck(metric="max_p95_cost_usd", threshold=1.0, measured=float("nan"), passed=True)
    assert to_data(check)["measured"] is None
    assert json.loads(dumps([check, float("inf")])) == [
        {"metric": "max_p95_cost_usd", "threshold": 1.0, "measured": None, "passed": True},
        None,
    ]


def test_run_is_the_function_even_after_every_subpackage_loaded():
    """A subpackage named like a public function would shadow it once imported."""
    import importlib

    for path in PACKAGE.rglob("*.py"):
        module = "agentcheck." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if not module.endswith("__main__"):
            importlib.import_module(module.removesuffix(".__init__"))
    for name in agentcheck.__all__:
        assert not isinstance(getattr(agentcheck, name), type(agentcheck)), name


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Import order must not matter: modules that name each other (the scenario and drill models,
    the project models) load whichever comes first."""
    modules = sorted(
        "agentcheck." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        for p in (PACKAGE / "collect").glob("*.py")
    )
    for module in modules:
        code = f"import {module}; from agentcheck.collect.models import ScenarioModel as M; M.model_json_schema()"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, (module, done.stderr[-500:])
