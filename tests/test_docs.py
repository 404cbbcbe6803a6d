"""The documentation: every proof has its page, the math renders, the pictures are current.

The source checks read ``docs/`` as text. The rendering checks build the HTML once for
the module, into a temporary directory, with the same command as CI (warnings are
errors); they are skipped when Sphinx is not installed (the ``docs`` extra installs it).
``.ci/run`` builds the HTML with that command before the tests and names the directory
in ``TENSORAD_BUILT_HTML``: the checks then read that build instead of making another.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import scipy.special

import tensorad
from tensorad.cli import main

ROOT = Path(__file__).absolute().parent.parent
DOCS = ROOT / "docs"
PROOF_MODULES = sorted(f"proofs.{path.stem}" for path in (ROOT / "proofs").glob("proof_*.py"))
DERIVATION_PAGES = sorted((DOCS / "derivations").glob("*.rst"))
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)\s*$", re.MULTILINE)


def _figures() -> ModuleType:
    """``docs/_ext/figures.py``, which knows the figures and how they are drawn."""
    spec = importlib.util.spec_from_file_location("docs_figures", DOCS / "_ext" / "figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_modules(page: Path) -> list[str]:
    return AUTOMODULE.findall(page.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ sources


def test_every_proof_module_has_a_derivation_page() -> None:
    documented = [module for page in DERIVATION_PAGES for module in _page_modules(page)]
    assert PROOF_MODULES, "no proofs/proof_*.py found"
    missing = sorted(set(PROOF_MODULES) - set(documented))
    assert not missing, f"add a page under docs/derivations/ with `.. automodule::` for {missing}"
    twice = sorted({module for module in documented if documented.count(module) > 1})
    assert not twice, f"documented on more than one derivation page: {twice}"


def test_each_derivation_page_is_in_the_derivations_index() -> None:
    index = (DOCS / "derivations" / "index.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   (\w+)\s*$", index, re.MULTILINE))
    pages = {page.stem for page in DERIVATION_PAGES if page.stem != "index"}
    assert pages == listed


def test_every_public_name_is_in_the_api_reference() -> None:
    directive = re.compile(r"^\.\. auto(?:function|class|exception):: (\w+)\s*$", re.MULTILINE)
    documented: set[str] = set()
    for page in (DOCS / "api").glob("*.rst"):
        text = page.read_text(encoding="utf-8")
        if ".. currentmodule:: tensorad\n" in text:
            documented |= set(directive.findall(text))
    missing = sorted(set(tensorad.__all__) - documented)
    assert not missing, f"document these under `.. currentmodule:: tensorad` in docs/api/: {missing}"


def test_every_public_name_has_a_runnable_example() -> None:
    missing = sorted(name for name in tensorad.__all__ if ">>>" not in (getattr(tensorad, name).__doc__ or ""))
    assert not missing, f"add an Examples section (a doctest) to the docstrings of {missing}"


def test_the_numpy_page_lists_every_dispatched_function() -> None:
    from tensorad.numpy import dispatch

    page = (DOCS / "numpy.rst").read_text(encoding="utf-8")
    names = []
    for function in [*dispatch.UFUNCS, *dispatch.FUNCTIONS]:
        if getattr(scipy.special, function.__name__, None) is function:
            place = "scipy.special"
        else:
            place = "np.linalg" if getattr(np.linalg, function.__name__, None) is function else "np"
        names.append(f"``{place}.{function.__name__}``")
    missing = sorted(name for name in names if name not in page)
    assert not missing, f"docs/numpy.rst does not list {missing}"


NOT_FUNCTIONS = {"linalg", "array", "asarray", "copy", "zeros_like", "ones_like", "full_like", "real", "imag"}
"""Names of tensorad.numpy that are not differentiable functions with a convention to state
(a namespace, constructors, the real and imaginary parts, which are linear)."""


def test_the_function_table_lists_every_function() -> None:
    import tensorad.nn
    import tensorad.numpy

    page = (DOCS / "functions.rst").read_text(encoding="utf-8")
    names = {*tensorad.numpy.__all__, *tensorad.nn.__all__} - NOT_FUNCTIONS
    missing = sorted(name for name in names if f"``{name}``" not in page)
    assert not missing, f"docs/functions.rst does not list {missing}"


def test_cli_reference_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["derive", "--help"])
    options = set(re.findall(r"--[a-z]+", capsys.readouterr().out)) - {"--help"}
    reference = (DOCS / "cli.rst").read_text(encoding="utf-8")
    assert options, "no options found in `tensorad derive --help`"
    missing = sorted(option for option in options if f"``{option}" not in reference)
    assert not missing, f"docs/cli.rst does not describe {missing}"


def test_committed_figures_are_current() -> None:
    """The committed DOT text is what the code draws now, and each SVG was drawn from it."""
    figures = _figures()
    redraw = "redraw with `python3 docs/_ext/figures.py` (needs Graphviz) and commit docs/_figures"
    for name in figures.FIGURES:
        dot_path, svg_path = figures.FIGURES_DIR / f"{name}.dot", figures.FIGURES_DIR / f"{name}.svg"
        assert dot_path.exists() and svg_path.exists(), f"figure {name} is not committed; {redraw}"
        committed = dot_path.read_text(encoding="utf-8")
        assert committed == figures.dot_text(name), f"figure {name}: the DAG has changed; {redraw}"
        svg = svg_path.read_text(encoding="utf-8")
        assert figures.stamp(name, committed) in svg, f"figure {name}: the SVG is not drawn from the DOT; {redraw}"


PEER_NAMES = {"jax[jit]": "JAX", "torch.func": "PyTorch", "autograd": "autograd", "pytensor": "PyTensor"}


def _miss_table() -> dict[str, tuple[str, str]]:
    """benchmarks.rst's table of the compiled rows past their targets: each
    ``problem/task`` of its first column (``factorization/value, grad, jvp`` names three)
    with the text of its second and third columns (by how much; the ranges of times)."""
    page = (DOCS / "benchmarks.rst").read_text(encoding="utf-8")
    table = page[page.index(".. _benchmarks-misses:") :]
    table = table[: table.index("\n\n", table.index("   * - row"))]
    rows: dict[str, tuple[str, str]] = {}
    for row in table.split("   * - ")[2:]:
        cells = [" ".join(cell.split()) for cell in row.split("\n     - ")]
        problem = ""
        for name in cells[0].split(", "):
            problem, _, task = name.rpartition("/") if "/" in name else (problem, "/", name)
            rows[f"{problem}/{task}"] = (cells[1], cells[2])
    return rows


def _written(value: float, text: str) -> bool:
    """Whether one of the ``a–b`` ranges in ``text`` has ``value`` (milliseconds) as its
    start or end, to the digits written."""
    numbers = [n for pair in re.findall(r"([0-9.]+)–([0-9.]+)", text) for n in pair]
    return any(abs(float(n) - value) <= 0.5 * 10.0 ** -len(n.partition(".")[2]) + 1e-12 for n in numbers)


def test_every_compiled_row_past_its_target_has_its_line_in_the_benchmarks_page() -> None:
    """The issue's terms: every row meets its target or says by how much it misses and why.
    Each ``tensorad[jit]`` line of the published report's list of rows past their targets
    has a row in the page's table giving the ratio and what it is measured against, both
    ranges of times as the report has them, and "overlap" exactly where a range overlaps."""
    report = json.loads((DOCS / "_generated" / "benchmarks.json").read_text(encoding="utf-8"))
    measured = {(r["problem"], r["task"], r["label"]): r for r in report["rows"]}
    table = _miss_table()
    misses = [line for line in report["over_target"] if "/tensorad[jit]: " in line]
    assert misses, "the published report lists no compiled row past its target: drop the table"
    overlaps: dict[str, bool] = {}
    for line in misses:
        where, what = line.split(": ", 1)
        problem, task, _ = where.split("/")
        row = f"{problem}/{task}"
        assert row in table, f"{row} is past its target ({what}) and has no line in benchmarks.rst"
        by, ranges = table[row]
        number = re.search(r"([0-9.]+)x", what)
        assert number, what
        ratio = float(number.group(1))
        shown = f"{round(ratio):,}×" if ratio >= 1000 else f"{ratio:.2f}×"
        given = re.search(rf"(?<![0-9.,]){re.escape(shown)}", by)
        assert given, f"{row}: the table does not give {shown} ({what})"
        if "peak" in what:
            assert "peak" in by, f"{row}: {what}"
            continue
        against = re.search(r"the time of (\S+)", what)
        named = re.search(rf"the formula|{'|'.join(PEER_NAMES.values())}", by[given.end() :])  # the next one named
        expected = PEER_NAMES[against.group(1)] if against else "the formula"
        assert named and named.group() == expected, f"{row}: {shown} is not against {expected} ({what})"
        ours, theirs = (
            measured[problem, task, "tensorad[jit]"],
            measured[problem, task, against.group(1) if against else "numpy"],
        )
        for r in (ours, theirs):
            for seconds in (r["min_s"], r["max_s"]):
                assert _written(seconds * 1e3, ranges), (
                    f"{row}: {r['label']}'s {seconds * 1e3:.4g} ms is not in {ranges!r}"
                )
        overlaps[row] = overlaps.get(row, False) or ours["min_s"] <= theirs["max_s"]
    for row, overlap in overlaps.items():
        assert ("overlap" in table[row][1]) == overlap, f"{row}: the ranges {'do' if overlap else 'do not'} overlap"
    assert set(table) <= {"/".join(line.split("/")[:2]) for line in misses}, "a line for a row within its targets"


# ------------------------------------------------------------------ the built pages


@pytest.fixture(scope="module")
def built_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML pages, built once with warnings as errors (or by ``.ci/run``, just before,
    into ``$TENSORAD_BUILT_HTML``)."""
    built = os.environ.get("TENSORAD_BUILT_HTML")
    if built:
        assert (Path(built) / "index.html").is_file(), f"TENSORAD_BUILT_HTML={built} holds no built pages"
        return Path(built)
    pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("html")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return out


def _visible_text(page: str) -> str:
    """The page without scripts, styles and tags, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize("module", PROOF_MODULES)
def test_derivation_page_renders_its_math(built_html: Path, module: str) -> None:
    (page_source,) = [page for page in DERIVATION_PAGES if module in _page_modules(page)]
    page = (built_html / "derivations" / f"{page_source.stem}.html").read_text(encoding="utf-8")
    assert f'id="module-{module}"' in page, "the module docstring is not on the page"
    assert re.search(r"<script\b[^>]*\bsrc=\"[^\"]*mathjax", page, re.IGNORECASE), "MathJax is not loaded"
    assert 'class="math' in page, "no rendered math on the page"
    text = _visible_text(page)
    for part in ("Theorem.", "Proof.", "Checked:"):
        assert part in text, f"{part!r} is missing"
    raw = re.findall(r"\$[^$\n]+\$", text)
    assert not raw, f"raw $…$ math left on the page: {raw[:3]}"
    assert ":math:" not in text, "a :math: role was not rendered"


def test_every_public_name_is_documented_under_its_public_name(built_html: Path) -> None:
    pages = "".join(page.read_text(encoding="utf-8") for page in (built_html / "api").glob("*.html"))
    missing = sorted(name for name in tensorad.__all__ if f'id="tensorad.{name}"' not in pages)
    assert not missing, f"not documented as tensorad.<name>: {missing}"


def test_how_it_works_shows_the_dag_pictures(built_html: Path) -> None:
    page = (built_html / "how_it_works.html").read_text(encoding="utf-8")
    assert re.search(r"(src|data)=\"[^\"]*\.svg\"", page), "no SVG picture on the page"
    for name in _figures().FIGURES:
        assert f"expression DAG: {name.replace('_', ' ')}" in page, f"figure {name} is missing"


def test_math_renders_from_the_built_site_without_a_network(built_html: Path) -> None:
    """Every page that loads MathJax loads the copy in ``_static`` (no CDN), which exists."""
    pages = list(built_html.rglob("*.html"))
    sources = set()
    for page in pages:
        for src in re.findall(r"<script\b[^>]*\bsrc=\"([^\"]*mathjax[^\"]*)\"", page.read_text(encoding="utf-8")):
            assert "://" not in src and not src.startswith("//"), f"{page.name} loads MathJax from {src}"
            sources.add((page.parent / src).resolve())
    assert sources, "no page loads MathJax"
    assert all(source.is_file() for source in sources), sorted(map(str, sources))
    fonts = list((built_html / "_static" / "mathjax").rglob("*.woff*"))
    assert fonts, "MathJax's fonts are not in _static"


def test_every_internal_link_resolves(built_html: Path) -> None:
    """Every ``href`` of a documentation page to a page of the site (and to an anchor on
    it) points to something that exists, the source listings' ``[docs]`` back-links too."""
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in built_html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r"\bhref=\"([^\"#:?]*)(?:\?[^\"#]*)?(?:#([^\"]*))?\"", text):
            target_name, anchor = href
            if target_name.startswith(("http", "mailto", "//")) or target_name.endswith(
                (".css", ".js", ".ico", ".svg", ".png", ".txt")
            ):
                continue
            target = (page.parent / target_name).resolve() if target_name else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(built_html)} → {target_name}")
                continue
            if anchor and target.suffix == ".html":
                if target not in ids:
                    ids[target] = set(re.findall(r"\bid=\"([^\"]+)\"", target.read_text(encoding="utf-8")))
                if html.unescape(anchor) not in ids[target] and anchor not in ids[target]:
                    broken.append(f"{page.relative_to(built_html)} → {target_name}#{anchor}")
    assert not broken, f"{len(broken)} broken links, e.g. {broken[:10]}"


def test_the_offline_numpy_and_scipy_inventories_are_current() -> None:
    spec = importlib.util.spec_from_file_location("docs_inventories", DOCS / "_ext" / "inventories.py")
    assert spec is not None and spec.loader is not None
    inventories = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inventories)
    for project, items in inventories.entries().items():
        committed = (DOCS / "_inventories" / f"{project}.inv").read_bytes()
        assert committed == inventories.inventory(project, items), (
            f"{project}.inv is stale: run `python3 docs/_ext/inventories.py` and commit docs/_inventories"
        )


def test_numpy_names_link_to_numpys_documentation(built_html: Path) -> None:
    pages = "".join(page.read_text(encoding="utf-8") for page in built_html.rglob("*.html"))
    assert 'href="https://numpy.org/doc/stable/reference/generated/numpy.einsum.html"' in pages
    assert 'href="https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html"' in pages


CHECKED_PAGES = (
    "transforms",
    "numpy",
    "symbolic",
    "extending",
    "namespaces",
    "testing",
    "printing",
    "proof",
    "internals",
)
"""The reference pages whose every function and method is held to Args/Returns: all of
those that document functions (issue 18). A new page of functions belongs here too."""

NO_SECTIONS_YET: set[str] = set()
"""Functions on a checked page whose docstrings do not have Args/Returns yet (issue 18)."""


def _entries(page: str) -> dict[str, tuple[str, str]]:
    """Each function and method on a built page: its id -> (signature text, description text)."""
    entries = {}
    for match in re.finditer(
        r'<dl class="py (?:function|method)">\s*<dt[^>]*\bid="([^"]+)"(.*?)</dt>(.*?)</dd>\s*</dl>', page, re.DOTALL
    ):
        anchor, signature, body = match.groups()
        entries[anchor] = (_visible_text(signature), _visible_text(body))
    return entries


@pytest.mark.parametrize("name", CHECKED_PAGES)
def test_every_function_documents_its_parameters_and_result(built_html: Path, name: str) -> None:
    """A function with parameters has a Parameters field (napoleon's rendering of ``Args:``);
    one that returns something has Returns or Return type. ``self`` does not count."""
    entries = _entries((built_html / "api" / f"{name}.html").read_text(encoding="utf-8"))
    assert entries, f"no functions found on {name}.html"
    lacking = []
    for anchor, (signature, body) in entries.items():
        if anchor in NO_SECTIONS_YET:
            continue
        parameters = re.sub(r"\s+", "", signature.partition("(")[2].rpartition(")")[0])
        if parameters and "Parameters:" not in body:
            lacking.append(f"{anchor}: Args")
        if "Returns:" not in body and "Return type:" not in body:
            lacking.append(f"{anchor}: Returns")
    assert not lacking, f"docstrings without sections: {lacking}"


# ------------------------------------------------------------------ benchmarks, CLI and home pages (issue 18)


def _code_blocks(page: str) -> list[str]:
    """The visible text of each highlighted code block of a built page, in page order."""
    return [_visible_text(block) for block in re.findall(r'<div class="highlight"><pre>(.*?)</pre>', page, re.DOTALL)]


def test_the_benchmarks_page_shows_the_chart_then_a_summary_then_the_full_table_collapsed(built_html: Path) -> None:
    import json

    page = (built_html / "benchmarks.html").read_text(encoding="utf-8")
    chart = re.search(r'<img\b[^>]*\bsrc="[^"]*benchmarks\.png"', page)
    assert chart, "no chart on the page"
    tables = [match.start() for match in re.finditer(r"<table\b", page)]
    assert tables and chart.start() < tables[0], "the chart does not come before the first table"
    details = re.search(r"<details\b([^>]*)>(.*?)</details>", page, re.DOTALL)
    assert details, "the full table is not in a <details> element"
    assert "open" not in details.group(1), "the full table is not collapsed"
    assert "<summary>" in details.group(2) and "<table" in details.group(2), "the <details> holds no table"
    assert tables[0] < details.start(), "the summary table is not outside the collapsed part"
    summary = page[tables[0] : page.index("</table>", tables[0])]
    rows = json.loads((DOCS / "_generated" / "benchmarks.json").read_text(encoding="utf-8"))["rows"]
    problem_tasks = {(row["problem"], row["task"]) for row in rows if row["label"] == "tensorad[jit]"}
    assert summary.count("<tr") == 1 + len(problem_tasks), "not one summary row per problem and task"
    for header in ("÷ numpy formula", "÷ jax[jit]", "÷ torch.func", "÷ autograd"):
        assert header in _visible_text(summary), f"the summary has no column {header!r}"


def test_the_cli_page_shows_shell_sessions_run_at_build_time(
    built_html: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (built_html / "cli.html").read_text(encoding="utf-8")
    sessions: dict[str, list[str]] = {}
    for block in re.findall(
        r'<div class="shell-session highlight-console[^"]*"><div class="highlight"><pre>(.*?)</pre>', page, re.DOTALL
    ):
        for line in _visible_text(block).splitlines():
            if line.startswith("$ "):
                command = line[2:]
                sessions[command] = []
            else:
                sessions[command].append(line)
    assert len(sessions) >= 5, f"only {len(sessions)} shell sessions: {list(sessions)}"
    assert all(command.startswith("tensorad ") for command in sessions), list(sessions)
    empty = [command for command, output in sessions.items() if not "".join(output).strip()]
    assert not empty, f"sessions without output: {empty}"
    assert main(["derive", "x[i] A[i,j] x[j]", "--wrt", "x"]) == 0
    assert "\n".join(sessions['tensorad derive "x[i] A[i,j] x[j]" --wrt x']) == capsys.readouterr().out.rstrip("\n")


def test_a_failing_shell_session_fails_the_build(tmp_path: Path) -> None:
    pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[docs]')")
    (tmp_path / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\nextensions = ['shellsession']\n", encoding="utf-8"
    )
    (tmp_path / "index.rst").write_text(
        'Page\n====\n\n.. shell-session::\n\n   tensorad derive "x[i] + y[j]" --wrt x\n', encoding="utf-8"
    )
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(tmp_path), str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode != 0
    assert 'shell-session: `tensorad derive "x[i] + y[j]" --wrt x` exited with status 2, expected 0' in result.stderr
    assert "cannot add terms with free labels" in result.stderr, "the error does not show the command's output"


def test_the_home_page_opens_with_pip_install_then_a_gradient(built_html: Path) -> None:
    page = (built_html / "index.html").read_text(encoding="utf-8")
    install, first_example = _code_blocks(page)[:2]
    assert "pip install ." in install
    assert "ta.grad(f)(" in first_example
    assert 'href="contributing.html"' in page, "the contributing page is not linked from the home page"
    contributing = _visible_text((built_html / "contributing.html").read_text(encoding="utf-8"))
    for step in ("pytest", ".ci/run", "python3 -m sphinx", "python3 -m benchmarks"):
        assert step in contributing, f"the contributing page does not mention {step!r}"


def test_help_names_one_tensor_type_instead_of_the_union_of_node_classes() -> None:
    import inspect

    import numpy as np

    for function in (tensorad.exp, tensorad.sum, tensorad.einsum, tensorad.inv):
        shown = str(inspect.signature(function))
        assert shown.endswith("-> tensorad.Tensor") and "Contraction" not in shown, shown
    assert isinstance(np.ones(2), tensorad.Tensor) and isinstance(tensorad.Variable("x", (2,)), tensorad.Tensor)
    assert not isinstance(2.0, tensorad.Tensor)


@pytest.mark.parametrize("module", PROOF_MODULES)
def test_derivation_page_shows_the_code_of_its_proof(built_html: Path, module: str) -> None:
    """Each function the page documents is followed by its source (not only its signature)."""
    (page_source,) = [page for page in DERIVATION_PAGES if module in _page_modules(page)]
    text = _visible_text((built_html / "derivations" / f"{page_source.stem}.html").read_text(encoding="utf-8"))
    functions = _proof_pages().defined_functions(module)
    missing = [name for name in functions if f"def {name}(" not in text]
    assert not missing, f"no source shown for {missing}"


def _proof_pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_proofpages", DOCS / "_ext" / "proofpages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
