"""Clients of external services that more than one domain uses (WeChat API, SMS gateway).

Each is an interface with a production implementation over HTTP and a development one;
the composition root chooses by configuration. Tests drive the production clients
against faithful fakes on loopback.
"""
