"""The widget on its demo page, driven as a visitor would: open it, ask, read the replies."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def demo(page: Page, bot) -> Page:
    page.goto(bot.widget + "demo/")
    expect(launcher(page)).to_be_visible()
    return page


def launcher(page: Page):
    return page.get_by_role("button", name=re.compile("^Open chat"))


def open_chat(page: Page) -> None:
    launcher(page).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bot_bubbles(page).first).to_contain_text("virtual assistant")


def bot_bubbles(page: Page):
    return page.locator(".row.bot .bubble")


def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your question")
    box.fill(text)
    box.press("Enter")
