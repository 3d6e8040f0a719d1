"""Screenshots for the README: the citizens' chat and the operator console, driven in headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs]

Starts the app on a free loopback port over the repository's corpus and index (a throw-away data
folder, so nothing is logged into yours), asks a citizen's question, an aggregate question and a
follow-up, opens a measure in the operator console, and writes PNG files to ``docs/``. Needs
``/usr/bin/chromium`` (``make browser`` installs it) and Playwright (a test dependency).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from assistant import Settings  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
SHOTS = (  # (file, questions asked in one conversation)
    ("chat-citizen.png", ["我新开个体户，首次创业补贴能领多少？"]),
    ("chat-aggregate.png", ["作为个体户我能享受哪些政策？"]),
    ("chat-followup.png", ["新认定的省级重点实验室有什么奖励？", "那国家级的呢？"]),
)


_SCROLL_CHAT_TO_TOP = """() => {
  for (const el of document.querySelectorAll('#pa-chatbot *')) {
    if (el.scrollHeight > el.clientHeight + 4) el.scrollTop = 0;
  }
}"""


def serve(settings: Settings) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(create_app(settings=settings), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return server, f"http://{host}:{port}"


def ask(page: object, question: str) -> None:
    before = page.locator("#pa-chatbot .pa-chat").count()  # type: ignore[attr-defined]
    page.locator("#pa-question textarea").fill(question)  # type: ignore[attr-defined]
    page.locator("#pa-send").click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "n => document.querySelectorAll('#pa-chatbot .pa-chat').length >= n + 2 && "
        "!document.querySelector('#pa-chatbot').innerText.includes('正在查找')",
        arg=before,
        timeout=120_000,
    )
    page.wait_for_timeout(1500)  # the reply streams sentence by sentence, then its cards appear  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        settings = Settings.from_env().with_(data_dir=Path(data), llm_base_url=None, ask_rate_per_minute=0)
        server, url = serve(settings)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, questions in SHOTS:
                page = browser.new_context(viewport={"width": 1100, "height": 1100}, locale="zh-CN").new_page()
                page.goto(url + "/", wait_until="load")
                for q in questions:
                    ask(page, q)
                page.evaluate(_SCROLL_CHAT_TO_TOP)  # the chat scrolls to its end; the picture starts at the question
                page.screenshot(path=str(args.out / name), full_page=True)
                print(args.out / name)
            page = browser.new_context(viewport={"width": 1100, "height": 1100}, locale="zh-CN").new_page()
            page.goto(url + "/", wait_until="load")
            page.get_by_role("tab", name="坐席查询").click()
            page.locator("#pa-op-query textarea").fill("发票")
            page.wait_for_timeout(2500)
            page.locator("#pa-op-table").get_by_role("gridcell").filter(has_text="第10条").first.click()
            page.locator("#pa-op-script textarea").wait_for(timeout=20_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out / "operator-script.png"), full_page=True)
            print(args.out / "operator-script.png")
            browser.close()
        server.should_exit = True
    return 0


if __name__ == "__main__":
    sys.exit(main())
