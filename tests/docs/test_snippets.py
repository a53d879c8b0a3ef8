"""Runs every ```python block of README.md, CONTRIBUTING.md and docs/*.md, each in a fresh
Python process, and checks that every fenced block of those files carries a language tag.

The scheme (also described in CONTRIBUTING.md, "Code snippets in the docs"):

- A block runs in a new process whose working directory is a fresh temporary directory holding
  a link `examples` to the repository's examples/, with `AGENT_MESH_DIR` set to a mesh inside
  it and `AGENT_MESH_URL` unset: `MeshClient()` opens the embedded local default.
- `<!-- snippet: continues -->` on the line before a block: the block runs in the same process
  after the block before it (of the same language, in the same file), as one program.
- `<!-- snippet: aws -->` before the first block of a program: the program runs only on the
  moto server of tests/with-moto.sh (`AGENT_MESH_TEST_AWS_ENDPOINT`), with `AWS_ENDPOINT_URL`
  pointing at it and a fresh `AGENT_MESH_ENV`, so `aws://` names fresh resources; elsewhere
  the test is skipped.
- The program keeps each line at its line number in the Markdown file, so a traceback names
  the file and the line of the block that failed.

Rust blocks run as doctests (core/src/doc_snippets.rs); JavaScript blocks run in
bindings-node/test/docs_snippets.test.js with the same markers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [p for p in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("**/*.md"))] if p.exists()]
# Tags a block may carry. Programs: python, javascript/js, rust (run by the three suites);
# everything else is not run (commands, data, output, diagrams).
RUN_TAGS = {"python", "javascript", "js", "rust"}
OTHER_TAGS = {"bash", "sh", "console", "text", "json", "toml", "hcl", "typescript", "ts"}
FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)(.*)$")
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$")
MARKER_WORDS = {"continues", "aws"}


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first code line
    tag: str  # the info string's first word, e.g. "rust,no_run"
    lines: List[str]
    markers: set = field(default_factory=set)

    @property
    def lang(self) -> str:
        return self.tag.split(",")[0]


def blocks_of(path: Path) -> List[Block]:
    """Every fenced block of a Markdown file, with the snippet markers on the line before it."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: List[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, tag = len(m.group(1)), m.group(2), m.group(3)
        markers: set = set()
        prev = lines[i - 1] if i > 0 else ""
        mm = MARKER.match(prev)
        if mm:
            markers = set(mm.group(1).split())
        body: List[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        blocks.append(Block(path, i + 2, tag, body, markers))
        i = j + 1
    return blocks


def programs(lang: str) -> Dict[str, List[Block]]:
    """The programs of one language: a block and the blocks that continue it, by test id."""
    out: Dict[str, List[Block]] = {}
    for path in DOC_FILES:
        current: List[Block] = []
        for block in blocks_of(path):
            if block.lang not in ({lang} if lang != "javascript" else {"javascript", "js"}):
                continue
            if "continues" in block.markers and current:
                current.append(block)
                continue
            current = [block]
            out[f"{path.relative_to(ROOT)}:{block.line}"] = current
    return out


def source_of(program: List[Block]) -> str:
    """The program's text with every line at its line number in the Markdown file."""
    lines: List[str] = []
    for block in program:
        lines.extend([""] * (block.line - 1 - len(lines)))
        lines.extend(block.lines)
    return "\n".join(lines) + "\n"


def test_every_block_has_a_known_tag():
    problems = []
    for path in DOC_FILES:
        for block in blocks_of(path):
            where = f"{path.relative_to(ROOT)}:{block.line - 1}"
            if block.lang not in RUN_TAGS | OTHER_TAGS:
                problems.append(f"{where}: fence tag {block.tag!r}; use one of {sorted(RUN_TAGS | OTHER_TAGS)}")
            unknown = block.markers - MARKER_WORDS
            if unknown:
                problems.append(f"{where}: unknown snippet marker(s) {sorted(unknown)}")
            if "continues" in block.markers and block.lang == "rust":
                problems.append(f"{where}: rust blocks run as doctests, each a whole program; 'continues' does not apply")
            if block.lang == "rust" and set(block.tag.split(",")[1:]) - {"no_run"}:
                problems.append(f"{where}: rust block tagged {block.tag!r}; only no_run (for blocks needing a network service) is allowed")
    assert not problems, "\n".join(problems)


def test_every_page_with_rust_blocks_is_doctested():
    """core/src/doc_snippets.rs must include every file that holds ```rust blocks."""
    included = (ROOT / "core" / "src" / "doc_snippets.rs").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(ROOT))
        for path in DOC_FILES
        if any(b.lang == "rust" for b in blocks_of(path))
        and f'include_str!("../../{path.relative_to(ROOT)}")' not in included
    ]
    assert not missing, f"add these to core/src/doc_snippets.rs: {missing}"


PYTHON = programs("python")


@pytest.mark.parametrize("where", sorted(PYTHON))
def test_python_snippet(where, tmp_path):
    program = PYTHON[where]
    first = program[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_MESH_")}
    env["AGENT_MESH_DIR"] = str(tmp_path / ".agent-mesh")
    if "aws" in first.markers:
        endpoint = os.environ.get("AGENT_MESH_TEST_AWS_ENDPOINT")
        if not endpoint:
            pytest.skip("an aws snippet: runs on the moto server of tests/with-moto.sh")
        env["AWS_ENDPOINT_URL"] = endpoint
        env["AGENT_MESH_ENV"] = f"docs{uuid.uuid4().hex[:10]}"
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    runner = (
        "import sys\n"
        "path, source = sys.argv[1], sys.stdin.read()\n"
        "exec(compile(source, path, 'exec'), {'__name__': '__main__'})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", runner, str(first.path)],
        input=source_of(program),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, (
        f"the python block at {where} failed (exit {proc.returncode}); the traceback names "
        f"lines of {first.path.name}:\n{proc.stdout}\n{proc.stderr}"
    )


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set:
    found, seen = set(), {}
    in_fence = False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if FENCE.match(line):
            in_fence = not in_fence
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m and not in_fence:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def test_links_and_paths_resolve():
    """Every relative link points at a file (and heading) that exists, and every repository
    path quoted in backticks (`core/tests/aws.rs`, `tests/cross_language/`) exists."""
    problems = []
    link = re.compile(r"\]\(([^)\s]+)\)")
    quoted = re.compile(r"`((?:core|tests|bindings-python|bindings-node|examples|infra|docs|\.ci)/[^`\s<>*]*)`")
    for path in [*DOC_FILES, *[p for p in [ROOT / "CHANGELOG.md"] if p.exists()]]:
        text = path.read_text(encoding="utf-8")
        for target in link.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                problems.append(f"{path.relative_to(ROOT)}: link to missing {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{path.relative_to(ROOT)}: link to missing heading {target}")
        for quoted_path in quoted.findall(text):
            m = re.match(r"^(.*)\{([^}]*)\}(.*)$", quoted_path)
            variants = [m.group(1) + v + m.group(3) for v in m.group(2).split(",")] if m else [quoted_path]
            for variant in variants:
                if not (ROOT / variant).exists():
                    problems.append(f"{path.relative_to(ROOT)}: `{variant}` does not exist")
    assert not problems, "\n".join(problems)
