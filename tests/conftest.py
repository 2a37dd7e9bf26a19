import pytest
from playwright.sync_api import sync_playwright

from tests.servers import ALLOWED_ORIGIN, MODEL, Bot, HostSite

# Test tiers, set at collection (`make test-fast` runs the unit tier): a test using Chromium
# is `e2e`; one using a running server or the trained model is `integration`; the rest,
# `unit`, needs neither (a module may also mark itself with `pytestmark`).
BROWSER_FIXTURES = {"browser", "context", "page"}
SERVER_FIXTURES = {"bot", "bots", "console", "host_site", "stack"}
# A module that imports these (from tests.servers, tests/console/conftest.py) starts
# servers or loads the model.
SERVER_OR_MODEL = ("MODEL", "Bot", "Server", "HostSite", "make_console")

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


def tier(item: pytest.Item) -> str:
    """The tier of a collected test (see BROWSER_FIXTURES)."""
    for name in ("e2e", "integration", "unit"):
        if item.get_closest_marker(name):
            return name
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & BROWSER_FIXTURES:
        return "e2e"
    module = getattr(item, "module", None)
    if fixtures & SERVER_FIXTURES or any(hasattr(module, name) for name in SERVER_OR_MODEL):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier."""
    for item in items:
        item.add_marker(tier(item))
