// JSON from outside, read the one way the library, `zerobus serve` and the zerobus command all
// read it: records, table descriptions, VARIANT values, fault plans, CSV fields, stored rows.
// Reading is bounded so that nothing done with a value afterwards (nlohmann's dump, copy and
// comparison recurse) can run out of stack, and what the service would not take is refused here
// rather than silently resolved.
#ifndef ZEROBUS_TABLE_JSON_VALUE_H
#define ZEROBUS_TABLE_JSON_VALUE_H

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "table/delta_type.h"

namespace zerobus::table {

// How deep arrays and objects may nest in any JSON read from outside. The deepest table the
// service takes (kMaxNestingDepth levels of STRUCT) needs about 100 levels in a record and 300
// in a column's type_json; nlohmann's recursion over 512 levels costs well under 1 MiB of stack.
constexpr int kMaxJsonDepth = 512;

// Parses `text`, one JSON value, into `*value`. Refuses, saying why in `*error` as a predicate
// to put after a subject ("record " + error): text that is not JSON ("is not valid JSON: ..."), a
// NUL byte anywhere (nlohmann would stop reading there and ignore what follows), arrays and
// objects nested deeper than kMaxJsonDepth, an object with the same key twice (JSON leaves its
// meaning open; nlohmann would keep the last). The message quotes at most a short excerpt of
// the text. `*value` is unspecified after a failure.
bool ParseJson(std::string_view text, nlohmann::json *value, std::string *error);

// "got string \"12x\"", "got number 1.5", "got array of 3 elements": what `value` is, for an
// error message, bounded (strings are cut) and without walking into arrays or objects.
std::string DescribeJson(const nlohmann::json &value);

// Finds the columns of a table, and the fields of every STRUCT within it, by name as Delta
// matches them (ignoring ASCII case), at the cost of a hash lookup: a record of a wide table pairs
// up to kMaxColumns keys with as many columns. Keeps pointers into the fields it was built from,
// which must outlive it and not change. Thread-safe: const after construction.
class FieldLookup {
 public:
  explicit FieldLookup(const std::vector<DeltaField> &columns);

  // The field called `name` among `fields`, the columns given or the fields of a STRUCT within
  // them, or null.
  const DeltaField *Find(const std::vector<DeltaField> &fields, std::string_view name) const;

 private:
  struct IgnoreCaseHash {
    size_t operator()(std::string_view name) const;
  };
  struct IgnoreCaseEqual {
    bool operator()(std::string_view a, std::string_view b) const;
  };
  using Index =
      std::unordered_map<std::string_view, const DeltaField *, IgnoreCaseHash, IgnoreCaseEqual>;

  void Add(const std::vector<DeltaField> &fields);
  void Add(const DeltaType &type);

  std::unordered_map<const std::vector<DeltaField> *, Index> by_list_;
};

// Pairs the members of `object` with `fields` (a table's columns, or the fields of the STRUCT at
// `path`; path "" for the columns of `table_name`), matching names as Delta does, ignoring case,
// through `lookup` (built from the table's columns). Sets `(*values)[i]` to the member for
// fields[i], or null when there is none. Returns "" or what is wrong: a key that names no field,
// or two keys for one field ("ID" and "id").
std::string MatchMembers(const nlohmann::json &object, const std::vector<DeltaField> &fields,
                         const FieldLookup &lookup, const std::string &path,
                         const std::string &table_name,
                         std::vector<const nlohmann::json *> *values);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_JSON_VALUE_H
