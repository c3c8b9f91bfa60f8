"""Notifications: telling a person that something of theirs moved on (an application step
today; tickets and appointments tomorrow), through WeChat subscribe messages, SMS and the
live event stream, delivered at least once and recorded exactly once."""
