// The Arrow codec's own tests: C Data import (no copy, release once, refusals naming the column
// and the type), IPC round trips through our encoder and decoder, the decoder's refusals of
// malformed bytes, and the Delta → Arrow mapping. pyarrow checks the same code against Arrow's
// own implementation in arrow_oracle_test.py.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "arrow/arrow_ipc_generated.h"
#include "arrow/c_data_import.h"
#include "arrow/delta_mapping.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "table/ddl_parser.h"
#include "zerobus/arrow_c_data.h"

namespace zerobus::arrow {
namespace {

// A column of C Data built by hand: format, name, buffers and children, released by counting.
struct CColumn {
  std::string format;
  std::string name;
  int64_t length = 0;
  int64_t null_count = 0;
  int64_t offset = 0;
  std::vector<const void *> buffers;
  std::vector<CColumn> children;
};

struct CBatch {
  // Everything the C structs point into lives here until release.
  std::vector<std::unique_ptr<ArrowSchema>> schemas;
  std::vector<std::unique_ptr<ArrowArray>> arrays;
  std::vector<std::unique_ptr<std::vector<ArrowSchema *>>> schema_children;
  std::vector<std::unique_ptr<std::vector<ArrowArray *>>> array_children;
  std::vector<std::unique_ptr<CColumn>> columns;
  int releases = 0;
};

void ReleaseSchema(ArrowSchema *schema) {
  schema->release = nullptr;
}

void ReleaseArray(ArrowArray *array) {
  ++static_cast<CBatch *>(array->private_data)->releases;
  array->release = nullptr;
}

std::pair<ArrowSchema *, ArrowArray *> Build(CBatch *batch, const CColumn &column) {
  batch->columns.push_back(std::make_unique<CColumn>(column));
  const CColumn &kept = *batch->columns.back();
  auto schema = std::make_unique<ArrowSchema>();
  auto array = std::make_unique<ArrowArray>();
  auto schema_children = std::make_unique<std::vector<ArrowSchema *>>();
  auto array_children = std::make_unique<std::vector<ArrowArray *>>();
  for (const CColumn &child : kept.children) {
    auto [child_schema, child_array] = Build(batch, child);
    schema_children->push_back(child_schema);
    array_children->push_back(child_array);
  }
  *schema = ArrowSchema{kept.format.c_str(),
                        kept.name.c_str(),
                        nullptr,
                        ARROW_FLAG_NULLABLE,
                        static_cast<int64_t>(kept.children.size()),
                        schema_children->data(),
                        nullptr,
                        ReleaseSchema,
                        nullptr};
  *array = ArrowArray{kept.length,
                      kept.null_count,
                      kept.offset,
                      static_cast<int64_t>(kept.buffers.size()),
                      static_cast<int64_t>(kept.children.size()),
                      const_cast<const void **>(kept.buffers.data()),
                      array_children->data(),
                      nullptr,
                      ReleaseArray,
                      batch};
  batch->schemas.push_back(std::move(schema));
  batch->arrays.push_back(std::move(array));
  batch->schema_children.push_back(std::move(schema_children));
  batch->array_children.push_back(std::move(array_children));
  return {batch->schemas.back().get(), batch->arrays.back().get()};
}

const int64_t kValues[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
const uint8_t kValidity[] = {0xFB, 0x03};  // slot 2 null
const int32_t kOffsets[] = {0, 1, 3, 3, 6, 6, 7, 7, 8, 9, 10};
const char kText[] = "abbcccdefg";

CColumn Batch(std::vector<CColumn> columns, int64_t length, int64_t offset = 0) {
  return CColumn{"+s", "", length, 0, offset, {nullptr}, std::move(columns)};
}
CColumn Int64Column() {
  return CColumn{"l", "n", 10, 1, 0, {kValidity, kValues}, {}};
}
CColumn TextColumn() {
  return CColumn{"u", "s", 10, -1, 0, {kValidity, kOffsets, kText}, {}};
}

Status ImportBatch(CBatch *storage, const CColumn &top, CDataSchema *schema, RecordBatch *out) {
  auto [c_schema, c_array] = Build(storage, top);
  Status status = CDataSchema::Import(*c_schema, schema);
  if (!status.ok()) return status;
  return ImportRecordBatch(c_array, *schema, out);
}

std::string Stream(const Schema &schema, const RecordBatch &batch, Codec codec) {
  std::vector<Buffer> slices;
  AppendEncapsulated(EncodeSchema(schema), &slices);
  EncodedMessage message;
  EXPECT_TRUE(EncodeRecordBatch(schema, batch, WriteOptions{codec}, &message).ok());
  AppendEncapsulated(message, &slices);
  slices.push_back(EndOfStream());
  return Concatenate(slices);
}

Status Read(const std::string &bytes, Schema *schema, std::vector<RecordBatch> *batches) {
  auto owner = std::make_shared<std::string>(bytes);
  return ReadIpcStream(
      Buffer{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner}, ReadLimits{},
      schema, batches);
}

int64_t Int64At(const ArrayData &array, int64_t row) {
  int64_t value;
  std::memcpy(&value, array.buffers[1].data + (array.offset + row) * 8, 8);
  return value;
}

TEST(CDataImport, BuffersAreReferencedNotCopiedAndReleasedOnceWhenTheLastViewGoes) {
  CBatch storage;
  CDataSchema schema;
  RecordBatch batch;
  ASSERT_TRUE(
      ImportBatch(&storage, Batch({Int64Column(), TextColumn()}, 10), &schema, &batch).ok());
  ASSERT_EQ(storage.arrays.back()->release, nullptr);  // moved out of the caller's struct
  EncodedMessage message;
  ASSERT_TRUE(EncodeRecordBatch(schema.schema(), batch, WriteOptions{}, &message).ok());
  bool values_referenced = false, text_referenced = false;
  for (const Buffer &slice : message.body) {
    values_referenced |= slice.data == reinterpret_cast<const uint8_t *>(kValues);
    text_referenced |= slice.data == reinterpret_cast<const uint8_t *>(kText);
  }
  EXPECT_TRUE(values_referenced);
  EXPECT_TRUE(text_referenced);
  EXPECT_EQ(message.body_length % 8, 0);
  batch = RecordBatch{};
  EXPECT_EQ(storage.releases, 0) << "released while the encoded message still points into it";
  message = EncodedMessage{};
  EXPECT_EQ(storage.releases, 1);
}

TEST(CDataImport, ASliceRoundTripsThroughOurEncoderAndDecoder) {
  CBatch storage;
  CDataSchema schema;
  RecordBatch batch;
  ASSERT_TRUE(
      ImportBatch(&storage, Batch({Int64Column(), TextColumn()}, 6, 3), &schema, &batch).ok());
  for (Codec codec : {Codec::kNone, Codec::kLz4Frame, Codec::kZstd}) {
    Schema decoded_schema;
    std::vector<RecordBatch> decoded;
    Status status = Read(Stream(schema.schema(), batch, codec), &decoded_schema, &decoded);
    ASSERT_TRUE(status.ok()) << status.message();
    ASSERT_EQ(decoded.size(), 1u);
    EXPECT_TRUE(decoded_schema.fields == schema.schema().fields);
    const ArrayData &numbers = decoded[0].columns[0];
    ASSERT_EQ(numbers.length, 6);
    for (int64_t row = 0; row < 6; ++row) EXPECT_EQ(Int64At(numbers, row), kValues[row + 3]);
    EXPECT_EQ(numbers.null_count, 0);  // the null at slot 2 is before the slice
    const ArrayData &text = decoded[0].columns[1];
    int32_t offsets[7];
    std::memcpy(offsets, text.buffers[1].data, sizeof offsets);
    EXPECT_EQ(offsets[0], 0);
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(text.buffers[2].data), offsets[6]),
              "cccdef");
  }
}

TEST(Slice, ASliceOfASliceEncodesOnlyItsRowsAndSharesTheBuffers) {
  CBatch storage;
  CDataSchema schema;
  RecordBatch batch;
  ASSERT_TRUE(
      ImportBatch(&storage, Batch({Int64Column(), TextColumn()}, 8, 1), &schema, &batch).ok());
  RecordBatch slice = Slice(batch, 1, 5);  // rows 2..6 of the caller's arrays
  EXPECT_EQ(slice.columns[0].buffers[1].data, batch.columns[0].buffers[1].data);
  Schema decoded_schema;
  std::vector<RecordBatch> decoded;
  ASSERT_TRUE(Read(Stream(schema.schema(), slice, Codec::kNone), &decoded_schema, &decoded).ok());
  ASSERT_EQ(decoded.at(0).length, 5);
  EXPECT_EQ(decoded[0].columns[0].null_count, 1);  // slot 2 is null
  for (int64_t row = 1; row < 5; ++row)
    EXPECT_EQ(Int64At(decoded[0].columns[0], row), kValues[row + 2]);
  RecordBatch empty = Slice(slice, 5, 0);
  ASSERT_TRUE(Read(Stream(schema.schema(), empty, Codec::kZstd), &decoded_schema, &decoded).ok());
  EXPECT_EQ(decoded.at(0).length, 0);
}

TEST(CDataImport, UnsupportedTypesAreRefusedNamingTheColumnAndTheType) {
  const struct {
    const char *format;
    const char *type;
  } cases[] = {{"C", "uint8"},       {"tsn:", "timestamp[ns]"}, {"e", "float16"},
               {"+L", "large_list"}, {"vu", "string_view"},     {"d:40,2,256", "decimal256"}};
  for (const auto &c : cases) {
    CBatch storage;
    CColumn odd{c.format, "odd", 0, 0, 0, {nullptr, nullptr}, {}};
    auto [c_schema, c_array] =
        Build(&storage, Batch({CColumn{"+s", "outer", 0, 0, 0, {nullptr}, {odd}}}, 0));
    CDataSchema schema;
    Status status = CDataSchema::Import(*c_schema, &schema);
    ASSERT_FALSE(status.ok()) << c.format;
    EXPECT_NE(status.message().find("'outer.odd'"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(c.type), std::string::npos) << status.message();
    c_array->release(c_array);
  }
}

TEST(CDataImport, ABatchThatContradictsItsSchemaIsRefusedAndStillReleased) {
  CBatch storage;
  CColumn short_column = Int64Column();
  short_column.length = 4;  // the batch says 10 rows
  CDataSchema schema;
  RecordBatch batch;
  Status status = ImportBatch(&storage, Batch({short_column}, 10), &schema, &batch);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("column 'n'"), std::string::npos) << status.message();
  EXPECT_EQ(storage.releases, 1);
}

// A stream of one batch (Int64Column) whose second get_next fails, counting its releases.
struct FailingStream {
  CBatch batch;
  std::pair<ArrowSchema *, ArrowArray *> structs = Build(&batch, Batch({Int64Column()}, 10));
  int next_calls = 0;
  int releases = 0;
};

TEST(CDataImport, AStreamsOwnFailureStopsItQuotingItsErrorAndItIsReleasedOnce) {
  FailingStream state;
  ArrowArrayStream stream{};
  stream.private_data = &state;
  stream.get_schema = [](ArrowArrayStream *self, ArrowSchema *out) {
    *out = *static_cast<FailingStream *>(self->private_data)->structs.first;
    return 0;
  };
  stream.get_next = [](ArrowArrayStream *self, ArrowArray *out) {
    auto *state = static_cast<FailingStream *>(self->private_data);
    if (state->next_calls++ > 0) return 5;  // EIO
    *out = *state->structs.second;
    return 0;
  };
  stream.get_last_error = [](ArrowArrayStream *) -> const char * { return "disk on fire"; };
  stream.release = [](ArrowArrayStream *self) {
    ++static_cast<FailingStream *>(self->private_data)->releases;
    self->release = nullptr;
  };
  int batches = 0;
  Status status = ImportStream(&stream, [&](const CDataSchema &, RecordBatch batch) {
    ++batches;
    EXPECT_EQ(batch.length, 10);
    return Status::Ok();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "the ArrowArrayStream's get_next failed (error 5): disk on fire");
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(stream.release, nullptr);
  EXPECT_EQ(state.releases, 1);
  EXPECT_EQ(state.batch.releases, 1);  // the batch it did import
}

// A record batch message whose RecordBatch the test writes itself, as a hostile peer would.
std::string HandMadeBatch(int64_t length, std::vector<fb::FieldNode> nodes,
                          std::vector<fb::Buffer> buffers, int64_t body_length) {
  flatbuffers::FlatBufferBuilder fbb;
  auto batch = fb::CreateRecordBatch(fbb, length, fbb.CreateVectorOfStructs(nodes),
                                     fbb.CreateVectorOfStructs(buffers));
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_RecordBatch,
                               batch.Union(), body_length));
  return std::string(reinterpret_cast<const char *>(fbb.GetBufferPointer()), fbb.GetSize());
}

Schema OneColumn(TypeId id) {
  Schema schema;
  schema.fields.push_back(Field{"c", DataType{id, "", 0, 0, false, {}}, true});
  return schema;
}

// `body` cut at `cut` into two pieces (as a gRPC message's slices), each of its own memory.
std::vector<Buffer> TwoPieces(const std::string &body, size_t cut) {
  std::vector<Buffer> pieces;
  for (const std::string &part : {body.substr(0, cut), body.substr(cut)}) {
    auto owner = std::make_shared<std::string>(part);
    pieces.push_back(
        Buffer{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner});
  }
  return pieces;
}

// Decodes a hand-made batch whole, then in two pieces cut at every byte and only checked the
// same way: each way must say the same.
Status DecodeHandMade(const Schema &schema, const std::string &metadata, std::string body) {
  auto owner = std::make_shared<std::string>(body);
  const auto *header = reinterpret_cast<const uint8_t *>(metadata.data());
  RecordBatch batch;
  const Status whole = DecodeRecordBatch(
      schema, header, metadata.size(),
      Buffer{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner}, ReadLimits{},
      &batch);
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    const std::vector<Buffer> pieces = TwoPieces(body, cut);
    const Status in_pieces =
        DecodeRecordBatch(schema, header, metadata.size(), pieces, ReadLimits{}, &batch);
    EXPECT_EQ(in_pieces.message(), whole.message()) << "cut at " << cut;
    int64_t rows = -1;
    const Status checked =
        CheckRecordBatch(schema, header, metadata.size(), pieces, ReadLimits{}, &rows);
    EXPECT_EQ(checked.message(), whole.message()) << "cut at " << cut;
    EXPECT_EQ(checked.ok(), whole.ok());
  }
  return whole;
}

// Every buffer of `a` holds the bytes of the same buffer of `b`, column by column.
void ExpectSameBuffers(const ArrayData &a, const ArrayData &b) {
  ASSERT_EQ(a.length, b.length);
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    ASSERT_EQ(a.buffers[i].size, b.buffers[i].size) << "buffer " << i;
    ASSERT_EQ(a.buffers[i].data == nullptr, b.buffers[i].data == nullptr) << "buffer " << i;
    if (a.buffers[i].size > 0) {
      EXPECT_EQ(std::memcmp(a.buffers[i].data, b.buffers[i].data, a.buffers[i].size), 0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(a.buffers[i].data) % 8, 0u) << "buffer " << i;
    }
  }
  ASSERT_EQ(a.children.size(), b.children.size());
  for (size_t i = 0; i < a.children.size(); ++i) ExpectSameBuffers(a.children[i], b.children[i]);
}

TEST(IpcDecoder, ABodyInPiecesDecodesAsTheWholeBodyDoes) {
  CBatch storage;
  CDataSchema schema;
  RecordBatch batch;
  ASSERT_TRUE(
      ImportBatch(&storage, Batch({Int64Column(), TextColumn()}, 10), &schema, &batch).ok());
  for (Codec codec : {Codec::kNone, Codec::kLz4Frame, Codec::kZstd}) {
    EncodedMessage message;
    ASSERT_TRUE(EncodeRecordBatch(schema.schema(), batch, WriteOptions{codec}, &message).ok());
    const std::string body = Concatenate(message.body);
    RecordBatch whole;
    ASSERT_TRUE(DecodeRecordBatch(
                    schema.schema(), message.metadata.data, message.metadata.size,
                    Buffer{reinterpret_cast<const uint8_t *>(body.data()), body.size(), nullptr},
                    ReadLimits{}, &whole)
                    .ok());
    for (size_t cut = 0; cut <= body.size(); ++cut) {
      // Pieces at addresses of their own: a buffer that straddles two, or that one holds at an
      // address not 8-byte aligned, is copied.
      const std::vector<Buffer> pieces = TwoPieces(body, cut);
      RecordBatch decoded;
      Status status = DecodeRecordBatch(schema.schema(), message.metadata.data,
                                        message.metadata.size, pieces, ReadLimits{}, &decoded);
      ASSERT_TRUE(status.ok()) << status.message();
      ASSERT_EQ(decoded.length, 10);
      for (size_t column = 0; column < whole.columns.size(); ++column) {
        ExpectSameBuffers(decoded.columns[column], whole.columns[column]);
      }
      int64_t rows = -1;
      status = CheckRecordBatch(schema.schema(), message.metadata.data, message.metadata.size,
                                pieces, ReadLimits{}, &rows);
      ASSERT_TRUE(status.ok()) << status.message();
      EXPECT_EQ(rows, 10);
    }
  }
}

TEST(IpcDecoder, RefusesABufferOutsideTheBody) {
  Status status =
      DecodeHandMade(OneColumn(TypeId::kInt64), HandMadeBatch(2, {{2, 0}}, {{0, 0}, {8, 16}}, 16),
                     std::string(16, '\0'));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("lies outside the body"), std::string::npos) << status.message();
}

TEST(IpcDecoder, RefusesValuesShorterThanTheLength) {
  Status status =
      DecodeHandMade(OneColumn(TypeId::kInt64), HandMadeBatch(3, {{3, 0}}, {{0, 0}, {0, 16}}, 16),
                     std::string(16, '\0'));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("16 bytes where 24 are needed"), std::string::npos)
      << status.message();
}

TEST(IpcDecoder, RefusesOffsetsThatGoBackwardsOrPastTheData) {
  int32_t backwards[] = {0, 5, 2, 0};
  std::string body(reinterpret_cast<const char *>(backwards), 16);
  body += std::string(8, 'x');
  Status status = DecodeHandMade(OneColumn(TypeId::kUtf8),
                                 HandMadeBatch(3, {{3, 0}}, {{0, 0}, {0, 16}, {16, 8}}, 24), body);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("below the one before it"), std::string::npos)
      << status.message();
  int32_t past[] = {0, 5, 9, 0};
  body = std::string(reinterpret_cast<const char *>(past), 12) + std::string(4, '\0') +
         std::string(8, 'x');
  status = DecodeHandMade(OneColumn(TypeId::kUtf8),
                          HandMadeBatch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 8}}, 24), body);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("where 9 are needed"), std::string::npos) << status.message();
}

TEST(IpcDecoder, RefusesMoreNullsThanValuesAndLeftoverBuffers) {
  Status status =
      DecodeHandMade(OneColumn(TypeId::kInt64), HandMadeBatch(1, {{1, 2}}, {{0, 8}, {8, 8}}, 16),
                     std::string(16, '\0'));
  ASSERT_FALSE(status.ok());
  status = DecodeHandMade(OneColumn(TypeId::kInt64),
                          HandMadeBatch(1, {{1, 0}}, {{0, 0}, {0, 8}, {8, 8}}, 16),
                          std::string(16, '\0'));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("3 buffers where its schema needs 1 and 2"), std::string::npos)
      << status.message();
}

TEST(IpcDecoder, RefusesNestingDeeperThanTheLimit) {
  Field field{"deep", DataType{TypeId::kInt32, "", 0, 0, false, {}}, true};
  for (int i = 0; i < kMaxNestingDepth; ++i) {
    Field outer{"deep", DataType{TypeId::kList, "", 0, 0, false, {}}, true};
    outer.type.children.push_back(std::move(field));
    field = std::move(outer);
  }
  Schema schema;
  schema.fields.push_back(std::move(field));
  EncodedMessage message = EncodeSchema(schema);
  Schema decoded;
  Status status =
      DecodeSchema(message.metadata.data, message.metadata.size, ReadLimits{}, &decoded);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nested deeper than 100"), std::string::npos) << status.message();
}

TEST(IpcDecoder, EveryTruncationOfAStreamIsRefusedWithoutReadingPastIt) {
  CBatch storage;
  CDataSchema schema;
  RecordBatch batch;
  ASSERT_TRUE(
      ImportBatch(&storage, Batch({Int64Column(), TextColumn()}, 10), &schema, &batch).ok());
  for (Codec codec : {Codec::kNone, Codec::kZstd}) {
    std::string whole = Stream(schema.schema(), batch, codec);
    whole.resize(whole.size() - 8);  // without the end-of-stream marker, which may be left off
    for (size_t size = 0; size < whole.size(); ++size) {
      Schema decoded_schema;
      std::vector<RecordBatch> decoded;
      Status status = Read(whole.substr(0, size), &decoded_schema, &decoded);
      // Cut between the schema and the batch, the stream is a valid stream of no batches.
      EXPECT_TRUE(!status.ok() || decoded.empty()) << size;
    }
  }
}

TEST(IpcDecoder, RefusesACompressedBufferThatStatesMoreThanTheLimit) {
  int64_t huge = int64_t{1} << 40;
  std::string body(reinterpret_cast<const char *>(&huge), 8);
  body += std::string(8, '\0');
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<fb::FieldNode> nodes = {{1, 0}};
  std::vector<fb::Buffer> buffers = {{0, 0}, {0, 16}};
  auto header = fb::CreateRecordBatch(fbb, 1, fbb.CreateVectorOfStructs(nodes),
                                      fbb.CreateVectorOfStructs(buffers),
                                      fb::CreateBodyCompression(fbb, fb::CompressionType_ZSTD));
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_RecordBatch,
                               header.Union(), 16));
  Status status = DecodeHandMade(
      OneColumn(TypeId::kInt64),
      std::string(reinterpret_cast<const char *>(fbb.GetBufferPointer()), fbb.GetSize()), body);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("beyond the message's limit"), std::string::npos)
      << status.message();
}

TEST(IpcDecoder, RefusesGarbageMetadata) {
  std::string garbage =
      std::string("\xff\xff\xff\xff\x10\x00\x00\x00", 8) + std::string(16, '\x7f');
  Schema schema;
  std::vector<RecordBatch> batches;
  Status status = Read(garbage, &schema, &batches);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("not a valid Message flatbuffer"), std::string::npos)
      << status.message();
}

std::string ExpectedFor(const std::string &type_text) {
  table::DeltaType delta;
  std::string error;
  EXPECT_TRUE(table::ParseTypeText(type_text, &delta, &error)) << error;
  DataType arrow;
  Status status = ExpectedArrowType(delta, "c", &arrow);
  return status.ok() ? TypeToString(arrow) : "refused: " + status.message();
}

TEST(DeltaMapping, EachDeltaTypeHasItsArrowType) {
  EXPECT_EQ(ExpectedFor("string"), "string");
  EXPECT_EQ(ExpectedFor("varchar(10)"), "string");
  EXPECT_EQ(ExpectedFor("boolean"), "bool");
  EXPECT_EQ(ExpectedFor("tinyint"), "int8");
  EXPECT_EQ(ExpectedFor("smallint"), "int16");
  EXPECT_EQ(ExpectedFor("int"), "int32");
  EXPECT_EQ(ExpectedFor("bigint"), "int64");
  EXPECT_EQ(ExpectedFor("float"), "float");
  EXPECT_EQ(ExpectedFor("double"), "double");
  EXPECT_EQ(ExpectedFor("decimal(10,2)"), "decimal128(10, 2)");
  EXPECT_EQ(ExpectedFor("date"), "date32[day]");
  EXPECT_EQ(ExpectedFor("timestamp"), "timestamp[us, tz=UTC]");
  EXPECT_EQ(ExpectedFor("timestamp_ntz"), "timestamp[us]");
  EXPECT_EQ(ExpectedFor("binary"), "binary");
  EXPECT_EQ(ExpectedFor("array<string>"), "list<element: string>");
  EXPECT_EQ(ExpectedFor("map<string,bigint>"), "map<string, int64>");
  EXPECT_EQ(ExpectedFor("struct<lat:double,tags:array<int>>"),
            "struct<lat: double, tags: list<element: int32>>");
  EXPECT_EQ(ExpectedFor("struct<v:variant>"),
            "refused: column 'c.v': VARIANT has no Arrow type yet");
}

TEST(DeltaMapping, AcceptsTheLargeVariantsAndAnyZoneButNotOtherTypes) {
  table::DeltaType text, instant, local, list;
  std::string error;
  ASSERT_TRUE(table::ParseTypeText("string", &text, &error));
  ASSERT_TRUE(table::ParseTypeText("timestamp", &instant, &error));
  ASSERT_TRUE(table::ParseTypeText("timestamp_ntz", &local, &error));
  ASSERT_TRUE(table::ParseTypeText("array<bigint>", &list, &error));
  DataType large_text{TypeId::kLargeUtf8, "", 0, 0, false, {}};
  DataType paris{TypeId::kTimestampMicros, "Europe/Paris", 0, 0, false, {}};
  DataType naive{TypeId::kTimestampMicros, "", 0, 0, false, {}};
  DataType ints{
      TypeId::kList, "", 0, 0, false, {Field{"item", {TypeId::kInt64, "", 0, 0, false, {}}, true}}};
  DataType int32s{
      TypeId::kList, "", 0, 0, false, {Field{"item", {TypeId::kInt32, "", 0, 0, false, {}}, true}}};
  EXPECT_TRUE(AcceptsArrowType(text, large_text));
  EXPECT_TRUE(AcceptsArrowType(instant, paris));
  EXPECT_FALSE(AcceptsArrowType(instant, naive));
  EXPECT_TRUE(AcceptsArrowType(local, naive));
  EXPECT_FALSE(AcceptsArrowType(local, paris));
  EXPECT_TRUE(AcceptsArrowType(list, ints));
  EXPECT_FALSE(AcceptsArrowType(list, int32s));
}

}  // namespace
}  // namespace zerobus::arrow
