"""Faithful fakes of external services (WeChat API, SMS gateway, verification service),
served over real HTTP on loopback: dev mode points the real clients at them, and so do
the tests."""
