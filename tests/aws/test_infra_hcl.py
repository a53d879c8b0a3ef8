"""A static check of infra/ in the spirit of `terraform validate` (no Terraform binary can be
installed on these machines): every .tf file parses as HCL2 (python-hcl2), and in the module and
each workspace every reference resolves — `var.X` to a declared variable, `local.X` to a local,
`aws_T.N` / `data.aws_T.N` to a declared resource or data source, `module.M.O` to a module whose
source declares the output `O` — and each module call passes only declared variables and every
variable without a default."""

import re
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CONFIGS = sorted({p.parent for p in INFRA.rglob("*.tf")})


def unquote(name: str) -> str:
    return name.strip('"')


def parse(config: Path) -> Tuple[Dict[str, List[Any]], str]:
    """The merged HCL blocks of a configuration folder, and its text without comments."""
    blocks: Dict[str, List[Any]] = {}
    texts = []
    for tf in sorted(config.glob("*.tf")):
        text = tf.read_text()
        with tf.open() as f:
            for kind, entries in hcl2.load(f).items():
                if not kind.startswith("__"):
                    blocks.setdefault(kind, []).extend(entries)
        text = "\n".join(re.sub(r"(^|\s)(#|//).*$", "", line) for line in text.splitlines())
        # `moved` blocks name where resources were, which no longer exist by design
        # (terraform validate, in test_infra_terraform.py, checks them).
        texts.append(re.sub(r"\bmoved\s*\{[^{}]*\}", "", text))
    return blocks, "\n".join(texts)


def declared(blocks: Dict[str, List[Any]]) -> Dict[str, Set[str]]:
    names: Dict[str, Set[str]] = {"variable": set(), "output": set(), "local": set(), "resource": set(), "data": set(), "module": set()}
    for kind in ("variable", "output", "module"):
        for entry in blocks.get(kind, []):
            names[kind].update(unquote(k) for k in entry)
    for entry in blocks.get("locals", []):
        names["local"].update(k for k in entry if not k.startswith("__"))
    for kind in ("resource", "data"):
        for entry in blocks.get(kind, []):
            for rtype, body in entry.items():
                names[kind].update(f"{unquote(rtype)}.{unquote(n)}" for n in body)
    return names


def variables_without_default(blocks: Dict[str, List[Any]]) -> Set[str]:
    return {unquote(name) for entry in blocks.get("variable", []) for name, body in entry.items() if "default" not in body}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_reference_resolves(config: Path) -> None:
    blocks, text = parse(config)
    names = declared(blocks)
    problems = []
    for var in set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", text)):
        if var not in names["variable"]:
            problems.append(f"var.{var} is not declared")
    for local in set(re.findall(r"\blocal\.([A-Za-z_][\w-]*)", text)):
        if local not in names["local"]:
            problems.append(f"local.{local} is not declared")
    for ref in set(re.findall(r"\bdata\.(aws_\w+\.[\w-]+)", text)):
        if ref not in names["data"]:
            problems.append(f"data.{ref} is not declared")
    for ref in set(re.findall(r"(?<![.\w\"])(aws_\w+\.[A-Za-z_][\w-]*)", text)):
        if ref not in names["resource"]:
            problems.append(f"{ref} is not a declared resource")
    for entry in blocks.get("module", []):
        for module, body in entry.items():
            source = (config / unquote(body["source"])).resolve()
            assert source.is_dir(), f"module {module}: no folder {source}"
            module_blocks, _ = parse(source)
            module_names = declared(module_blocks)
            passed = {k for k in body if k not in ("source", "__is_block__", "__comments__", "providers", "depends_on")}
            problems += [f"module {module}: {k} is not a variable of {source.name}" for k in passed - module_names["variable"]]
            problems += [f"module {module}: required variable {k} is not passed" for k in variables_without_default(module_blocks) - passed]
            for out in set(re.findall(r"\bmodule\.%s\.([\w-]+)" % re.escape(unquote(module)), text)):
                if out not in module_names["output"]:
                    problems.append(f"module.{unquote(module)}.{out}: {source.name} has no such output")
    for ref in set(re.findall(r"\bmodule\.([\w-]+)\.", text)):
        if ref not in names["module"]:
            problems.append(f"module.{ref} is not declared")
    assert not problems, problems


def test_the_checks_find_a_broken_reference(tmp_path: Path) -> None:
    """The checker itself: a configuration with a dangling reference of each kind fails."""
    (tmp_path / "main.tf").write_text(
        'variable "a" {}\n'
        'resource "aws_s3_bucket" "b" { bucket = "${var.a}-${var.missing}" }\n'
        'output "o" { value = aws_s3_bucket.nope.arn }\n'
        'output "p" { value = local.none }\n'
    )
    with pytest.raises(AssertionError) as failure:
        test_every_reference_resolves(tmp_path)
    message = str(failure.value)
    for problem in ("var.missing", "aws_s3_bucket.nope", "local.none"):
        assert problem in message, message


def test_there_is_something_to_check() -> None:
    assert {p.relative_to(INFRA).as_posix() for p in CONFIGS} >= {
        "modules/agent-mesh", "modules/names", "modules/kv_store", "modules/artifacts_bucket",
        "modules/event_bus", "modules/timeline_store", "modules/workflow", "modules/client_policy",
        "modules/mesh_agents", "modules/observability", "modules/tenant-agent",
        "workspaces/small/kv_store", "workspaces/small/artifacts_bucket", "workspaces/small/event_bus",
        "workspaces/small/timeline_store", "workspaces/medium/workflow", "workspaces/medium/mesh_agents",
        "workspaces/medium/observability", "workspaces/large"}
