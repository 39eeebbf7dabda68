#include "cli/csv_rows.h"

#include <google/protobuf/descriptor.pb.h>

#include <cctype>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::cli {
namespace {

using google::protobuf::FieldDescriptorProto;

std::string Lower(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool IsJsonNumber(const std::string &text) {
  return !text.empty() && nlohmann::json::accept(text) &&
         (text[0] == '-' || std::isdigit(static_cast<unsigned char>(text[0])));
}

}  // namespace

std::string CsvRowConverter::Init(const void *descriptor, size_t len,
                                  const std::vector<CsvField> &header) {
  google::protobuf::DescriptorProto message;
  if (!message.ParseFromArray(descriptor, static_cast<int>(len))) {
    return "the table's descriptor does not parse";
  }
  std::map<std::string, Kind> kinds;
  for (const FieldDescriptorProto &field : message.field()) {
    Kind kind = Kind::kText;
    if (field.label() == FieldDescriptorProto::LABEL_REPEATED ||
        field.type() == FieldDescriptorProto::TYPE_MESSAGE) {
      kind = Kind::kJson;
    } else if (field.type() == FieldDescriptorProto::TYPE_FLOAT ||
               field.type() == FieldDescriptorProto::TYPE_DOUBLE) {
      kind = Kind::kReal;
    } else if (field.type() == FieldDescriptorProto::TYPE_BOOL) {
      kind = Kind::kBoolean;
    }
    kinds[Lower(field.name())] = kind;
  }
  columns_.clear();
  std::map<std::string, bool> seen;
  for (const CsvField &name : header) {
    const auto kind = kinds.find(Lower(name.text));
    if (kind == kinds.end())
      return "the header names a column the table does not have: '" + table::Excerpt(name.text) +
             "'";
    if (seen[kind->first]) return "the header names column '" + name.text + "' twice";
    seen[kind->first] = true;
    columns_.push_back(Column{name.text, kind->second});
  }
  return "";
}

std::string CsvRowConverter::ToJson(const std::vector<CsvField> &row, std::string *json) const {
  if (row.size() != columns_.size()) {
    return "the row has " + std::to_string(row.size()) + " fields, the header " +
           std::to_string(columns_.size());
  }
  nlohmann::json object = nlohmann::json::object();
  for (size_t i = 0; i < row.size(); ++i) {
    const CsvField &field = row[i];
    const Column &column = columns_[i];
    if (field.text.empty() && !field.quoted) continue;
    switch (column.kind) {
      case Kind::kText:
        object[column.name] = field.text;
        break;
      case Kind::kReal:
        object[column.name] = IsJsonNumber(field.text) ? nlohmann::json::parse(field.text)
                                                       : nlohmann::json(field.text);
        break;
      case Kind::kBoolean: {
        const std::string lower = Lower(field.text);
        if (lower == "true" || lower == "false") {
          object[column.name] = lower == "true";
        } else {
          object[column.name] = field.text;  // the encoder refuses it, naming the column
        }
        break;
      }
      case Kind::kJson: {
        nlohmann::json value;
        std::string why;
        if (!table::ParseJson(field.text, &value, &why)) {
          return "column '" + column.name + "': the field " + why;
        }
        object[column.name] = std::move(value);
        break;
      }
    }
  }
  try {
    *json = object.dump();
  } catch (const nlohmann::json::type_error &) {
    return "the row is not valid UTF-8";
  }
  return "";
}

}  // namespace zerobus::cli
