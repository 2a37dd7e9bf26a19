from actions.session import ActionGreet, ActionSessionStart


async def test_session_starts_with_the_greeting(load_tracker, dispatcher):
    events = await ActionSessionStart().run(dispatcher, load_tracker("did_you_mean_first"), {})

    assert [m["response"] for m in dispatcher.messages] == ["utter_greet"]
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[1]["name"] == "action_listen"


async def test_session_start_message_right_after_the_start_does_not_greet_twice(
    load_tracker, dispatcher
):
    tracker = load_tracker("did_you_mean_first")
    tracker.events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "bot", "text": "Hi!"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/session_start"},
    ]
    events = await ActionSessionStart().run(dispatcher, tracker, {})
    assert [(e["event"], e["name"]) for e in events] == [("action", "action_listen")]
    assert dispatcher.messages == []


async def test_session_start_after_visitor_messages_starts_a_new_session(load_tracker, dispatcher):
    tracker = load_tracker("did_you_mean_first")
    tracker.events.append({"event": "user", "text": "/session_start"})
    events = await ActionSessionStart().run(dispatcher, tracker, {})
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet"]


SESSION_OPENED = [
    {"event": "action", "name": "action_session_start"},
    {"event": "bot", "text": "Hi!"},
    {"event": "session_started"},
    {"event": "action", "name": "action_listen"},
]


async def test_hello_as_the_first_message_is_greeted_once(load_tracker, dispatcher):
    tracker = load_tracker("did_you_mean_first")
    tracker.events = [*SESSION_OPENED, {"event": "user", "text": "hello"}]
    assert await ActionGreet().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == []


async def test_hello_after_the_session_start_message_is_answered(load_tracker, dispatcher):
    tracker = load_tracker("did_you_mean_first")
    tracker.events = [
        *SESSION_OPENED,
        {"event": "user", "text": "/session_start"},
        {"event": "action", "name": "action_session_start"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hello"},
    ]
    await ActionGreet().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet"]
