"""The Python and Node behaviour suites run the cases tests/behaviour/cases.json lists (the Rust
suite checks itself against it: core/tests/behaviour/main.rs). A case added to one suite and
not to the others, or renamed in one, fails here until it is added everywhere or declared
language-only in the file's `only` section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Set

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "tests" / "behaviour" / "cases.json").read_text())


def expected(language: str) -> Set[str]:
    out = set()
    for section in (DOC["cases"], DOC["only"].get(language, {})):
        for domain, cases in section.items():
            out.update(f"{domain}::{case}" for case in cases)
    return out


def found(pattern: str, files: Dict[str, Path]) -> Set[str]:
    out = set()
    for domain, path in files.items():
        out.update(f"{domain}::{case}" for case in re.findall(pattern, path.read_text(), re.M))
    return out


def compare(language: str, got: Set[str]) -> None:
    missing, unlisted = sorted(expected(language) - got), sorted(got - expected(language))
    assert not missing and not unlisted, (
        f"the {language} behaviour suite and tests/behaviour/cases.json differ: "
        f"missing in {language}: {missing}; not in cases.json: {unlisted}")


def test_python_suite_runs_the_shared_cases() -> None:
    files = {p.stem.removeprefix("test_"): p for p in (ROOT / "bindings-python" / "tests").glob("test_*.py")
             if p.stem.removeprefix("test_") in DOC["cases"]}
    compare("python", found(r"^def test_(\w+)\((?:mesh|any_mesh)\b", files))


def test_node_suite_runs_the_shared_cases() -> None:
    files = {p.name.removesuffix(".test.js"): p for p in (ROOT / "bindings-node" / "test").glob("*.test.js")
             if p.name.removesuffix(".test.js") in DOC["cases"]}
    compare("node", found(r"^behaviour\('(\w+)', '", files))


def test_every_shared_domain_has_a_file_in_each_binding() -> None:
    for domain in DOC["cases"]:
        assert (ROOT / "bindings-python" / "tests" / f"test_{domain}.py").is_file(), domain
        assert (ROOT / "bindings-node" / "test" / f"{domain}.test.js").is_file(), domain
