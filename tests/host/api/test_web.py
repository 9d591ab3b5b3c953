"""The web page `k2 serve` serves at `/`, driven in a real headless Chromium (Debian's chromium and
chromium-driver, through selenium): load it, give a key, ask, see the streamed answer with its steps and
sources, rate it; approve a paused call. A screenshot of the chat is saved to `.cache/artifacts/web-chat.png`.

Without chromium a test skips, unless K2_REQUIRE_BROWSER=1 (CI) makes that a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest

from tests.host.api.test_api import running

pytestmark = pytest.mark.anyio

ARTIFACTS = Path(__file__).resolve().parents[3] / ".cache" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def browser() -> Any:
    if CHROMIUM is None or DRIVER is None:
        why = "chromium and chromium-driver are not installed (apt install chromium chromium-driver)"
        if os.environ.get("K2_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


def wait_for(driver: Any, check: Callable[[Any], Any], what: str, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(check, message=f"waiting for {what}")


async def in_browser(work: Callable[[Any], Any]) -> Any:
    """Run blocking selenium code in a thread, so the server (this event loop) goes on answering."""
    driver = browser()
    try:
        return await anyio.to_thread.run_sync(work, driver)
    finally:
        await anyio.to_thread.run_sync(driver.quit)


async def test_the_page_chats_streams_shows_sources_and_takes_feedback(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    async with running(tmp_path) as api:

        def session(driver: Any) -> dict[str, Any]:
            driver.get(api.url + "/")
            assert driver.title == "K2"
            driver.find_element(By.ID, "key").send_keys(api.keys["user"])
            driver.find_element(By.CSS_SELECTOR, "#auth button").click()
            wait_for(driver, lambda d: d.find_element(By.ID, "who").text == "connected", "the key to be taken")
            tools = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tools li"), "the tool list")
            denied = {t.text for t in tools if "denied" in (t.get_attribute("class") or "")}
            assert "filesystem.write_file" in denied and "filesystem.read_file" not in denied

            driver.find_element(By.ID, "question").send_keys("please read the file")
            driver.find_element(By.ID, "send").click()
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".feedback button"), "the answer to finish")
            answer = driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .answer")[-1].text
            steps = [s.text for s in driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .steps li")]
            sources = [s.text for s in driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .sources li")]
            driver.find_element(By.CSS_SELECTOR, ".feedback button[data-rating='good']").click()
            wait_for(
                driver, lambda d: d.find_element(By.CSS_SELECTOR, ".feedback-status").text == "thanks, noted", "thanks"
            )
            sessions = [s.text for s in driver.find_elements(By.CSS_SELECTOR, "#sessions li")]
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(ARTIFACTS / "web-chat.png"))
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            return {"answer": answer, "steps": steps, "sources": sources, "sessions": sessions, "errors": errors}

        seen = await in_browser(session)
        assert "8443" in seen["answer"] and seen["answer"].startswith("tool said:")
        assert len(seen["steps"]) == 1 and seen["steps"][0].startswith("filesystem.read_file done")
        assert any("a.txt" in s for s in seen["sources"]), seen["sources"]
        assert seen["sessions"] == ["please read the file"] and seen["errors"] == []
        store = api.service.runtime.trajectories
        assert store is not None
        [trajectory] = await store.list(limit=5)
        assert [f.rating for f in await store.feedback(trajectory.id)] == ["good"]
    assert (ARTIFACTS / "web-chat.png").stat().st_size > 10_000


async def test_the_page_asks_for_approval_and_goes_on_when_approved(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    async with running(tmp_path, approval={"filesystem.write_file": "ask"}) as api:

        def approve(driver: Any) -> str:
            driver.get(api.url + "/")
            driver.find_element(By.ID, "key").send_keys(api.keys["operator"])
            driver.find_element(By.CSS_SELECTOR, "#auth button").click()
            wait_for(driver, lambda d: d.find_element(By.ID, "who").text == "connected", "the key to be taken")
            driver.find_element(By.ID, "question").send_keys("write the file")
            driver.find_element(By.ID, "send").click()
            button = wait_for(
                driver,
                lambda d: d.find_elements(By.CSS_SELECTOR, ".approval button[data-decision='approve']"),
                "the approval request",
            )[0]
            assert "filesystem.write_file" in driver.find_element(By.CSS_SELECTOR, ".approval").text
            assert not (api.root / "out.txt").exists()
            button.click()
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".feedback button"), "the answer to finish")
            return driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .answer")[-1].text

        answer = await in_browser(approve)
        assert answer.startswith("tool said:") and (api.root / "out.txt").read_text() == "written"


async def test_the_page_is_served_with_a_strict_content_security_policy(tmp_path: Path) -> None:
    async with running(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as c:
        page = await c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert (await c.get("/static/app.js")).headers["content-type"].startswith("text/javascript")
        for bad in ("/static/..%2F..%2Fapi%2Fapp.py", "/static/keys.json", "/static/index.htm"):
            assert (await c.get(bad)).status_code == 404, bad
        assert "innerHTML" not in (await c.get("/static/app.js")).text  # text goes in with textContent only
