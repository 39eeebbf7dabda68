#include "table/json_value.h"

#include <cctype>
#include <cstring>
#include <utility>

#include "table/value_checks.h"

namespace zerobus::table {
namespace {

using nlohmann::json;

// A path in a message is short: at most this many bytes of it.
constexpr size_t kPathBytes = 160;

// Builds the value as nlohmann's own DOM parser does, with a bound on the nesting and a refusal
// of repeated keys, for nlohmann::json::sax_parse. Pointers into the tree stay valid: only the
// innermost open container ever grows.
class BoundedReader {
 public:
  explicit BoundedReader(json *root) : root_(root) {}

  bool null() { return Put(nullptr) != nullptr; }
  bool boolean(bool value) { return Put(value) != nullptr; }
  bool number_integer(json::number_integer_t value) { return Put(value) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return Put(value) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t &) {
    return Put(value) != nullptr;
  }
  bool string(json::string_t &value) { return Put(std::move(value)) != nullptr; }
  bool binary(json::binary_t &) {
    error_ = "is not valid JSON: binary data";  // only the binary formats have it
    return false;
  }
  bool start_object(std::size_t) { return Open(json::value_t::object); }
  bool start_array(std::size_t) { return Open(json::value_t::array); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(json::string_t &name) {
    auto &members = open_.back()->get_ref<json::object_t &>();
    auto [member, inserted] = members.emplace(std::move(name), nullptr);
    if (!inserted) {
      error_ = "has the key '" + Excerpt(Member(Path(), member->first), kPathBytes) + "' twice";
      return false;
    }
    slot_ = &member->second;
    keys_.back() = &member->first;
    return true;
  }

  bool parse_error(std::size_t, const std::string &, const json::exception &e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; its "last read" may be long.
    std::string_view what = e.what();
    const size_t tag = what.find("] ");
    if (tag != std::string_view::npos) what.remove_prefix(tag + 2);
    error_ = "is not valid JSON: " + Excerpt(what, kPathBytes);
    return false;
  }

  const std::string &error() const { return error_; }

 private:
  template <typename Value>
  json *Put(Value &&value) {
    if (open_.empty()) {
      *root_ = json(std::forward<Value>(value));
      return root_;
    }
    json &parent = *open_.back();
    if (parent.is_array()) {
      auto &elements = parent.get_ref<json::array_t &>();
      elements.emplace_back(std::forward<Value>(value));
      return &elements.back();
    }
    *slot_ = json(std::forward<Value>(value));
    return slot_;
  }

  bool Open(json::value_t type) {
    if (open_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      error_ = "nests arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    open_.push_back(Put(type));
    keys_.push_back(nullptr);
    return true;
  }

  bool Close() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }

  static std::string Member(const std::string &path, const std::string &key) {
    return path.empty() ? Excerpt(key) : path + "." + Excerpt(key);
  }

  // Where the innermost open container is: "loc", "tags[2]", "lines[0].sku".
  std::string Path() const {
    std::string path;
    for (size_t level = 0; level + 1 < open_.size(); ++level) {
      if (open_[level]->is_array()) {
        path += "[" + std::to_string(open_[level]->size() - 1) + "]";
      } else {
        path = Member(path, *keys_[level]);
      }
      if (path.size() > kPathBytes) break;
    }
    return path;
  }

  json *root_;
  std::vector<json *> open_;               // the containers being filled, outermost first
  std::vector<const std::string *> keys_;  // for each, the key being filled, if an object
  json *slot_ = nullptr;                   // the member of the innermost object being filled
  std::string error_;
};

}  // namespace

bool ParseJson(std::string_view text, json *value, std::string *error) {
  if (const void *nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
    *error = "has a NUL byte at offset " +
             std::to_string(static_cast<const char *>(nul) - text.data()) +
             ", which JSON does not allow";
    return false;
  }
  BoundedReader reader(value);
  if (!json::sax_parse(text, &reader)) {
    *error = reader.error();
    return false;
  }
  return true;
}

std::string DescribeJson(const json &value) {
  switch (value.type()) {
    case json::value_t::string:
      return "got string \"" + Excerpt(value.get_ref<const std::string &>()) + "\"";
    case json::value_t::array:
      return "got array of " + std::to_string(value.size()) +
             (value.size() == 1 ? " element" : " elements");
    case json::value_t::object:
      return "got object of " + std::to_string(value.size()) +
             (value.size() == 1 ? " member" : " members");
    case json::value_t::null:
      return "got null";
    default:  // a boolean or a number: a few bytes
      return std::string("got ") + value.type_name() + " " + value.dump();
  }
}

FieldLookup::FieldLookup(const std::vector<DeltaField> &columns) {
  Add(columns);
}

void FieldLookup::Add(const std::vector<DeltaField> &fields) {
  Index &index = by_list_[&fields];
  index.reserve(fields.size());
  for (const DeltaField &field : fields) {
    index.emplace(field.name, &field);
    Add(field.type);
  }
}

void FieldLookup::Add(const DeltaType &type) {
  if (type.kind == DeltaKind::kStruct) Add(type.fields);
  for (const DeltaType &child : type.children) Add(child);
}

const DeltaField *FieldLookup::Find(const std::vector<DeltaField> &fields,
                                    std::string_view name) const {
  const auto list = by_list_.find(&fields);
  if (list == by_list_.end()) return nullptr;
  const auto field = list->second.find(name);
  return field == list->second.end() ? nullptr : field->second;
}

size_t FieldLookup::IgnoreCaseHash::operator()(std::string_view name) const {
  size_t hash = 14695981039346656037ull;  // FNV-1a over the lower-case bytes
  for (const char c : name) {
    hash = (hash ^ static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)))) *
           1099511628211ull;
  }
  return hash;
}

bool FieldLookup::IgnoreCaseEqual::operator()(std::string_view a, std::string_view b) const {
  return SameColumnName(a, b);
}

std::string MatchMembers(const json &object, const std::vector<DeltaField> &fields,
                         const FieldLookup &lookup, const std::string &path,
                         const std::string &table_name, std::vector<const json *> *values) {
  values->assign(fields.size(), nullptr);
  const auto &members = object.get_ref<const json::object_t &>();
  for (const auto &[key, member] : members) {
    const DeltaField *field = lookup.Find(fields, key);
    if (field == nullptr) {
      return path.empty()
                 ? "record has key '" + Excerpt(key) + "', which is not a column of " + table_name
                 : "column '" + path + "': has key '" + Excerpt(key) +
                       "', which is not a field of the STRUCT";
    }
    const json *&value = (*values)[static_cast<size_t>(field - fields.data())];
    if (value != nullptr) {
      // Delta takes "ID" and "id" for one column; which of two values was meant is anyone's guess.
      std::string other;
      for (const auto &[earlier, ignored] : members) {
        if (earlier != key && SameColumnName(earlier, key)) {
          other = earlier;
          break;
        }
      }
      return "column '" + (path.empty() ? field->name : path + "." + field->name) +
             "': the record gives it twice, as '" + Excerpt(other) + "' and '" + Excerpt(key) + "'";
    }
    value = &member;
  }
  return "";
}

}  // namespace zerobus::table
