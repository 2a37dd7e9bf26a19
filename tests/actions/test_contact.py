import pytest

from actions.contact import (
    FORM_SLOTS,
    ActionClearContactForm,
    ActionSubmitContact,
    ValidateContactForm,
    is_valid_email,
    looks_like_a_name,
    question_before_form,
)


@pytest.mark.parametrize(
    "email",
    ["ana@example.com", "a.b+iso@mail.example.co.uk", "x_y@sub-domain.example.org"],
)
def test_valid_emails(email):
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana @example.com",
        "ana@exa mple.com",
        "<script>@x.com",
        "a@-example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_invalid_emails(email):
    assert not is_valid_email(email)


async def test_invalid_email_is_cleared_with_a_clear_reask(load_tracker, dispatcher):
    form = ValidateContactForm()
    result = form.validate_contact_email(
        "ana at example", dispatcher, load_tracker("contact_complete"), {}
    )

    assert result == {"contact_email": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_email"


def test_email_is_trimmed(load_tracker, dispatcher):
    result = ValidateContactForm().validate_contact_email(
        "  ana@example.com. ", dispatcher, load_tracker("contact_complete"), {}
    )
    assert result == {"contact_email": "ana@example.com"}
    assert dispatcher.messages == []


@pytest.mark.parametrize("name", ["", "   ", "12345", "x" * 101, None])
def test_unusable_names_are_reasked(name, load_tracker, dispatcher):
    result = ValidateContactForm().validate_contact_name(
        name, dispatcher, load_tracker("contact_complete"), {}
    )
    assert result == {"contact_name": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_name"


def test_name_whitespace_is_collapsed(load_tracker, dispatcher):
    result = ValidateContactForm().validate_contact_name(
        "  Ana   Pereira ", dispatcher, load_tracker("contact_complete"), {}
    )
    assert result == {"contact_name": "Ana Pereira"}


@pytest.mark.parametrize("question", ["", "ok", "q" * 2001])
def test_question_length_is_checked(question, load_tracker, dispatcher):
    result = ValidateContactForm().validate_contact_question(
        question, dispatcher, load_tracker("contact_complete"), {}
    )
    assert result == {"contact_question": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_question"


async def test_submit_stores_the_request_and_clears_the_form(load_tracker, dispatcher):
    events = await ActionSubmitContact().run(dispatcher, load_tracker("contact_complete"), {})

    stored = events[0]
    assert stored["name"] == "contact_request"
    request = stored["value"]
    assert request["name"] == "Ana Pereira"
    assert request["email"] == "ana@example.com"
    assert request["question"].startswith("How long does ISO 9001")
    assert request["consent"] is True
    assert request["submitted_at"].endswith("+00:00")
    assert {e["name"]: e["value"] for e in events[1:]} == dict.fromkeys(FORM_SLOTS)


async def test_clearing_forgets_every_answer_of_the_form(load_tracker, dispatcher):
    events = await ActionClearContactForm().run(dispatcher, load_tracker("contact_complete"), {})
    assert {e["name"]: e["value"] for e in events} == dict.fromkeys(FORM_SLOTS)
    assert dispatcher.messages == []


@pytest.mark.parametrize("name", ["Ana", "Dr. Ana Maria Pereira-Lopes", "李雷", "O'Brien"])
def test_plausible_names(name):
    assert looks_like_a_name(name)


@pytest.mark.parametrize(
    "text", ["What's the weather in London tomorrow?", "we need iso 9001 for our bakery by june"]
)
def test_questions_are_no_names(text):
    assert not looks_like_a_name(text)


def form_after(*user: tuple[str, str]) -> list[dict]:
    """Events: the visitor's messages (text, intent), then the contact form starting."""
    events = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}
        for text, intent in user
    ]
    return [*events, {"event": "active_loop", "name": "contact_form"}]


@pytest.mark.parametrize(
    ("user", "question"),
    [
        ((("can you help us with iso 27001?", "ask_quote"), ("yes", "affirm")),
         "can you help us with iso 27001?"),
        ((("which standard for a bakery", "nlu_fallback"), ("/affirm", "affirm")),
         "which standard for a bakery"),
        ((("I'd like to talk to a person", "request_human"),), None),
        ((("what's the weather?", "out_of_scope"), ("talk to someone", "request_human")), None),
        ((("hello", "greet"), ("talk to someone", "request_human")), None),
        ((("who certifies?", "faq"), ("thanks", "thank"), ("human", "request_human")), None),
    ],
)  # fmt: skip
def test_the_question_asked_before_the_form(user, question, load_tracker):
    tracker = load_tracker("contact_complete")
    tracker.events = form_after(*user)
    assert question_before_form(tracker) == question


def test_the_earlier_question_is_kept_with_the_name(load_tracker, dispatcher):
    tracker = load_tracker("contact_complete")
    tracker.slots["contact_question"] = None
    asked = "how much is iso 9001 for 40 staff?"
    tracker.events = form_after((asked, "ask_quote"))
    result = ValidateContactForm().validate_contact_name("Ana", dispatcher, tracker, {})
    assert result == {"contact_name": "Ana", "contact_question": asked}


def test_a_question_typed_as_the_name_becomes_the_question(load_tracker, dispatcher):
    tracker = load_tracker("contact_complete")
    tracker.slots["contact_question"] = None
    tracker.events = form_after(("talk to someone", "request_human"))
    text = "What's the weather in London tomorrow?"
    result = ValidateContactForm().validate_contact_name(text, dispatcher, tracker, {})
    assert result == {"contact_name": None, "contact_question": text}
    assert [m["response"] for m in dispatcher.messages] == ["utter_question_before_name"]
