"""The composition root: the only package that imports every domain.

It builds the storage clients and every service once, with constructor injection
(``context``), registers every domain's routes (``routes``), starts and stops the whole
product with its embedded servers and background work (``launcher``, ``python -m superapp``),
and holds what exists for development only: the fakes of external services (``fakes``),
demo data (``demo``) and the dev endpoints (``dev``). See ``docs/ARCHITECTURE.md``.
"""
