"""Storage clients. The only code that speaks MongoDB or Redis lives in storage modules."""
