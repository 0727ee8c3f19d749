#include "server/store/sql_create_batch.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/text.h"
#include "server/store/sql_rows.h"

namespace apm {
namespace {

using nlohmann::json;

// The batch's values travel as one JSON array parameter per statement, so a statement's text
// (and its prepared plan) is the same for any batch size. Each statement is written for both
// dialects: json_each / json_extract in SQLite, json_array_elements_text / json_populate_recordset
// in PostgreSQL. PostgreSQL's look-ups are correlated (LATERAL, a scalar subquery): it guesses 100
// rows for a JSON array and would rather hash them against a scan of the whole table.
const char* Sql(const SqlConnection& c, const char* sqlite, const char* postgres) {
  return c.dialect() == SqlDialect::kPostgres ? postgres : sqlite;
}

// Runs `sql`, whose one parameter is the JSON array `values`, and hands each row it answers to
// `on_row` (a Status: an error stops the loop).
template <class OnRow>
Status RunWithArray(SqlConnection& c, const char* sql, const json& values, const char* what,
                    OnRow on_row) {
  Result<SqlStatement> s = c.Statement(sql);
  if (!s.ok()) return s.status();
  s->Bind(1, values.dump());
  SqlStep rc;
  while ((rc = s->Step()) == SqlStep::kRow) {
    if (Status st = on_row(*s); !st.ok()) return st;
  }
  if (rc != SqlStep::kDone) return c.Error(what);
  return Status::Ok();
}

Status NoRows(const SqlStatement&) {
  return Status::Ok();
}

// The ids and aliases among `candidates` that a request or an alias already has.
Result<std::set<std::string>> TakenIds(SqlConnection& c, const json& candidates) {
  std::set<std::string> taken;
  Status s = RunWithArray(
      c,
      Sql(c,
          "SELECT id FROM requests WHERE id IN (SELECT value FROM json_each(?1)) UNION "
          "SELECT alias FROM request_aliases WHERE alias IN (SELECT value FROM json_each(?1))",
          "SELECT b.v FROM json_array_elements_text(?1::json) AS b(v) JOIN LATERAL "
          "(SELECT 1 FROM requests WHERE id = b.v UNION ALL "
          "SELECT 1 FROM request_aliases WHERE alias = b.v LIMIT 1) AS t ON true"),
      candidates, "check ids", [&](const SqlStatement& row) {
        taken.insert(row.Text(0));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return taken;
}

struct OpenRequest {
  std::string id;
  std::string fingerprint;
  int64_t created_at = 0;
  std::optional<size_t> created_by_item;  // made earlier in this batch
};

struct SerialLookup {
  std::vector<std::string> key;             // per item: the serial as the database lowers it
  std::map<std::string, OpenRequest> open;  // by key: the newest open request
};

// Serials compare without case, as the database's lower() has it ("victim-x" is the device
// "VICTIM-X"), between stored requests and between items of the batch alike.
Result<SerialLookup> LookUpSerials(SqlConnection& c, const json& serials) {
  SerialLookup found;
  found.key.resize(serials.size());
  Status s = RunWithArray(
      c,
      Sql(c,
          "SELECT b.key, lower(b.value), r.id, r.hash_fingerprint, r.created_at "
          "FROM json_each(?1) AS b LEFT JOIN requests r "
          "ON lower(r.serial_number) = lower(b.value) AND r.finished_at = 0",
          "SELECT b.i - 1, lower(b.s), r.id, r.hash_fingerprint, r.created_at "
          "FROM json_array_elements_text(?1::json) WITH ORDINALITY AS b(s, i) LEFT JOIN LATERAL "
          "(SELECT id, hash_fingerprint, created_at FROM requests WHERE finished_at = 0 "
          "AND lower(serial_number) = lower(b.s) ORDER BY created_at DESC LIMIT 1) AS r ON true"),
      serials, "find open requests", [&](const SqlStatement& row) {
        size_t item = size_t(row.Int(0));
        if (item >= found.key.size()) return Status::Internal("serial lookup: row for no item");
        found.key[item] = row.Text(1);
        if (row.IsNull(2)) return Status::Ok();
        OpenRequest open{row.Text(2), row.Text(3), row.Int(4), std::nullopt};
        auto [it, added] = found.open.emplace(found.key[item], open);
        if (!added && it->second.created_at < open.created_at) it->second = open;
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return found;
}

// Open requests per address, for the addresses in `addresses`.
Result<std::map<std::string, int64_t>> OpenCounts(SqlConnection& c, const json& addresses) {
  std::map<std::string, int64_t> counts;
  Status s = RunWithArray(
      c,
      Sql(c,
          "SELECT client_address, COUNT(*) FROM requests WHERE finished_at = 0 "
          "AND client_address IN (SELECT value FROM json_each(?1)) GROUP BY client_address",
          "SELECT b.a, (SELECT COUNT(*) FROM requests WHERE finished_at = 0 "
          "AND client_address = b.a) FROM json_array_elements_text(?1::json) AS b(a)"),
      addresses, "count open requests", [&](const SqlStatement& row) {
        counts[row.Text(0)] = row.Int(1);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return counts;
}

// Takes `n` change sequence numbers; returns the first.
Result<int64_t> NextChangeSeqs(SqlConnection& c, int64_t n) {
  Result<SqlStatement> s = c.Statement(
      "UPDATE counters SET value = value + ?1 WHERE name = 'change_seq' RETURNING value");
  if (!s.ok()) return s.status();
  s->Bind(1, n);
  if (s->Step() != SqlStep::kRow) return c.Error("next changes");
  return s->Int(0) - n + 1;
}

Status InsertRequests(SqlConnection& c, const json& rows) {
  return RunWithArray(
      c,
      Sql(c,
          "INSERT INTO requests (id, serial_number, manufacturer, model, hardware_hash, "
          "hash_fingerprint, product_key, client_version, client_address, api, verification, "
          "hash_facts, state, step, created_at, updated_at, expires_at, finished_at, version, "
          "change_seq, requested_action, function_validation, proposed_group_tag, proposed_user) "
          "SELECT "
          "json_extract(value, '$.id'), json_extract(value, "
          "'$.serial_number'), "
          "json_extract(value, '$.manufacturer'), json_extract(value, '$.model'), "
          "json_extract(value, '$.hardware_hash'), "
          "json_extract(value, '$.hash_fingerprint'), json_extract(value, '$.product_key'), "
          "json_extract(value, '$.client_version'), "
          "json_extract(value, '$.client_address'), json_extract(value, '$.api'), "
          "json_extract(value, '$.verification'), json_extract(value, '$.hash_facts'), "
          "json_extract(value, '$.state'), json_extract(value, '$.step'), json_extract(value, "
          "'$.created_at'), json_extract(value, '$.updated_at'), "
          "json_extract(value, '$.expires_at'), json_extract(value, '$.finished_at'), "
          "json_extract(value, '$.version'), json_extract(value, '$.change_seq'), "
          "json_extract(value, '$.requested_action'), json_extract(value, "
          "'$.function_validation'), "
          "json_extract(value, '$.proposed_group_tag'), json_extract(value, '$.proposed_user') "
          "FROM json_each(?1)",
          "INSERT INTO requests (id, serial_number, manufacturer, model, hardware_hash, "
          "hash_fingerprint, product_key, client_version, client_address, api, verification, "
          "hash_facts, state, step, created_at, updated_at, expires_at, finished_at, version, "
          "change_seq, requested_action, function_validation, proposed_group_tag, proposed_user) "
          "SELECT id, "
          "serial_number, manufacturer, model, "
          "hardware_hash, hash_fingerprint, product_key, client_version, client_address, api, "
          "verification, hash_facts, state, step, created_at, updated_at, expires_at, finished_at, "
          "version, change_seq, requested_action, function_validation, proposed_group_tag, "
          "proposed_user FROM json_populate_recordset(NULL::requests, ?1::json)"),
      rows, "insert requests", NoRows);
}

Status InsertAliases(SqlConnection& c, const json& aliases) {
  return RunWithArray(
      c,
      Sql(c,
          "INSERT INTO request_aliases (alias, request_id) "
          "SELECT json_extract(value, '$.alias'), json_extract(value, '$.request_id') "
          "FROM json_each(?1)",
          "INSERT INTO request_aliases (alias, request_id) SELECT alias, request_id "
          "FROM json_populate_recordset(NULL::request_aliases, ?1::json)"),
      aliases, "add aliases", NoRows);
}

// Writes the batch's new requests (numbered in order in the change feed) and aliases.
Status WriteCreated(SqlConnection& c, json& rows, const json& aliases) {
  if (!rows.empty()) {
    Result<int64_t> seq = NextChangeSeqs(c, int64_t(rows.size()));
    if (!seq.ok()) return seq.status();
    for (json& row : rows) row["change_seq"] = (*seq)++;
    if (Status s = InsertRequests(c, rows); !s.ok()) return s;
  }
  if (!aliases.empty()) {
    if (Status s = InsertAliases(c, aliases); !s.ok()) return s;
  }
  return Status::Ok();
}

json RowOf(const StoredRequest& r) {
  return {{"id", r.id},
          {"serial_number", r.serial_number},
          {"manufacturer", r.manufacturer},
          {"model", r.model},
          {"hardware_hash", r.hardware_hash},
          {"hash_fingerprint", r.hash_fingerprint},
          {"product_key", r.product_key},
          {"client_version", r.client_version},
          {"client_address", r.client_address},
          {"api", r.api},
          {"verification", r.verification},
          {"hash_facts", r.hash_facts.empty() ? "{}" : r.hash_facts},
          {"state", RequestStateName(r.state)},
          {"step", r.step},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at},
          {"expires_at", r.expires_at},
          {"finished_at", r.finished_at},
          {"version", r.version},
          {"requested_action", r.requested_action},
          {"function_validation", r.function_validation},
          {"proposed_group_tag", r.proposed_group_tag},
          {"proposed_user", r.proposed_user}};
}

// Text the databases can hold alike: UTF-8 without NUL (PostgreSQL refuses NUL, SQLite's JSON
// functions would cut the text there).
bool StorableText(const StoredRequest& r, const std::string& alias) {
  for (const std::string* s :
       {&r.id, &alias, &r.serial_number, &r.manufacturer, &r.model, &r.hardware_hash,
        &r.hash_fingerprint, &r.product_key, &r.client_version, &r.client_address, &r.api,
        &r.verification, &r.hash_facts, &r.step, &r.requested_action, &r.function_validation,
        &r.proposed_group_tag, &r.proposed_user}) {
    if (!IsValidUtf8(*s) || s->find('\0') != std::string::npos) return false;
  }
  return true;
}

// A request created earlier in the batch, as a read of it would return it.
StoredRequest AsRead(StoredRequest r) {
  r.hardware_hash.clear();
  r.hash_facts.clear();
  r.registration.clear();
  r.registration_checked_at = 0;
  return r;
}

}  // namespace

Result<std::vector<Result<CreateOutcome>>> CreateAll(SqlConnection& c,
                                                     std::span<const CreateItem> items) {
  using Kind = CreateOutcome::Kind;
  json ids = json::array(), serials = json::array();
  std::set<std::string> distinct_addresses;
  for (const CreateItem& item : items) {
    bool storable = StorableText(*item.request, *item.alias_id);
    for (const std::string* id : {&item.request->id, item.alias_id}) {
      if (storable && !id->empty()) ids.push_back(*id);
    }
    serials.push_back(storable ? item.request->serial_number : "");
    if (storable) distinct_addresses.insert(item.request->client_address);
  }
  json addresses = distinct_addresses;
  Result<std::set<std::string>> taken = TakenIds(c, ids);
  if (!taken.ok()) return taken.status();
  Result<SerialLookup> serial = LookUpSerials(c, serials);
  if (!serial.ok()) return serial.status();
  Result<std::map<std::string, int64_t>> open_count = OpenCounts(c, addresses);
  if (!open_count.ok()) return open_count.status();

  std::vector<Result<CreateOutcome>> outcomes;
  json rows = json::array(), aliases = json::array();
  auto add_alias = [&](const std::string& alias, const std::string& request_id) {
    if (alias.empty()) return;
    aliases.push_back({{"alias", alias}, {"request_id", request_id}});
    taken->insert(alias);
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const StoredRequest& r = *items[i].request;
    const std::string& alias = *items[i].alias_id;
    if (!StorableText(r, alias)) {
      outcomes.push_back(Status::InvalidArgument("request " + r.id +
                                                 ": a field is not UTF-8 or holds a NUL byte"));
      continue;
    }
    if (taken->count(r.id) || (!alias.empty() && taken->count(alias))) {
      outcomes.push_back(CreateOutcome{Kind::kIdTaken, {}});
      continue;
    }
    auto open = serial->open.find(serial->key[i]);
    if (open != serial->open.end()) {
      // Knowing a serial must not give away its request: only the same hash gets it back.
      if (open->second.fingerprint != r.hash_fingerprint) {
        outcomes.push_back(CreateOutcome{Kind::kOpenForSerialWithOtherHash, {}});
        continue;
      }
      add_alias(alias, open->second.id);
      if (std::optional<size_t> twin = open->second.created_by_item) {
        outcomes.push_back(
            CreateOutcome{Kind::kExistingOpenForSerial, AsRead(outcomes[*twin]->request)});
        continue;
      }
      Result<StoredRequest> existing = GetOn(c, open->second.id);
      if (!existing.ok()) return existing.status();
      outcomes.push_back(CreateOutcome{Kind::kExistingOpenForSerial, std::move(existing).value()});
      continue;
    }
    int64_t& open_here = (*open_count)[r.client_address];
    if (open_here >= items[i].max_open_per_address) {
      outcomes.push_back(CreateOutcome{Kind::kTooManyOpenForAddress, {}});
      continue;
    }
    ++open_here;
    StoredRequest stored = r;
    stored.version = 1;
    rows.push_back(RowOf(stored));
    taken->insert(r.id);
    add_alias(alias, r.id);
    serial->open[serial->key[i]] = {r.id, r.hash_fingerprint, r.created_at, i};
    outcomes.push_back(CreateOutcome{Kind::kCreated, std::move(stored)});
  }
  if (Status s = WriteCreated(c, rows, aliases); !s.ok()) return s;
  return outcomes;
}

}  // namespace apm
