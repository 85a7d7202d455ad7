"""What the tests share: the fake Slack and its rules, signed Slack requests, the frozen clock
and the app's test settings, member data and its classification, and the builders and waits the
test modules use. Fixtures are in tests/conftest.py."""
