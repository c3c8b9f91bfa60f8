"""政策兑现 and 免申即享: a catalog of policies with eligibility rules over what the platform
already knows (verified identity, an enterprise's registration, wallet certificates) and
what only the holder can declare; matching, 主动提醒, claims, the department's review,
disbursement through a bank provider with signed callbacks, and 公示."""
