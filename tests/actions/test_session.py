from actions.session import ActionSessionStart


async def test_session_starts_with_the_greeting(load_tracker, dispatcher):
    events = await ActionSessionStart().run(dispatcher, load_tracker("did_you_mean_first"), {})

    assert [m["response"] for m in dispatcher.messages] == ["utter_greet"]
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[1]["name"] == "action_listen"
