#include "table/ddl_parser.h"

#include <cctype>
#include <set>

namespace zerobus::table {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Token {
  enum Kind { kWord, kNumber, kString, kPunct, kEnd } kind = kEnd;
  std::string text;
  bool quoted = false;  // a word written in backticks: never a keyword
  size_t offset = 0;    // in the statement, for error messages
};

class DdlParser {
 public:
  explicit DdlParser(std::string_view ddl) : ddl_(ddl) {}

  bool Parse(TableSchema *table, std::string *error) {
    if (!Tokenize() || !ParseStatement(table)) {
      *error = error_;
      return false;
    }
    return true;
  }

  // A type on its own, all of the text.
  bool ParseLoneType(DeltaType *type, std::string *error) {
    if (!Tokenize() || !ParseType(type, 1) ||
        (Peek().kind != Token::kEnd && !Fail(Peek(), "unexpected text after the type"))) {
      *error = error_;
      return false;
    }
    return true;
  }

 private:
  bool Fail(const Token &at, const std::string &what) {
    if (error_.empty()) {
      const std::string near = at.kind == Token::kEnd
                                   ? "the end"
                                   : "'" + at.text + "' (offset " + std::to_string(at.offset) + ")";
      error_ = what + " at " + near;
    }
    return false;
  }

  bool Tokenize() {
    size_t i = 0;
    while (i < ddl_.size()) {
      const char c = ddl_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token token;
      token.offset = i;
      if (c == '`') {
        const size_t end = ddl_.find('`', i + 1);
        if (end == std::string_view::npos) {
          error_ = "unterminated `quoted` name at offset " + std::to_string(i);
          return false;
        }
        token.kind = Token::kWord;
        token.quoted = true;
        token.text = std::string(ddl_.substr(i + 1, end - i - 1));
        i = end + 1;
      } else if (c == '\'' || c == '"') {
        // A comment: quotes are doubled or backslash-escaped inside.
        token.kind = Token::kString;
        size_t j = i + 1;
        for (; j < ddl_.size(); ++j) {
          if (ddl_[j] == '\\' && j + 1 < ddl_.size()) {
            token.text.push_back(ddl_[++j]);
          } else if (ddl_[j] == c && j + 1 < ddl_.size() && ddl_[j + 1] == c) {
            token.text.push_back(c);
            ++j;
          } else if (ddl_[j] == c) {
            break;
          } else {
            token.text.push_back(ddl_[j]);
          }
        }
        if (j >= ddl_.size()) {
          error_ = "unterminated string at offset " + std::to_string(i);
          return false;
        }
        i = j + 1;
      } else if (IsNameChar(c)) {
        size_t j = i;
        while (j < ddl_.size() && IsNameChar(ddl_[j])) ++j;
        token.text = std::string(ddl_.substr(i, j - i));
        const bool digits = token.text.find_first_not_of("0123456789") == std::string::npos;
        token.kind = digits ? Token::kNumber : Token::kWord;
        i = j;
      } else if (std::string_view("(),<>:.;").find(c) != std::string_view::npos) {
        token.kind = Token::kPunct;
        token.text = std::string(1, c);
        ++i;
      } else {
        error_ = std::string("unexpected character '") + c + "' at offset " + std::to_string(i);
        return false;
      }
      tokens_.push_back(std::move(token));
    }
    Token end;
    end.offset = ddl_.size();
    tokens_.push_back(end);
    return true;
  }

  const Token &Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token &Next() {
    const Token &token = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return token;
  }
  bool IsKeyword(const Token &token, const char *keyword) const {
    return token.kind == Token::kWord && !token.quoted && Lower(token.text) == keyword;
  }
  bool TakeKeyword(const char *keyword) {
    if (!IsKeyword(Peek(), keyword)) return false;
    Next();
    return true;
  }
  bool IsPunct(const Token &token, char c) const {
    return token.kind == Token::kPunct && token.text[0] == c;
  }
  bool TakePunct(char c) {
    if (!IsPunct(Peek(), c)) return false;
    Next();
    return true;
  }
  bool ExpectPunct(char c) {
    if (TakePunct(c)) return true;
    return Fail(Peek(), std::string("expected '") + c + "'");
  }

  bool ParseStatement(TableSchema *table) {
    if (TakeKeyword("create")) {
      if (!TakeKeyword("table")) return Fail(Peek(), "expected TABLE after CREATE");
      if (TakeKeyword("if")) {
        if (!TakeKeyword("not") || !TakeKeyword("exists")) {
          return Fail(Peek(), "expected IF NOT EXISTS");
        }
      }
    }
    if (!ParseTableName(&table->full_name) || !ExpectPunct('(')) return false;
    std::set<std::string> seen;
    do {
      DeltaField column;
      const Token &at = Peek();
      if (!ParseField(&column, /*in_struct=*/false, /*depth=*/1)) return false;
      if (!seen.insert(Lower(column.name)).second) {
        return Fail(at, "column '" + column.name + "' is defined twice");
      }
      table->columns.push_back(std::move(column));
    } while (TakePunct(','));
    if (!ExpectPunct(')')) return false;
    if (table->columns.size() > kMaxColumns) {
      return Fail(Peek(), "table " + table->full_name + " has " +
                              std::to_string(table->columns.size()) + " columns; at most " +
                              std::to_string(kMaxColumns) + " are allowed");
    }
    if (TakeKeyword("using") && !TakeKeyword("delta")) {
      return Fail(Peek(), "only USING DELTA tables are supported");
    }
    TakePunct(';');
    if (Peek().kind != Token::kEnd) return Fail(Peek(), "unexpected text after the column list");
    return true;
  }

  bool ParseTableName(std::string *name) {
    for (int part = 0; part < 3; ++part) {
      const char *expected = "expected a three-part table name catalog.schema.table";
      if (part > 0 && !TakePunct('.')) return Fail(Peek(), expected);
      const Token &token = Next();
      if (token.kind != Token::kWord && token.kind != Token::kNumber) {
        return Fail(token, expected);
      }
      if (!IsValidName(token.text, /*column=*/false)) {
        return Fail(
            token, "name '" + token.text + "' may only hold ASCII letters, digits and underscores");
      }
      if (part > 0) *name += ".";
      *name += token.text;
    }
    if (IsPunct(Peek(), '.')) return Fail(Peek(), "a table name has exactly three parts");
    return true;
  }

  static bool IsValidName(const std::string &name, bool column) {
    return column ? IsValidColumnName(name) : IsValidTableNamePart(name);
  }

  // name TYPE [NOT NULL] [COMMENT '...']; inside a STRUCT a ':' may follow the name.
  bool ParseField(DeltaField *field, bool in_struct, int depth) {
    const Token &name = Next();
    if (name.kind != Token::kWord) {
      return Fail(name, in_struct ? "expected a field name" : "expected a column name");
    }
    if (!IsValidName(name.text, /*column=*/true)) {
      return Fail(name, "name '" + name.text +
                            "' may only hold ASCII letters, digits and underscores, and may "
                            "not start with a digit");
    }
    field->name = name.text;
    if (in_struct) TakePunct(':');
    if (!ParseType(&field->type, depth)) return false;
    for (;;) {
      if (TakeKeyword("not")) {
        if (!TakeKeyword("null")) return Fail(Peek(), "expected NULL after NOT");
        field->nullable = false;
      } else if (TakeKeyword("comment")) {
        const Token &comment = Next();
        if (comment.kind != Token::kString) return Fail(comment, "expected a quoted comment");
        field->comment = comment.text;
      } else {
        return true;
      }
    }
  }

  bool ParseInt(int *value, int min, int max, const char *what) {
    const Token &token = Next();
    if (token.kind != Token::kNumber || token.text.size() > 9 || std::stoi(token.text) < min ||
        std::stoi(token.text) > max) {
      return Fail(token, std::string("expected ") + what + " between " + std::to_string(min) +
                             " and " + std::to_string(max));
    }
    *value = std::stoi(token.text);
    return true;
  }

  bool ParseType(DeltaType *type, int depth) {
    const Token &token = Next();
    if (depth > kMaxNestingDepth) {
      return Fail(token, "types nest deeper than " + std::to_string(kMaxNestingDepth) + " levels");
    }
    if (token.kind != Token::kWord || token.quoted) return Fail(token, "expected a type");
    const std::string word = Lower(token.text);
    struct Simple {
      const char *name;
      DeltaKind kind;
    };
    static constexpr Simple kSimple[] = {
        {"string", DeltaKind::kString},
        {"boolean", DeltaKind::kBoolean},
        {"tinyint", DeltaKind::kTinyint},
        {"byte", DeltaKind::kTinyint},
        {"smallint", DeltaKind::kSmallint},
        {"short", DeltaKind::kSmallint},
        {"int", DeltaKind::kInt},
        {"integer", DeltaKind::kInt},
        {"bigint", DeltaKind::kBigint},
        {"long", DeltaKind::kBigint},
        {"float", DeltaKind::kFloat},
        {"real", DeltaKind::kFloat},
        {"double", DeltaKind::kDouble},
        {"date", DeltaKind::kDate},
        {"timestamp", DeltaKind::kTimestamp},
        {"timestamp_ltz", DeltaKind::kTimestamp},
        {"timestamp_ntz", DeltaKind::kTimestampNtz},
        {"binary", DeltaKind::kBinary},
        {"variant", DeltaKind::kVariant},
    };
    for (const Simple &simple : kSimple) {
      if (word == simple.name) {
        type->kind = simple.kind;
        return true;
      }
    }
    if (word == "varchar" || word == "char") {
      type->kind = word == "char" ? DeltaKind::kChar : DeltaKind::kVarchar;
      return ExpectPunct('(') && ParseInt(&type->length, 1, 1 << 30, "a length") &&
             ExpectPunct(')');
    }
    if (word == "decimal" || word == "dec" || word == "numeric") {
      type->kind = DeltaKind::kDecimal;
      type->precision = 10;  // Delta's default: DECIMAL means DECIMAL(10,0)
      if (!TakePunct('(')) return true;
      if (!ParseInt(&type->precision, 1, kMaxDecimalPrecision, "a precision")) return false;
      if (TakePunct(',') && !ParseInt(&type->scale, 0, type->precision, "a scale")) return false;
      return ExpectPunct(')');
    }
    if (word == "array") {
      type->kind = DeltaKind::kArray;
      type->children.resize(1);
      const Token &at = Peek(1);
      if (!ExpectPunct('<') || !ParseType(&type->children[0], depth + 1) || !ExpectPunct('>')) {
        return false;
      }
      return CheckNesting(*type, at);
    }
    if (word == "map") {
      type->kind = DeltaKind::kMap;
      type->children.resize(2);
      const Token &at = Peek(1);
      if (!ExpectPunct('<') || !ParseType(&type->children[0], depth + 1) || !ExpectPunct(',') ||
          !ParseType(&type->children[1], depth + 1) || !ExpectPunct('>')) {
        return false;
      }
      return CheckNesting(*type, at);
    }
    if (word == "struct") {
      type->kind = DeltaKind::kStruct;
      if (!ExpectPunct('<')) return false;
      if (IsPunct(Peek(), '>')) return Fail(Peek(), "a STRUCT needs at least one field");
      std::set<std::string> seen;
      do {
        DeltaField field;
        const Token &at = Peek();
        if (!ParseField(&field, /*in_struct=*/true, depth + 1)) return false;
        if (!seen.insert(Lower(field.name)).second) {
          return Fail(at, "field '" + field.name + "' is defined twice");
        }
        type->fields.push_back(std::move(field));
      } while (TakePunct(','));
      return ExpectPunct('>');
    }
    return Fail(token, "unknown or unsupported type");
  }

  bool CheckNesting(const DeltaType &type, const Token &at) {
    const char *unsupported = UnsupportedNesting(type);
    return unsupported == nullptr || Fail(at, unsupported);
  }

  std::string_view ddl_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::string error_;
};

// Where the statements of a schema file start and end, so that each parses on its own.
struct Statement {
  std::string text;
  int line = 1;  // of its first character
};

std::vector<Statement> SplitStatements(std::string_view text) {
  std::vector<Statement> statements;
  Statement current;
  int line = 1;
  int depth = 0;
  bool closed_list = false;  // the column list has ended: a newline may end the statement
  char quote = 0;
  auto finish = [&] {
    if (current.text.find_first_not_of(" \t\r\n") != std::string::npos) {
      statements.push_back(current);
    }
    current = Statement{};
    current.line = line;
    depth = 0;
    closed_list = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < text.size()) {
        current.text.push_back(c);
        current.text.push_back(text[++i]);
        continue;
      }
      if (c == quote) quote = 0;
      if (c == '\n') ++line;
      current.text.push_back(c);
      continue;
    }
    if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '\n') {
      ++line;
      if (depth == 0 && closed_list) {
        finish();
        continue;
      }
    }
    if (c == ';' && depth == 0) {
      finish();
      continue;
    }
    if (current.text.find_first_not_of(" \t\r\n") == std::string::npos &&
        std::isspace(static_cast<unsigned char>(c))) {
      current.line = c == '\n' ? line : current.line;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') quote = c;
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) closed_list = true;
    current.text.push_back(c);
  }
  finish();
  return statements;
}

}  // namespace

bool ParseTableDdl(std::string_view ddl, TableSchema *table, std::string *error) {
  *table = TableSchema{};
  return DdlParser(ddl).Parse(table, error);
}

bool ParseTypeText(std::string_view text, DeltaType *type, std::string *error) {
  *type = DeltaType{};
  return DdlParser(text).ParseLoneType(type, error);
}

bool ParseSchemaText(std::string_view text, std::vector<TableSchema> *tables, std::string *error) {
  std::set<std::string> names;
  for (const Statement &statement : SplitStatements(text)) {
    TableSchema table;
    std::string why;
    if (!ParseTableDdl(statement.text, &table, &why)) {
      *error = "line " + std::to_string(statement.line) + ": " + why;
      return false;
    }
    if (!names.insert(Lower(table.full_name)).second) {
      *error = "line " + std::to_string(statement.line) + ": table " + table.full_name +
               " is defined twice";
      return false;
    }
    tables->push_back(std::move(table));
  }
  return true;
}

}  // namespace zerobus::table
