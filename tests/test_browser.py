"""The published book in a real browser: headless Chromium (Debian's chromium
and chromium-driver) driven by Selenium against `_build/html` served on a
local port. Nothing is downloaded at test time."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.notebook_tools import REPO_ROOT, assignment_ids

HTML = REPO_ROOT / "_build" / "html"
SCREENSHOTS = REPO_ROOT / "_build" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [pytest.mark.book, pytest.mark.browser]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def site(build_log):
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "install Debian's chromium and chromium-driver (see .ci/run)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _pages() -> list[str]:
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).as_posix().startswith(("_", "genindex")))


def _wait_for(driver, script: str, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def test_every_page_loads_cleanly_with_figures_math_and_screenshot(build_log, site, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = _pages()
    assert any(p.startswith("book/01-") for p in pages), pages
    problems = []
    for page in pages:
        browser.get_log("browser")  # drop what earlier pages logged
        browser.get(f"{site}/{page}")
        _wait_for(browser, "return document.readyState === 'complete'")
        has_math = browser.execute_script(
            "return document.querySelectorAll('.math, div.math, span.math').length") > 0
        if has_math:
            try:
                _wait_for(browser, "return document.querySelectorAll('mjx-container').length > 0")
            except Exception:  # noqa: BLE001 (any failure to wait is a finding)
                problems.append(f"{page}: math did not render (no MathJax output)")
            text = browser.execute_script("return document.body.innerText")
            if "$$" in text:
                problems.append(f"{page}: raw $$ left in the rendered text")
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))")
        problems += [f"{page}: image failed to load: {src}" for src in broken]
        for entry in browser.get_log("browser"):
            if entry["level"] == "SEVERE":
                problems.append(f"{page}: console error: {entry['message'][:300]}")
        browser.save_screenshot(str(SCREENSHOTS / (page.replace("/", "__") + ".png")))
    assert not problems, "\n".join(problems)


_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)


def expected_tables(source: Path) -> int:
    """The tables a page should render: Markdown tables in its prose, plus one per
    ``show_table(`` call in its code cells (each call displays one table)."""
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        return len(_TABLE_RULE.findall(prose))
    code = "\n".join(_CODE_CELL.findall(text))
    prose = _FENCE.sub("", _CODE_CELL.sub("", text))
    calls = len(re.findall(r"(?<![\w.])show_table\(", code))
    return len(_TABLE_RULE.findall(prose)) + calls


def _source_of(page: str) -> Path | None:
    stem = page[:-len(".html")]
    for suffix in (".md", ".ipynb"):
        if (REPO_ROOT / f"{stem}{suffix}").is_file():
            return REPO_ROOT / f"{stem}{suffix}"
    return None


def test_tables_render_as_tables_and_every_page_shows_its_own_count(build_log, site, browser):
    """No Markdown table row is left as text; each page has as many <table>s as its source
    makes (prose tables plus show_table calls)."""
    problems, counts = [], {}
    for page in _pages():
        source = _source_of(page)
        if source is None:
            continue
        browser.get(f"{site}/{page}")
        _wait_for(browser, "return document.readyState === 'complete'")
        text, tables = browser.execute_script("""
            const main = document.querySelector('main') || document.body;
            const copy = main.cloneNode(true);
            copy.querySelectorAll('pre, code, .highlight, .cell_input, script, style')
                .forEach(e => e.remove());
            return [copy.innerText, main.querySelectorAll('article table').length];""")
        rows = [line for line in text.splitlines()
                if re.match(r"^\s*\|.*\|\s*$", line) or _TABLE_RULE.match(line)]
        if rows:
            problems.append(f"{page}: Markdown table text instead of a table: {rows[:2]}")
        expected = expected_tables(source)
        counts[page] = (tables, expected)
        if tables != expected:
            problems.append(f"{page}: {tables} rendered tables, its source makes {expected}")
    assert counts, "no page was checked"
    assert not problems, "\n".join(problems)


def _ids(path: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', path.read_text(errors="replace")))


def test_every_internal_link_resolves(build_log):
    problems, id_cache = [], {}
    for page in _pages():
        source = HTML / page
        for href in re.findall(r'<a[^>]+href="([^"]+)"', source.read_text(errors="replace")):
            parsed = urllib.parse.urlparse(href)
            if parsed.scheme or href.startswith(("mailto:", "//", "javascript:")):
                continue
            target = (source.parent / urllib.parse.unquote(parsed.path)).resolve() \
                if parsed.path else source
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{page}: broken link {href}")
                continue
            if parsed.fragment and target.suffix == ".html":
                ids = id_cache.setdefault(target, _ids(target))
                if urllib.parse.unquote(parsed.fragment) not in ids:
                    problems.append(f"{page}: link {href} names a missing anchor")
    assert not problems, "\n".join(problems[:30])


def test_search_finds_batch_normalization(build_log, site, browser):
    browser.get(f"{site}/search.html?q=batch+normalization")
    count = _wait_for(browser, "const r = document.querySelectorAll('#search-results li');"
                               "return r.length > 0 ? r.length : false;", timeout=30)
    assert count >= 1
    text = browser.execute_script(
        "return document.querySelector('#search-results').innerText")
    assert "atch" in text and "ormalization" in text


@pytest.mark.parametrize("assignment", assignment_ids())
def test_exercise_page_offers_the_student_notebook(build_log, site, browser, assignment):
    browser.get(f"{site}/exercises/{assignment}/{assignment}.html")
    _wait_for(browser, "return document.readyState === 'complete'")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a'))"
        ".map(a => a.href).filter(h => h.startsWith(location.origin) && h.endsWith('.ipynb'))")
    assert links, f"the {assignment} page offers no .ipynb download"
    with urllib.request.urlopen(links[0], timeout=30) as response:
        downloaded = response.read()
    released = REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert downloaded == released.read_bytes(), "the download is not the student release"
    text = downloaded.decode()
    assert "NotImplementedError" in text and "BEGIN SOLUTION" not in text


def test_self_check_answers_open_only_on_click(build_log, site, browser):
    """Every chapter's Self-check answers are invisible until their summary is clicked."""
    from selenium.webdriver.common.by import By

    problems, chapters = [], [p for p in _pages() if re.match(r"book/\d\d-", p)]
    assert chapters, "no chapter page was built"
    for page in chapters:
        browser.get(f"{site}/{page}")
        _wait_for(browser, "return document.readyState === 'complete'")
        answers = browser.find_elements(By.CSS_SELECTOR, "#self-check details.sd-dropdown")
        if not 4 <= len(answers) <= 6:
            problems.append(f"{page}: {len(answers)} answers in Self-check, expected 4 to 6")
            continue
        for number, answer in enumerate(answers, 1):
            body = answer.find_element(By.CSS_SELECTOR, ".sd-summary-content")
            if body.is_displayed():
                problems.append(f"{page}: answer {number} is visible before a click")
            summary = answer.find_element(By.TAG_NAME, "summary")
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
            summary.click()
            if not body.is_displayed() or not body.text.strip():
                problems.append(f"{page}: answer {number} does not show after a click")
    assert not problems, "\n".join(problems)
