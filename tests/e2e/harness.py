"""The browser tests' checks: axe-core (from the npm registry, its integrity checked) and `check_page`.

- `axe_path()`: `.cache/axe-core-<AXE_VERSION>/axe.min.js`, downloaded with Python on first use from the npm
  registry's tarball of the pinned release and checked against the registry's sha512 integrity (no npm needed).
  `python -m tests.e2e.harness` (the Makefile's `axe` step, run by `make test` and `make e2e`) fetches it ahead.
- `check_page(page, state)`: at 320, 390 and 1280 px wide, axe finds no violation (printed when it does), the page
  does not scroll sideways (`scrollWidth <= innerWidth`, WCAG 1.4.10), and a full-page screenshot is written to
  `.artifacts/screenshots/<state>-<width>.png`. The page's context must bypass CSP (`bypass_csp=True`, as the
  fixtures in conftest.py do) for axe's script to be injected into pages whose CSP allows no script.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
# The registry's dist.integrity of axe-core@4.14.1 (https://registry.npmjs.org/axe-core/4.14.1).
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
CACHE = ROOT / ".cache" / f"axe-core-{AXE_VERSION}"
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
WIDTHS = (320, 390, 1280)
HEIGHT = 800


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def axe_path() -> Path:
    """axe.min.js of the pinned release, fetched and checked once."""
    target = CACHE / "axe.min.js"
    if target.exists():
        return target
    with urllib.request.urlopen(AXE_TARBALL, timeout=60) as reply:  # noqa: S310 - a fixed https URL
        data = reply.read()
    if _integrity(data) != AXE_INTEGRITY:
        raise RuntimeError(f"{AXE_TARBALL} does not match its pinned integrity {AXE_INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise RuntimeError(f"{AXE_TARBALL} holds no package/axe.min.js")
        script = member.read()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(script)
    partial.replace(target)
    return target


def _violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_path()))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))""")
    return found


def check_page(page: Any, state: str) -> None:
    """The page as loaded now, at each width: no axe violation, no sideways scrolling, a screenshot each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(50)  # one layout pass after the resize
        page.screenshot(path=str(SCREENSHOTS / f"{state}-{width}.png"), full_page=True)
        scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems.append(f"{state} at {width}px: the page is {scroll}px wide (scrolls sideways)")
        for violation in _violations(page):
            problems.append(f"{state} at {width}px: axe {violation['id']} ({violation['impact']}): "
                            f"{violation['help']}\n    " + json.dumps(violation["nodes"], ensure_ascii=False))
    if problems:
        print("\n".join(problems))
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    print(axe_path().relative_to(ROOT))
