"""Every citation of the reference docs resolves, from the repository alone.

Code, tests and docs cite the service's behaviour as ``docs/service-behaviour.md`` plus a section
(``§c.1``, ``§g``) or a behaviour number ("behaviour 23", "behaviours 18-27, 30-32 and 40"), and the
Azure ML mapping as ``docs/azureml-mapping.md`` plus a section (``§1.4``). A citation belongs to the doc
named in the same comment block or docstring (the nearest mention before it, else the first after it);
inside the two docs a citation naming no file refers to the doc itself. The scan covers the text files git
tracks (the whole tree when run from an unpacked sdist), except ``specs/`` (verbatim input data) and
``CHANGELOG.md`` (history).

Anchors: in ``docs/service-behaviour.md`` a section exists when a heading starts with its tag
(``### §c.1 Common to all job types``) and a behaviour when a paragraph starts with ``**B23.**``; the
sections of ``docs/azureml-mapping.md`` are headings in the same form (``### §1.4 Jobs``).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tokenize
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
SERVICE = "service-behaviour.md"
MAPPING = "azureml-mapping.md"
DOC_FILES = {SERVICE: Path("docs") / SERVICE, MAPPING: Path("docs") / MAPPING}

DOC_MENTION = re.compile(r"(service-behaviour|azureml-mapping)\.md")
SECTION = re.compile(r"§([a-g0-9](?:\.\d+)*)")
_NUMBERS = r"\d+(?:\s*[-–]\s*\d+)?(?:\s*(?:,|and|&)\s*\d+(?:\s*[-–]\s*\d+)?)*"
BEHAVIOURS = re.compile(r"\bbehaviou?rs?\s+(" + _NUMBERS + r")", re.IGNORECASE)
B_FORM = re.compile(r"\bB(\d{1,2})\b")  # only inside docs/service-behaviour.md (B12)
HEADING = re.compile(r"^#{1,6}\s+§([a-g0-9](?:\.\d+)*)(?=[\s(]|$)", re.MULTILINE)
BEHAVIOUR_DEF = re.compile(r"^\*\*B(\d+)\.\*\*", re.MULTILINE)

SKIP_PREFIXES = ("specs/",)
SKIP_FILES = {"CHANGELOG.md"}
WALK_EXCLUDE = {".git", ".venv", ".venv-lint", ".tools", "build", "dist", "__pycache__", ".mypy_cache",
                ".ruff_cache", ".pytest_cache", ".hypothesis"}


# -- anchors ---------------------------------------------------------------------------------------
def anchors(root: Path) -> Dict[str, Tuple[Set[str], List[int]]]:
    """``{doc name: (section tags, behaviour numbers in order of definition)}``."""
    result = {}
    for name, rel in DOC_FILES.items():
        text = (root / rel).read_text(encoding="utf-8")
        result[name] = (set(HEADING.findall(text)), [int(n) for n in BEHAVIOUR_DEF.findall(text)])
    return result


# -- files and blocks ------------------------------------------------------------------------------
def text_files(root: Path) -> List[str]:
    """Repository-relative paths of the tracked files (every file when there is no git checkout)."""
    if (root / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
        names = [n for n in out.decode("utf-8").split("\0") if n]
    else:
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in WALK_EXCLUDE and not d.endswith(".egg-info")]
            for filename in filenames:
                names.append(os.path.relpath(os.path.join(dirpath, filename), root).replace(os.sep, "/"))
    return sorted(n for n in names if not n.startswith(SKIP_PREFIXES) and n not in SKIP_FILES
                  and (root / n).is_file())


def read_text(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary


def python_blocks(text: str) -> List[Tuple[int, str]]:
    """``(first line, text)`` of each comment block (consecutive comment lines) and each string literal."""
    blocks: List[Tuple[int, str]] = []
    comment: List[str] = []
    start = last = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            if not tok.line.lstrip().startswith("#"):  # after code on its line: a block of its own
                blocks.append((tok.start[0], tok.string))
                continue
            if comment and tok.start[0] == last + 1:
                comment.append(tok.string)
            else:
                if comment:
                    blocks.append((start, "\n".join(comment)))
                comment, start = [tok.string], tok.start[0]
            last = tok.start[0]
        elif tok.type == tokenize.STRING:
            blocks.append((tok.start[0], tok.string))
    if comment:
        blocks.append((start, "\n".join(comment)))
    return blocks


def paragraph_blocks(text: str) -> List[Tuple[int, str]]:
    blocks: List[Tuple[int, str]] = []
    current: List[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, "\n".join(current)))
            current = []
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def blocks_of(rel: str, text: str) -> List[Tuple[int, str]]:
    if rel in {str(p) for p in DOC_FILES.values()}:
        return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]  # table rows, items
    if rel.endswith(".py"):
        try:
            return python_blocks(text)
        except (tokenize.TokenError, SyntaxError, IndentationError):
            return paragraph_blocks(text)
    return paragraph_blocks(text)


# -- citations -------------------------------------------------------------------------------------
def numbers(spec: str) -> Iterator[int]:
    for part in re.split(r"\s*(?:,|and|&)\s*", spec.strip()):
        bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part) if b]
        if len(bounds) == 2:
            yield from range(bounds[0], bounds[1] + 1)
        elif bounds:
            yield bounds[0]


def doc_at(pos: int, mentions: List[Tuple[int, str]], own: Optional[str]) -> Optional[str]:
    """The doc a citation at ``pos`` of its block belongs to (``mentions``: doc names by position)."""
    before = [name for at, name in mentions if at < pos]
    if before:
        return before[-1]
    if own is not None:  # inside a doc: no file named before it means the doc itself
        return own
    after = [name for at, name in mentions if at > pos]
    return after[0] if after else None


def raw_citations(block: str, own: Optional[str]) -> Iterator[Tuple[int, str, str]]:
    """``(position, kind, value)`` of every citation in a block; kind is ``section`` or ``behaviour``."""
    for m in SECTION.finditer(block):
        yield m.start(), "section", m.group(1)
    for m in BEHAVIOURS.finditer(block):
        for n in numbers(m.group(1)):
            yield m.start(), "behaviour", str(n)
    if own == SERVICE:
        for m in B_FORM.finditer(block):
            yield m.start(), "behaviour", m.group(1)


def citations(rel: str, text: str) -> Iterator[Tuple[int, Optional[str], str, str]]:
    """``(line, doc or None, kind, value)`` for every citation of a file."""
    own = next((name for name, p in DOC_FILES.items() if str(p) == rel), None)
    for first_line, block in blocks_of(rel, text):
        mentions = [(m.start(), m.group(0)) for m in DOC_MENTION.finditer(block)]
        for pos, kind, value in raw_citations(block, own):
            yield first_line + block.count("\n", 0, pos), doc_at(pos, mentions, own), kind, value


def problems(root: Path) -> Tuple[List[str], int]:
    """Unresolved citations as ``path:line: message``, and how many citations were checked."""
    found = anchors(root)
    errors, checked = [], 0
    for rel in text_files(root):
        text = read_text(root / rel)
        if text is None or ("§" not in text and not re.search(r"behaviou?r", text, re.IGNORECASE)):
            continue
        for line, doc, kind, value in citations(rel, text):
            checked += 1
            where = f"{rel}:{line}"
            shown = f"§{value}" if kind == "section" else f"behaviour {value}"
            if doc is None:
                errors.append(f"{where}: {shown} names no file (write ``docs/{SERVICE}`` or ``docs/{MAPPING}`` "
                              "in the same comment block)")
                continue
            sections, behaviours = found[doc]
            if kind == "section" and value not in sections:
                errors.append(f"{where}: §{value} is not a section heading of docs/{doc}")
            elif kind == "behaviour" and int(value) not in behaviours:
                errors.append(f"{where}: behaviour {value} is not defined in docs/{doc}")
    return errors, checked


# -- tests -----------------------------------------------------------------------------------------
def test_the_docs_define_the_cited_numbering():
    found = anchors(REPO)
    sections, behaviours = found[SERVICE]
    assert {"a", "b", "c", "d", "e", "f", "g"} <= sections
    assert {"c.1", "c.2", "c.10", "c.11", "d.1", "d.3", "e.3", "f.1", "f.2", "b.5"} <= sections
    assert behaviours == list(range(1, 41)), "behaviours B1..B40, each once, in order"
    mapping_sections, mapping_behaviours = found[MAPPING]
    assert {"0", "1", "2", "3", "4", "5", "1.2", "1.4", "1.6", "1.7", "1.8", "2.1", "2.2", "3.3"} <= mapping_sections
    assert mapping_behaviours == []


def test_every_citation_in_the_repository_resolves():
    errors, checked = problems(REPO)
    assert not errors, "unresolved citations:\n" + "\n".join(errors)
    # The code and tests hold well over a hundred citations: a scanner that finds few is broken.
    assert checked > 100, f"only {checked} citations found"


def test_no_tracked_file_points_at_the_shared_reference_folder():
    needles = [".." + "/shared", "shared" + "/specs", "shared" + "/docs", "shared" + "/seed"]
    # Paths built in code rather than written out: the folder's name and a sub-folder's name as two string
    # literals joined by ``/`` (pathlib) or ``,`` (os.path.join).
    q, folder = "[\"']", "shar" + "ed"
    built = re.compile(rf"{q}{folder}{q}\s*[/,]\s*{q}(?:specs|docs|seed){q}")
    hits = []
    for rel in text_files(REPO):
        text = read_text(REPO / rel)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            hits.extend(f"{rel}:{number}: {needle}" for needle in needles if needle in line)
            hits.extend(f"{rel}:{number}: {m.group(0)}" for m in built.finditer(line))
    assert not hits, "the repository must stand alone:\n" + "\n".join(hits)


def test_a_missing_section_or_behaviour_or_file_name_is_reported(tmp_path):
    """The checker itself, on a small tree: a cited section or behaviour that the doc lacks, and a citation
    naming no file, are each reported; CHANGELOG.md and specs/ are not read."""
    # Written indirectly so that the scan of this very file finds no citation in the fixtures.
    sect, word = "\u00a7", "behav" + "iour"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / SERVICE).write_text(
        f"## {sect}a API\n### {sect}a.1 Client\n## {sect}g Behaviours\n**B1.** one\n**B2.** two, unlike B3\n",
        encoding="utf-8")
    (tmp_path / "docs" / MAPPING).write_text(f"## {sect}1 Operations\n### {sect}1.4 Jobs, see {sect}1.9\n",
                                             encoding="utf-8")
    (tmp_path / "pkg.py").write_text(
        f'"""Jobs (``docs/{SERVICE}`` {sect}a.1, {sect}c.1; {word}s 1-2 and 7)."""\n'
        f"x = 1  # ``docs/{MAPPING}`` {sect}1.4\n"
        f"y = 2  # {sect}g alone\n"
        f"# ``docs/{SERVICE}`` {sect}a and\n# ``docs/{MAPPING}`` {sect}1.4 in one block\n",
        encoding="utf-8")
    (tmp_path / "CHANGELOG.md").write_text(f"{sect}z.9 is history\n", encoding="utf-8")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "data.json").write_text(f'{{"x": "{sect}q"}}', encoding="utf-8")
    errors, checked = problems(tmp_path)
    assert sorted(errors) == sorted([
        f"docs/{SERVICE}:5: {word} 3 is not defined in docs/{SERVICE}",
        f"docs/{MAPPING}:2: {sect}1.9 is not a section heading of docs/{MAPPING}",
        f"pkg.py:1: {sect}c.1 is not a section heading of docs/{SERVICE}",
        f"pkg.py:1: {word} 7 is not defined in docs/{SERVICE}",
        f"pkg.py:3: {sect}g names no file (write ``docs/{SERVICE}`` or ``docs/{MAPPING}`` in the same comment "
        "block)",
    ])
    assert checked == 18
