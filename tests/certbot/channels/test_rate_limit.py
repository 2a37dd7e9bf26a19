from certbot.channels.rate_limit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_allows_the_limit_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(limit=3, window=60, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.hit("a") == 40
    assert limiter.hit("b") is None


def test_a_new_window_starts_after_the_old_one():
    clock = Clock()
    limiter = RateLimiter(limit=1, window=10, clock=clock)
    assert limiter.hit("a") is None
    clock.now += 9.5
    assert limiter.hit("a") == 1
    clock.now += 0.5
    assert limiter.hit("a") is None


def test_expired_keys_are_forgotten_when_memory_fills(monkeypatch):
    monkeypatch.setattr("certbot.channels.rate_limit.MAX_KEYS", 10)
    clock = Clock()
    limiter = RateLimiter(limit=1, window=10, clock=clock)
    for i in range(10):
        limiter.hit(f"old-{i}")
    clock.now += 11
    limiter.hit("new")
    assert len(limiter._windows) == 1
