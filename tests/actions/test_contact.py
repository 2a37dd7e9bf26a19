import pytest

from actions.contact import (
    FORM_SLOTS,
    ActionClearContactForm,
    ActionSubmitContact,
    ValidateContactForm,
    is_valid_email,
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
