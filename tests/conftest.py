import pytest
from playwright.sync_api import sync_playwright

from tests.servers import ALLOWED_ORIGIN, MODEL, Bot, HostSite

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One Debian Chromium for every browser test (Playwright allows one sync instance)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def host_site():
    """A website on another origin that embeds the widget."""
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite):
    """One real bot + action server for the whole test session."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it)")
    origins = [ALLOWED_ORIGIN, host_site.origin]
    running = Bot(tmp_path_factory.mktemp("bot"), allowed_origins=origins)
    running.actions.start()
    running.rasa.start()
    yield running
    running.rasa.stop()
    running.actions.stop()
