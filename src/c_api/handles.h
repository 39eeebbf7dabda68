// The objects behind the public handles that more than one file of the C API needs.
#ifndef ZEROBUS_C_API_HANDLES_H
#define ZEROBUS_C_API_HANDLES_H

#include <memory>
#include <string>

#include "arrow/c_data_import.h"
#include "core/config.h"
#include "core/headers.h"
#include "core/record_schema.h"
#include "core/sdk.h"
#include "core/status.h"
#include "core/stream_handle.h"

struct zb_config {
  zerobus::Config config;
};

struct zb_sdk {
  std::shared_ptr<zerobus::Sdk> impl;
};

struct zb_schema {
  std::shared_ptr<const zerobus::RecordSchema> impl;
};

struct zb_stream {
  std::unique_ptr<zerobus::StreamHandle> impl;
  // An Arrow stream's: how ArrowArrays given to it are laid out (dictionary-encoded columns).
  std::shared_ptr<const zerobus::arrow::CDataSchema> arrow_input;
};

struct zb_error {
  zerobus::Status status;
};

// Handed to the headers provider for one connection attempt: the headers it fills.
struct zb_headers {
  zerobus::Headers *headers;
};

// Handed to the token federation callback for one exchange: the subject token it gives.
struct zb_token_sink {
  std::string *token;
};

#endif  // ZEROBUS_C_API_HANDLES_H
