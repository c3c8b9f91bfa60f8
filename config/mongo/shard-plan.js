// Shards the superapp's collections (docs/SCALING.md, "the shard plan"); run once through
// mongos after the shards are added:  mongosh --host mongos --file config/mongo/shard-plan.js
// Idempotent: a collection already sharded is left as it is. The database name comes from
// SUPERAPP_DB (default "superapp").
const dbName = (typeof process !== "undefined" && process.env.SUPERAPP_DB) || "superapp";
sh.enableSharding(dbName);
const plan = [
  ["applications", {_id: "hashed"}],
  ["bundle_applications", {_id: "hashed"}],
  ["uploads", {_id: "hashed"}],
  ["certificates", {_id: "hashed"}],
  ["certificate_shares", {_id: "hashed"}],
  ["certificate_usage", {holder: "hashed"}],
  ["certificate_reminders", {holder: "hashed"}],
  ["code_scans", {holder: "hashed"}],
  ["consents", {_id: "hashed"}],
  ["persons", {_id: "hashed"}],
  ["agreement_acceptances", {_id: "hashed"}],
  ["audit_log", {chain: 1, seq: 1}],
  ["audit_heads", {_id: "hashed"}],
  ["idempotency_keys", {_id: "hashed"}],
  ["refresh_tokens", {_id: "hashed"}],
  ["tickets", {_id: "hashed"}],
  ["appointments", {_id: "hashed"}],
  ["appointment_live", {_id: "hashed"}],
  ["hall_numbers", {hall: 1, day: 1}],
  ["payment_ledger", {_id: "hashed"}],
];
// Unique indexes that do not start with the shard key cannot stay (applications.number:
// numbers come from a counter's atomic $inc).
const dropFirst = {applications: ["number_1"], tickets: ["number_1"]};
for (const [name, key] of plan) {
  const coll = db.getSiblingDB(dbName).getCollection(name);
  const info = db.getSiblingDB("config").collections.findOne({_id: `${dbName}.${name}`});
  if (info && !info.dropped) { print(`${name}: already sharded`); continue; }
  for (const index of dropFirst[name] || []) {
    try { coll.dropIndex(index); } catch (e) { /* not there */ }
  }
  sh.shardCollection(`${dbName}.${name}`, key);
  print(`${name}: sharded on ${JSON.stringify(key)}`);
}
