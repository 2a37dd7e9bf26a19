"""Answer changes go live only with an admin's approval; links only to allowed domains.

A real console over HTTP with a real registry: the shipped model (`make train`) is live;
the other models are that same archive with answers changed in its domain (metadata.json,
where Rasa reads the answers from when it loads a model), as a hand-made model would be.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from console.settings import Settings
from console.tables import Annotation
from retrain import jobs, links, registry
from tests.console.browser import assert_accessible, sign_in
from tests.console.conftest import make_console
from tests.servers import MODEL, ROOT

ALLOWED = ("bulltek.example",)
TOKEN = "pull-token-" + uuid.uuid4().hex
LOGIN = "Sign in at [bulltek.example/login]({target}) to see your certificates. <b>not bold</b>"
CHANGED = "utter_faq/what_is_iso"


@pytest.fixture(scope="module")
def approval(tmp_path_factory):
    """A console whose project is a copy of the shipped one, the shipped model live."""
    root = tmp_path_factory.mktemp("approval")
    project = root / "project"
    project.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copyfile(ROOT / name, project / name)
    shutil.copytree(ROOT / "data", project / "data")
    console = make_console(
        root / "console",
        SimpleNamespace(db=root / "conversations.db"),
        "approval",
        project=project,
        registry=root / "registry",
        model_pull_token=TOKEN,
        answer_link_domains=ALLOWED,
    )
    with console.app.ctx.services.db.session() as session:  # live, as if it passed the gate
        row = registry.register(
            session, console.settings, MODEL, created_by="make train",
            fingerprints=("shipped", "shipped"), status="candidate",
        )  # fmt: skip
        registry.activate(session, console.settings, row.id, "make train")
    yield console
    console.served.stop()


def model_saying(folder: Path, change: Callable[[dict], None], source: Path = MODEL) -> Path:
    """A copy of a model archive whose domain's responses `change` edits in place."""
    target = folder / f"model-{uuid.uuid4().hex[:8]}.tar.gz"
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz", compresslevel=1) as new:
        for member in old:
            content = old.extractfile(member) if member.isfile() else None
            if member.name == "metadata.json":
                metadata = json.load(content)
                change(metadata["domain"]["responses"])
                raw = json.dumps(metadata).encode()
                member.size, content = len(raw), io.BytesIO(raw)
            new.addfile(member, content)
    return target


def awaiting(console, path: Path, status: str = "awaiting") -> int:
    """Register a model that passed the gate, as a reviewer's retraining leaves it."""
    with console.app.ctx.services.db.session() as session:
        row = registry.register(
            session,
            console.settings,
            path,
            created_by="reviewer",
            fingerprints=("data", "setup"),
            status=status,
        )
        row.gate_passed = True
        return row.id


def post(session, url: str, body: dict | None = None):
    return session.post(url, json=body or {}, headers={"X-CSRF-Token": session.csrf})


def live_name(console) -> str:
    with console.app.ctx.services.db.session() as session:
        return registry.live_model(session).name


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/login",
        "https://evil-bulltek.example/login",
        "https://bulltek.example.evil.net/login",
        "https://bulltek-example.com/login",
        "https://bulltek.example@evil.example/login",
        "https://evil.example\\.bulltek.example/login",
        "https:evil.example/login",
        "https://bulltek.example%2eevil.net/",
        "https://bulltеk.example/login",  # a Cyrillic "е"
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:help@evil.example",
        "/login",
    ],
)
def test_links_to_other_and_look_alike_domains_are_refused(target):
    for text in (f"[bulltek.example]({target})", f'<a href="{target}">x</a>'):
        assert links.text_problems(text, ALLOWED), text
    assert links.text_problems("Sign in at evil.example/login now", ALLOWED)
    assert links.text_problems("Sign in at www.evil.example now", ALLOWED)


@pytest.mark.parametrize(
    "text",
    [
        "[sign in](https://bulltek.example/login)",
        "[sign in](https://www.bulltek.example/a?b=c#d) or https://help.bulltek.example/x.",
        "write to [us](mailto:help@bulltek.example)",
        "**No.** ISO publishes standards, e.g. ISO 9001; your data: ISO/IEC 27001.",
    ],
)
def test_links_to_allowed_domains_and_their_subdomains_pass(text):
    assert links.text_problems(text, ALLOWED) == []


def test_the_link_domains_setting_defaults_to_the_domains_of_domain_yml(tmp_path):
    assert Settings.from_env(
        {"ANSWER_LINK_DOMAINS": " Bulltek.example ,iso.org"}
    ).answer_link_domains == (
        "bulltek.example",
        "iso.org",
    )
    with pytest.raises(ValueError, match="ANSWER_LINK_DOMAINS"):
        Settings.from_env({"ANSWER_LINK_DOMAINS": "bulltek.example/login"})
    assert Settings.from_env({}).answer_link_domains is None
    assert links.domains_used(ROOT / "domain.yml") == ()  # the shipped answers link nowhere
    (tmp_path / "domain.yml").write_text(
        "responses:\n  utter_x:\n  - text: See [ISO](https://www.iso.org/standards.html).\n"
    )
    defaults = Settings(project=tmp_path)
    assert links.allowed_domains(defaults) == ("www.iso.org",)
    assert links.text_problems("[x](https://www.iso.org.evil.net/)", ("www.iso.org",))


def test_a_stored_new_faq_linking_elsewhere_is_refused_by_the_export(approval):
    with approval.app.ctx.services.db.session() as session:
        for n, (name, target) in enumerate(
            [("portal_login", "https://bulltek.example.evil.net/login"),
             ("portal_help", "https://bulltek.example/help")]
        ):  # fmt: skip
            session.add(
                Annotation(
                    conversation_id=f"stored-{uuid.uuid4().hex}",
                    event_index=n,
                    event_timestamp=0.0,
                    text=f"where do I sign in to the portal number {n}",
                    action="new_faq",
                    faq_name=name,
                    faq_answer=LOGIN.format(target=target),
                    created_by="reviewer",
                )
            )
    reviewer = approval.session("reviewer")
    plan = reviewer.get(approval.url + "/api/models/export-preview").json()
    assert list(plan["new_faqs"]) == ["portal_help"]
    [refused] = plan["rejected"]
    assert "bulltek.example.evil.net, which is not an allowed domain" in refused["reason"]
    page = reviewer.get(approval.url + "/models").text
    assert "→ <code>https://bulltek.example/help</code>" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>not bold</b>" not in page


def test_changed_answers_go_live_only_when_an_admin_approves_exactly_them(approval, tmp_path):
    def change(responses: dict) -> None:
        responses[CHANGED][0]["text"] = "ISO is **changed**. " + LOGIN.format(
            target="https://bulltek.example/login"
        )
        responses["utter_faq/portal_login"] = [
            {"text": LOGIN.format(target="https://bulltek.example/login")}
        ]

    before = live_name(approval)
    model_id = awaiting(approval, model_saying(tmp_path, change))
    db = approval.app.ctx.services.db
    job_id = jobs.create(db, "reviewer")  # the job that stopped before activation
    jobs.Progress(db, job_id).finish("awaiting", model_id=model_id)
    reviewer, admin = approval.session("reviewer"), approval.session("admin")
    shown = reviewer.get(f"{approval.url}/api/models/{model_id}").json()["answers"]
    assert shown["against"] == before
    assert [(c["kind"], c["response"]) for c in shown["changes"]] == [
        ("new", "utter_faq/portal_login"),
        ("changed", CHANGED),
    ]
    assert shown["link_problems"] == []
    approve = f"{approval.url}/api/models/{model_id}/approve"
    activate = f"{approval.url}/api/models/{model_id}/activate"

    # A reviewer can neither approve nor activate; an admin must send the digest shown.
    for url in (approve, activate):
        assert post(reviewer, url, {"changes": shown["digest"]}).status_code == 403
    missing = post(admin, activate)
    assert missing.status_code == 400 and "must approve them" in missing.json()["error"]
    stale = post(admin, approve, {"changes": "0" * 64})
    assert stale.status_code == 409 and "review them again" in stale.json()["error"]
    assert live_name(approval) == before

    # The model page shows the old and new texts as the widget renders them, links spelled out.
    page = admin.get(f"{approval.url}/models/{model_id}").text
    assert "Answers awaiting an admin's approval" in page
    assert '<span class="as-link">bulltek.example/login</span>' in page
    assert "→ <code>https://bulltek.example/login</code>" in page
    assert "<strong>changed</strong>" in page and "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert "Live now" in page and "After approval" in page
    assert f'name="changes" value="{shown["digest"]}"' in page
    job_page = admin.get(f"{approval.url}/models/jobs/{job_id}").text
    assert "Answers awaiting an admin's approval" in job_page and "Live now" in job_page
    assert f'action="/models/{model_id}/approve"' in job_page

    approved = post(admin, approve, {"changes": shown["digest"]})
    assert approved.status_code == 200, approved.text
    live = approved.json()["live"]
    assert (live["id"], live["status"], live["created_by"]) == (model_id, "live", "reviewer")
    assert live["activated_by"] == "admin" and live["approved_by"] == "admin"
    job_page = reviewer.get(f"{approval.url}/models/jobs/{job_id}").text
    assert "approved by admin" in job_page and "/approve" not in job_page
    served = approval.session("viewer").get(
        f"{approval.url}/api/models/live", params={"token": TOKEN}, stream=True
    )
    assert served.headers["ETag"] == live["name"]
    served.close()
    entries = admin.get(approval.url + "/api/audit").json()["entries"]
    assert any(
        e["what"] == "answers approved" and e["who"] == "admin" and CHANGED in e["details"]
        for e in entries
    )

    # A rollback restores the answers that were live before, without a new approval.
    rolled = post(admin, f"{approval.url}/api/models/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["live"]["name"] == before


def test_a_model_linking_to_another_or_a_look_alike_domain_cannot_go_live(approval, tmp_path):
    admin = approval.session("admin")
    for target in ("https://evil.example/login", "https://evil-bulltek.example/login"):

        def change(responses: dict, target: str = target) -> None:
            responses[CHANGED][0]["text"] = LOGIN.format(target=target)

        model_id = awaiting(approval, model_saying(tmp_path, change))
        shown = admin.get(f"{approval.url}/api/models/{model_id}").json()["answers"]
        host = target.split("/")[2]
        assert any(host in problem for problem in shown["link_problems"]), shown
        refused = post(
            admin, f"{approval.url}/api/models/{model_id}/approve", {"changes": shown["digest"]}
        )
        assert refused.status_code == 400
        assert f"goes to {host}, which is not an allowed domain" in refused.json()["error"]
        page = admin.get(f"{approval.url}/models/{model_id}").text
        assert f"→ <code>{target}</code>" in page and "cannot go live" in page
        assert "/approve" not in page
    with approval.app.ctx.services.db.session() as session:
        assert registry.live_model(session).created_by == "make train"


def test_a_model_with_the_live_answers_still_activates_without_approval(approval, tmp_path):
    with approval.app.ctx.services.db.session() as session:
        live = registry.model_path(approval.settings, registry.live_model(session))
    model_id = awaiting(approval, model_saying(tmp_path, lambda responses: None, live), "candidate")
    admin = approval.session("admin")
    assert admin.get(f"{approval.url}/api/models/{model_id}").json()["answers"]["changes"] == []
    activated = post(admin, f"{approval.url}/api/models/{model_id}/activate")
    assert activated.status_code == 200, activated.text
    assert activated.json()["live"]["approved_by"] is None
    assert live_name(approval) == activated.json()["live"]["name"]


def test_an_admin_sees_the_pending_answers_and_approves_them_by_clicking(
    approval, tmp_path, browser
):
    """In Chromium: answers rendered as the widget shows them, every link target spelled
    out, markup shown as text; a refused link blocks the approval; the admin clicks Approve."""
    hostile = (
        "[bulltek.example/login](https://bulltek.example.evil.net/login)"
        " <img src=x onerror=alert(1)>"
    )
    good = "**Sign in** at [bulltek.example/login](https://bulltek.example/login). <b>not bold</b>"
    bad_id = awaiting(
        approval, model_saying(tmp_path, lambda r: r.update({"utter_faq/x": [{"text": hostile}]}))
    )
    good_id = awaiting(
        approval,
        model_saying(tmp_path, lambda r: r.update({"utter_faq/clicked_portal": [{"text": good}]})),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors, dialogs = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    try:
        sign_in(page, approval, "admin")
        page.goto(f"{approval.url}/models/{bad_id}")
        bubble = page.locator(".bubble")
        expect(bubble.locator(".link-target")).to_contain_text(
            "→ https://bulltek.example.evil.net/login"
        )
        expect(bubble).to_contain_text("<img src=x onerror=alert(1)>")  # text, not markup
        expect(bubble.locator("img")).to_have_count(0)
        expect(page.get_by_text("This model cannot go live")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
        assert_accessible(page)

        page.get_by_role("link", name="Models", exact=True).click()
        pending = page.locator("li.card").filter(has_text="utter_faq/clicked_portal")
        expect(pending.locator(".bubble strong")).to_have_text("Sign in")
        expect(pending.locator(".bubble .as-link")).to_have_text("bulltek.example/login")
        expect(pending.locator(".bubble .link-target")).to_have_text(
            "→ https://bulltek.example/login"
        )
        expect(pending.locator(".bubble")).to_contain_text("<b>not bold</b>")
        expect(page.locator(f'form[action="/models/{bad_id}/approve"]')).to_have_count(0)
        assert_accessible(page)
        page.locator(f'form[action="/models/{good_id}/approve"]').get_by_role("button").click()
        expect(page).to_have_url(f"{approval.url}/models/{good_id}")
        expect(page.locator("dl")).to_contain_text("Answer changes approved")
        assert errors == [] and dialogs == []
    finally:
        context.close()
    live = approval.session("viewer").get(f"{approval.url}/api/models/{good_id}").json()["model"]
    assert (live["status"], live["approved_by"]) == ("live", "admin")
