import copy

from actions.fallback import ActionDidYouMean, previous_bot_action, suggestions
from actions.questions import FAQ_QUESTIONS


async def test_first_fallback_suggests_top_answers_then_none_of_these(load_tracker, dispatcher):
    events = await ActionDidYouMean().run(dispatcher, load_tracker("did_you_mean_first"), {})

    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    titles = [b["title"] for b in message["buttons"]]
    assert titles == [
        FAQ_QUESTIONS["faq/who_certifies"],
        FAQ_QUESTIONS["faq/verify_certificate"],
        FAQ_QUESTIONS["faq/iso_certifies"],
        "None of these",
    ]
    assert message["buttons"][-1]["payload"] == "/deny"


async def test_second_fallback_in_a_row_offers_a_person(load_tracker, dispatcher):
    events = await ActionDidYouMean().run(dispatcher, load_tracker("did_you_mean_second"), {})

    assert dispatcher.messages == []
    assert events == [{"event": "followup", "name": "utter_offer_contact", "timestamp": None}]


async def test_likely_off_topic_message_is_declined(load_tracker, dispatcher):
    tracker = load_tracker("did_you_mean_first")
    ranking = tracker.latest_message["intent_ranking"]
    ranking[1], ranking[3] = ranking[3], ranking[1]  # out_of_scope now ranks first

    events = await ActionDidYouMean().run(dispatcher, tracker, {})

    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]


def test_suggestions_skip_unlikely_answers_and_include_other_intents(load_tracker):
    parse = copy.deepcopy(load_tracker("did_you_mean_first").latest_message)
    parse["response_selector"]["faq"]["ranking"] = parse["response_selector"]["faq"]["ranking"][:1]

    buttons = suggestions(parse)

    assert [b["payload"] for b in buttons] == [
        FAQ_QUESTIONS["faq/who_certifies"],
        "How much does certification cost?",
    ]


def test_the_second_opinion_leads_the_suggestions_without_repeats(load_tracker):
    parse = copy.deepcopy(load_tracker("did_you_mean_first").latest_message)
    parse["response_selector"]["faq"]["ranking"] = parse["response_selector"]["faq"]["ranking"][:1]
    parse["second_opinion"] = {
        "answer": "faq/who_certifies", "likeliest": ["faq/mandatory", "faq/who_certifies"]
    }  # fmt: skip

    buttons = suggestions(parse)

    assert [b["payload"] for b in buttons] == [
        FAQ_QUESTIONS["faq/mandatory"],
        FAQ_QUESTIONS["faq/who_certifies"],
        "How much does certification cost?",
    ]


def test_no_usable_suggestion_gives_empty_list():
    parse = {"intent_ranking": [{"name": "greet", "confidence": 0.4}]}
    assert suggestions(parse) == []
    assert suggestions({"intent_ranking": []}) is None


def test_previous_bot_action_ignores_listen_and_slot_extraction(load_tracker):
    assert previous_bot_action(load_tracker("did_you_mean_second")) == "action_did_you_mean"
    assert previous_bot_action(load_tracker("did_you_mean_first")) == "utter_greet"
