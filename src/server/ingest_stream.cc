#include "server/ingest_stream.h"

#include <cassert>
#include <limits>
#include <vector>

#include <grpcpp/impl/codegen/proto_utils.h>

#include "server/descriptor_check.h"
#include "server/stream_id.h"
#include "server/validation.h"

namespace zerobus::server {
namespace {

using databricks::zerobus::EphemeralStreamRequest;
using databricks::zerobus::EphemeralStreamResponse;
using databricks::zerobus::IngestRecordBatchRequest;
using databricks::zerobus::IngestRecordRequest;
using databricks::zerobus::PersistentStreamRequest;
using databricks::zerobus::PersistentStreamResponse;
using databricks::zerobus::RecordType;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

const char *TypeName(RecordType type) {
  return type == RecordType::JSON ? "JSON" : type == RecordType::AVRO ? "AVRO" : "PROTO";
}

// The kind of record member a stream of `type` takes.
IngestRequestView::Kind KindOf(RecordType type) {
  return type == RecordType::JSON   ? IngestRequestView::Kind::kJson
         : type == RecordType::AVRO ? IngestRequestView::Kind::kAvro
                                    : IngestRequestView::Kind::kProto;
}

grpc::Status Refused(grpc::StatusCode code, std::string message) {
  return grpc::Status(code, std::move(message));
}

grpc::Status KindMismatch(RecordType stream_type) {
  return Invalid(std::string("record kind does not match the stream's record type ") +
                 TypeName(stream_type));
}

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *IngestStreamCall::Start(
    const StreamEnv &env, StreamRpc rpc, std::string authorization, std::string user_agent) {
  return Begin(std::shared_ptr<IngestStreamCall>(
      new IngestStreamCall(env, rpc, std::move(authorization), std::move(user_agent))));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *IngestStreamCall::Begin(
    std::shared_ptr<IngestStreamCall> call) {
  call->self_ = call;
  const StreamEnv &env = call->env_;
  env.registry->Add(call);
  std::lock_guard<std::recursive_mutex> ordered(call->order_mu_);
  call->StartSendInitialMetadata();
  call->StartRead(&call->request_bytes_);
  return call.get();
}

void IngestStreamCall::Fence() {
  std::lock_guard<std::recursive_mutex> lock(order_mu_);
}

void IngestStreamCall::OnReadDone(bool ok) {
  Fence();
  HandleRead(ok);
  Fence();
}

void IngestStreamCall::HandleRead(bool ok) {
  if (!ok) {
    // The client half-closed (or the call died, which OnCancel handles): the call ends once
    // everything received has been acknowledged.
    {
      sync::MutexLock lock(mu_);
      HalfClosedLocked();
    }
    Pump();
    return;
  }
  grpc::Status status = created_ ? HandleIngest() : HandleFirst();
  if (!status.ok()) {
    {
      sync::MutexLock lock(mu_);
      EndLocked(std::move(status));
    }
    Pump();
    return;
  }
  ContinueReading();
}

void IngestStreamCall::ContinueReading() {
  if (read_delay_ > Clock::duration::zero()) {
    // Over its rate: the next read waits on the timer thread, never on a gRPC thread.
    const Clock::time_point due = Clock::now() + read_delay_;
    read_delay_ = Clock::duration::zero();
    Pump();
    std::weak_ptr<IngestStreamCall> weak = self_;
    env_.timer->At(due, [weak] {
      if (auto call = weak.lock()) call->ContinueReading();
    });
    return;
  }
  bool read = false;
  {
    sync::MutexLock lock(mu_);
    if (phase_ == Phase::kFinished) return;
    if (env_.faults->Acks(table_).stall) {
      read_paused_ = true;
    } else {
      read = true;
    }
  }
  Pump();
  if (read) {
    std::lock_guard<std::recursive_mutex> ordered(order_mu_);
    StartRead(&request_bytes_);
  }
}

void IngestStreamCall::Kick() {
  bool resume = false;
  {
    sync::MutexLock lock(mu_);
    if (read_paused_ && phase_ != Phase::kFinished && !env_.faults->Acks(table_).stall) {
      read_paused_ = false;
      resume = true;
    }
  }
  Pump();
  if (resume) {
    std::lock_guard<std::recursive_mutex> ordered(order_mu_);
    StartRead(&request_bytes_);
  }
}

const std::vector<std::string_view> &IngestStreamCall::RequestPieces() {
  const auto view = [](const grpc::Slice &slice) {
    return std::string_view(reinterpret_cast<const char *>(slice.begin()), slice.size());
  };
  request_pieces_.clear();
  request_slices_.clear();  // keeps the capacity, drops the references
  // Dump fails only for a buffer that no read has filled: no pieces, an empty request.
  if (request_bytes_.TrySingleSlice(&request_slice_).ok()) {
    request_pieces_.push_back(view(request_slice_));
  } else if (request_bytes_.Dump(&request_slices_).ok()) {
    for (const grpc::Slice &slice : request_slices_) request_pieces_.push_back(view(slice));
  }
  return request_pieces_;
}

std::string_view IngestStreamCall::RequestBytes() {
  const std::vector<std::string_view> &pieces = RequestPieces();
  if (pieces.size() == 1) return pieces[0];
  request_flat_.clear();
  for (std::string_view piece : pieces) request_flat_.append(piece);
  return request_flat_;
}

grpc::Status IngestStreamCall::ParseRequest(std::string_view bytes) {
  const bool fits = bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max());
  const int size = static_cast<int>(bytes.size());
  if (rpc_ == StreamRpc::kEphemeral) {
    if (!fits || !request_.ParseFromArray(bytes.data(), size)) {
      return Invalid("the request is not a valid EphemeralStreamRequest");
    }
    return grpc::Status::OK;
  }
  if (!fits || !persistent_request_.ParseFromArray(bytes.data(), size)) {
    return Invalid("the request is not a valid PersistentStreamRequest");
  }
  request_.Clear();
  switch (persistent_request_.payload_case()) {
    case PersistentStreamRequest::kCreateStream:
      request_.mutable_create_stream()->Swap(
          persistent_request_.mutable_create_stream()->mutable_create_stream());
      break;
    case PersistentStreamRequest::kIngestRecord:
      request_.mutable_ingest_record()->Swap(persistent_request_.mutable_ingest_record());
      break;
    case PersistentStreamRequest::kIngestRecordBatch:
      request_.mutable_ingest_record_batch()->Swap(
          persistent_request_.mutable_ingest_record_batch());
      break;
    default:  // resume_stream stays where it is; no payload at all stays none
      break;
  }
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::HandleFirst() {
  const std::string_view bytes = RequestBytes();
  // The service's message limit holds for create_stream too: a larger one (a table name of
  // megabytes, say) is neither parsed nor quoted.
  if (bytes.size() > env_.max_message_bytes) {
    return Invalid("the create_stream request's " + std::to_string(bytes.size()) +
                   " bytes exceed the limit of " + std::to_string(env_.max_message_bytes) +
                   " bytes");
  }
  grpc::Status parsed = ParseRequest(bytes);
  if (!parsed.ok()) return parsed;
  const bool persistent = rpc_ == StreamRpc::kPersistent;
  if (persistent && persistent_request_.has_resume_stream()) return HandleResume();
  if (!request_.has_create_stream()) {
    return Invalid(persistent ? "the first message of a call must be create_stream or resume_stream"
                              : "the first message of a call must be create_stream");
  }
  if (persistent && env_.store == nullptr) {
    return Refused(grpc::StatusCode::FAILED_PRECONDITION,
                   "persistent streams need storage, and this server stores nothing "
                   "(--null-sink)");
  }
  const auto &create = request_.create_stream();
  if (env_.tokens != nullptr) {
    grpc::Status status = env_.tokens->CheckStream(authorization_, create.table_name());
    if (!status.ok()) return status;
  }
  grpc::Status status = CheckCreateStream(create, &type_);
  if (!status.ok()) return status;
  status =
      OpenTable(create.table_name(), type_, create.descriptor_proto(), create.avro_schema_json());
  if (!status.ok()) return status;
  stream_id_ = NewStreamId();
  if (persistent) {
    PersistentStreamState state;
    state.table = table_;
    state.record_type = type_;
    if (type_ == RecordType::PROTO) state.descriptor_proto = create.descriptor_proto();
    if (type_ == RecordType::AVRO) state.avro_schema_json = create.avro_schema_json();
    // Durable before the client hears the id.
    const std::string error = env_.store->CreatePersistentStream(stream_id_, state);
    if (!error.empty()) {
      return Refused(grpc::StatusCode::INTERNAL, "recording the stream failed: " + error);
    }
    lease_ = env_.leases->Take(stream_id_);  // a new id: nobody else can hold it
  }
  Accept(std::string("record_type=") + TypeName(type_));
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::HandleResume() {
  const auto &resume = persistent_request_.resume_stream();
  if (!resume.has_stream_id() || resume.stream_id().empty()) {
    return Invalid("resume_stream carries no stream_id");
  }
  if (env_.store == nullptr) {
    return Refused(grpc::StatusCode::FAILED_PRECONDITION,
                   "persistent streams need storage, and this server stores nothing "
                   "(--null-sink)");
  }
  const std::string &id = resume.stream_id();
  // Taken before the stream is read: the offset read below is then final, since no other call
  // can store for the stream while this one holds it.
  std::unique_ptr<PersistentLeases::Lease> lease = env_.leases->Take(id);
  std::optional<PersistentStreamState> state;
  const std::string error = env_.store->FindPersistentStream(id, &state);
  if (!error.empty()) {
    return Refused(grpc::StatusCode::INTERNAL, "reading the stream failed: " + error);
  }
  // Unknown and retired are told apart: an unknown id is the wrong server or data directory,
  // a retired one was ended for good on purpose. Neither can ever be resumed.
  if (!state) return Refused(grpc::StatusCode::NOT_FOUND, "no persistent stream " + id);
  if (state->retired) {
    return Refused(grpc::StatusCode::FAILED_PRECONDITION,
                   "stream " + id + " is retired and cannot be resumed");
  }
  // Unset means PROTO, as on create.
  const RecordType type = resume.has_record_type() ? resume.record_type() : RecordType::PROTO;
  const auto stored_type = static_cast<RecordType>(state->record_type);
  if (type != stored_type) {
    return Invalid(std::string("stream ") + id + " was created for " + TypeName(stored_type) +
                   " records, not " + TypeName(type));
  }
  // Byte for byte: a descriptor that decodes the same records but differs in its bytes is
  // refused too, rather than guess at compatibility.
  if (type == RecordType::PROTO && resume.descriptor_proto() != state->descriptor_proto) {
    return Invalid("descriptor_proto differs from the one stream " + id + " was created with");
  }
  // Only now, so that a resume that can never succeed is told so (the refusals above, which
  // are final) whether or not another call holds the stream.
  if (!lease) {
    // ABORTED, which clients retry: the other call may be one this client just lost, which the
    // server has not yet seen end.
    return Refused(grpc::StatusCode::ABORTED,
                   "stream " + id + " is open on another call; resume it once that call ends");
  }
  if (env_.tokens != nullptr) {
    grpc::Status status = env_.tokens->CheckStream(authorization_, state->table);
    if (!status.ok()) return status;
  }
  type_ = type;
  grpc::Status status =
      OpenTable(state->table, type_, state->descriptor_proto, state->avro_schema_json);
  if (!status.ok()) return status;
  stream_id_ = id;
  lease_ = std::move(lease);  // kept only by a call that goes on: a refused one frees the id
  resumed_ = true;
  resumed_at_ = state->committed_offset;
  next_offset_ = state->committed_offset ? *state->committed_offset + 1 : 0;
  Accept(std::string("record_type=") + TypeName(type_));
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::OpenTable(const std::string &table_name, RecordType type,
                                         const std::string &descriptor_proto,
                                         const std::string &avro_schema_json) {
  grpc::Status status = FindTable(table_name);
  if (!status.ok()) return status;
  if (schema_ != nullptr && type == RecordType::PROTO) {
    CheckedDescriptor descriptor;
    status = CheckDescriptor(descriptor_proto, schema_, &descriptor);
    if (!status.ok()) return status;
    decoder_ = NewProtoDecoder(*schema_, std::move(descriptor));
  } else if (schema_ != nullptr && type == RecordType::AVRO) {
    table::AvroPlan plan;
    std::string error;
    if (!table::ResolveAvroSchema(*schema_, avro_schema_json, &plan, &error)) {
      return Invalid("avro_schema_json does not fit " + schema_->full_name + ": " + error);
    }
    decoder_ = NewAvroDecoder(*schema_, std::move(plan));
  } else if (schema_ != nullptr) {
    decoder_ = NewJsonDecoder(*schema_);
  }
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::FindTable(const std::string &table_name) {
  grpc::Status status = env_.tables->Find(table_name, &schema_);
  if (!status.ok()) return status;
  // A declared table's own spelling, so that every stream of it lands in the same place and
  // meets the same faults.
  const std::string table = schema_ != nullptr ? schema_->full_name : table_name;
  if (std::optional<grpc::Status> refusal = env_.faults->TakeStreamRefusal(table)) {
    return *refusal;
  }
  // Under the lock: Pump, on other threads, reads it to find the table's faults.
  sync::MutexLock lock(mu_);
  table_ = table;
  return grpc::Status::OK;
}

void IngestStreamCall::Accept(const std::string &format) {
  generator_ = env_.faults->NewGenerator(table_);
  counters_ = env_.stats->StreamOpened(table_, user_agent_);
  created_ = true;
  if (*env_.log) {
    const char *opened = rpc_ == StreamRpc::kEphemeral ? "stream opened: "
                         : resumed_                    ? "persistent stream resumed: "
                                                       : "persistent stream created: ";
    (*env_.log)(opened + std::string("table=") + table_ + " stream_id=" + stream_id_ + " " +
                format + (resumed_ ? " next_offset=" + std::to_string(next_offset_) : "") +
                // Last: a user-agent holds spaces.
                (user_agent_.empty() ? "" : " user_agent=" + user_agent_));
  }
  if (env_.stream_lifetime.count() > 0) {
    const auto lead = std::min(env_.close_signal_lead, env_.stream_lifetime);
    std::weak_ptr<IngestStreamCall> weak = self_;
    env_.timer->At(Clock::now() + env_.stream_lifetime - lead, [weak, lead] {
      if (auto call = weak.lock()) call->OnCloseSignalDue(lead);
    });
  }
  sync::MutexLock lock(mu_);
  AdvanceLocked(Phase::kAccepting);
}

grpc::Status IngestStreamCall::CheckOffset(bool present, int64_t offset) const {
  if (!present) return Invalid("offset_id is missing");
  if (rpc_ == StreamRpc::kPersistent && offset < next_offset_) {
    // A resend. The service does not de-duplicate: it would store the records a second time,
    // and says nothing. Acknowledging without storing would hide that client bug from every
    // test run here; storing twice would show it only to a test that counts rows. Refused,
    // naming the offsets, it fails the test that has it, and nothing is stored twice.
    return Invalid("offset_id " + std::to_string(offset) + " of persistent stream " + stream_id_ +
                   " was sent already (the next is " + std::to_string(next_offset_) +
                   "): the service would store its records a second time");
  }
  if (offset != next_offset_) {
    return Invalid("non-sequential offset: expected " + std::to_string(next_offset_) + ", got " +
                   std::to_string(offset) + " (error code 4002)");
  }
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::CheckRecords(size_t request_bytes, std::vector<Row> *rows) {
  const std::vector<IngestRequestView::Record> &records = ingest_.records;
  const std::string limit = std::to_string(env_.max_message_bytes);
  auto where = [&](size_t index) {
    return "offset_id " + std::to_string(ingest_.offset_id) +
           (ingest_.batch ? ", record " + std::to_string(index) + " of the batch" : "");
  };
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].size > env_.max_message_bytes) {
      return Invalid(where(i) + ": the record's " + std::to_string(records[i].size) +
                     " bytes exceed the limit of " + limit + " bytes");
    }
  }
  if (request_bytes > env_.max_message_bytes) {
    return Invalid("offset_id " + std::to_string(ingest_.offset_id) + ": the request's " +
                   std::to_string(request_bytes) + " bytes exceed the limit of " + limit +
                   " bytes");
  }
  if (decoder_ == nullptr) return grpc::Status::OK;
  rows->resize(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string error = decoder_->Decode(ingest_.Contiguous(i), &(*rows)[i]);
    if (!error.empty()) return Invalid(where(i) + ": " + error);
  }
  return grpc::Status::OK;
}

grpc::Status IngestStreamCall::ViewParsedIngest() {
  ingest_.ClearRecords();
  switch (request_.payload_case()) {
    case EphemeralStreamRequest::kCreateStream:
      return Invalid("create_stream may only be sent once per call");
    case EphemeralStreamRequest::PAYLOAD_NOT_SET:
      if (rpc_ == StreamRpc::kPersistent && persistent_request_.has_resume_stream()) {
        return Invalid("resume_stream may only be the first message of a call");
      }
      return Invalid("request carries no payload");
    case EphemeralStreamRequest::kIngestRecord: {
      const IngestRecordRequest &ingest = request_.ingest_record();
      grpc::Status status = CheckOffset(ingest.has_offset_id(), ingest.offset_id());
      if (!status.ok()) return status;
      if (ingest.has_proto_encoded_record()) {
        ingest_.AddRecord(ingest.proto_encoded_record());
        ingest_.kind = IngestRequestView::Kind::kProto;
      } else if (ingest.has_json_record()) {
        ingest_.AddRecord(ingest.json_record());
        ingest_.kind = IngestRequestView::Kind::kJson;
      } else if (ingest.has_avro_encoded_record()) {
        ingest_.AddRecord(ingest.avro_encoded_record());
        ingest_.kind = IngestRequestView::Kind::kAvro;
      } else {
        return Invalid("ingest_record carries no record");
      }
      ingest_.offset_id = ingest.offset_id();
      ingest_.batch = false;
      return grpc::Status::OK;
    }
    case EphemeralStreamRequest::kIngestRecordBatch: {
      const IngestRecordBatchRequest &batch = request_.ingest_record_batch();
      grpc::Status status = CheckOffset(batch.has_offset_id(), batch.offset_id());
      if (!status.ok()) return status;
      const google::protobuf::RepeatedPtrField<std::string> *items;
      if (batch.has_proto_encoded_batch()) {
        items = &batch.proto_encoded_batch().records();
        ingest_.kind = IngestRequestView::Kind::kProto;
      } else if (batch.has_json_batch()) {
        items = &batch.json_batch().records();
        ingest_.kind = IngestRequestView::Kind::kJson;
      } else if (batch.has_avro_batch()) {
        items = &batch.avro_batch().records();
        ingest_.kind = IngestRequestView::Kind::kAvro;
      } else {
        return Invalid("ingest_record_batch carries no batch");
      }
      for (const std::string &record : *items) ingest_.AddRecord(record);
      ingest_.offset_id = batch.offset_id();
      ingest_.batch = true;
      return grpc::Status::OK;
    }
    default:
      return Invalid("request carries no payload");
  }
}

grpc::Status IngestStreamCall::HandleIngest() {
  const std::vector<std::string_view> &pieces = RequestPieces();
  size_t request_bytes = 0;
  for (std::string_view piece : pieces) request_bytes += piece.size();
  grpc::Status status;
  if (ScanIngestRequest(pieces, &ingest_,
                        rpc_ == StreamRpc::kPersistent ? kPersistentFields : kEphemeralFields)) {
    status = CheckOffset(true, ingest_.offset_id);
  } else {
    // Rare (no client sends these shapes), so the request may as well be flattened.
    status = ParseRequest(RequestBytes());
    if (status.ok()) status = ViewParsedIngest();
  }
  if (!status.ok()) return status;
  if (ingest_.kind != KindOf(type_)) return KindMismatch(type_);
  if (ingest_.batch && ingest_.records.empty()) return Invalid("ingest_record_batch is empty");
  if (lease_ && lease_->retired()) {
    return Refused(grpc::StatusCode::FAILED_PRECONDITION,
                   "stream " + stream_id_ + " was retired while open: it stores nothing more");
  }

  WriteBatch batch;
  status = CheckRecords(request_bytes, &batch.rows);
  if (!status.ok()) return status;
  // The store keeps the records beyond this request's bytes: the one copy they need, which a
  // null sink (no store) does not make.
  if (env_.store != nullptr) {
    batch.records.reserve(ingest_.records.size());
    for (size_t i = 0; i < ingest_.records.size(); ++i) {
      batch.records.push_back(
          Record{ingest_.Copy(i), ingest_.kind == IngestRequestView::Kind::kJson});
    }
  }
  return AcceptRecords(static_cast<int64_t>(ingest_.records.size()), request_bytes,
                       std::move(batch));
}

grpc::Status IngestStreamCall::AcceptRecords(int64_t count, size_t request_bytes,
                                             WriteBatch batch) {
  const int64_t offset = next_offset_;
  if (std::optional<grpc::Status> failure = env_.faults->AdmitRecords(table_, count, generator_)) {
    return *failure;
  }
  if (std::optional<grpc::Status> failure = env_.faults->FailStream(table_, records_, count)) {
    return *failure;
  }
  ++next_offset_;
  records_ += count;
  const int64_t total = records_;
  read_delay_ = Throttle(count, request_bytes);
  if (!close_fault_fired_) {
    if (auto duration = env_.faults->CloseSignalAfter(table_, records_)) {
      close_fault_fired_ = true;
      sync::MutexLock lock(mu_);
      if (!close_signal_pending_ && !close_signal_sent_) close_signal_pending_ = *duration;
    }
  }
  const Clock::time_point arrival = Clock::now();
  if (env_.store == nullptr) {
    OnStored(arrival, offset, count, total, "");
    return grpc::Status::OK;
  }
  {
    sync::MutexLock lock(mu_);
    ++storing_;
  }
  batch.table = table_;
  batch.schema = schema_;
  if (lease_) {
    batch.persistent_stream_id = stream_id_;
    batch.offset_id = offset;
  }
  // The store may answer after the call has ended: the reference keeps the reactor alive.
  env_.store->Append(std::move(batch),
                     [self = self_, arrival, offset, count, total](const std::string &error) {
                       self->OnStored(arrival, offset, count, total, error);
                     });
  return grpc::Status::OK;
}

IngestStreamCall::Clock::duration IngestStreamCall::Throttle(int64_t records, size_t bytes) {
  const Clock::time_point now = Clock::now();
  Clock::duration wait = Clock::duration::zero();
  auto charge = [&](Clock::time_point *paid_until, double cost, double rate) {
    if (rate <= 0) return;
    *paid_until = std::max(*paid_until, now) + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(cost / rate));
    wait = std::max(wait, *paid_until - now);
  };
  charge(&rows_paid_until_, static_cast<double>(records), env_.max_rows_per_second);
  charge(&bytes_paid_until_, static_cast<double>(bytes), env_.max_bytes_per_second);
  return wait;
}

void IngestStreamCall::OnStored(Clock::time_point arrival, int64_t offset, int64_t records,
                                int64_t total, const std::string &error) {
  {
    sync::MutexLock lock(mu_);
    if (env_.store != nullptr) --storing_;
    if (!error.empty()) {
      EndLocked(grpc::Status(grpc::StatusCode::INTERNAL, "storing failed: " + error));
    } else {
      unacked_.push_back(Unacked{arrival, offset, total});
    }
  }
  // Counted after the request is ready to acknowledge: whoever sees the count (a test about to
  // release withheld acks) may rely on that.
  if (error.empty()) counters_->Accepted(records);
  Pump();
}

void IngestStreamCall::Pump() {
  enum class Step { kNone, kWrite, kFinish } step = Step::kNone;
  grpc::Status status;
  {
    sync::MutexLock lock(mu_);
    if (phase_ == Phase::kFinished || write_in_flight_) return;
    const Clock::time_point now = Clock::now();
    const AckPolicy policy = env_.faults->Acks(table_);
    const bool acking =
        phase_ == Phase::kOpen || phase_ == Phase::kDraining || phase_ == Phase::kEnding;
    if (phase_ == Phase::kAccepting && !policy.stall) {
      AdvanceLocked(Phase::kOpen);
      response_.mutable_create_stream_response()->set_stream_id(stream_id_);
      step = Step::kWrite;
    } else if (acking && TakeDueAckLocked(now, policy)) {
      step = Step::kWrite;
    } else if (StreamingLocked() && TakeStaleAckLocked(now, policy)) {
      step = Step::kWrite;
    } else if (StreamingLocked() && close_signal_pending_ && !policy.stall) {
      const std::chrono::milliseconds duration = *close_signal_pending_;
      close_signal_pending_.reset();
      close_signal_sent_ = true;
      auto *signal = response_.mutable_close_stream_signal()->mutable_duration();
      signal->set_seconds(duration.count() / 1000);
      signal->set_nanos(static_cast<int32_t>(duration.count() % 1000) * 1000000);
      std::weak_ptr<IngestStreamCall> weak = self_;
      env_.timer->At(now + duration, [weak] {
        if (auto call = weak.lock()) call->OnCloseDeadline();
      });
      step = Step::kWrite;
    } else if (phase_ == Phase::kEnding || phase_ == Phase::kCancelled ||
               (phase_ == Phase::kDraining && unacked_.empty() && storing_ == 0)) {
      // An error ends the call without waiting for acks still withheld or delayed.
      AdvanceLocked(Phase::kFinished);
      status = end_status_;
      step = Step::kFinish;
    } else {
      ArmTimerLocked(now, policy);
    }
    write_in_flight_ = step == Step::kWrite;
  }
  // Outside mu_: gRPC may run reactions on this thread before these return.
  // Serialized outside mu_: write_in_flight_ keeps response_ ours until OnWriteDone.
  if (step == Step::kWrite) SerializeResponse();
  std::lock_guard<std::recursive_mutex> ordered(order_mu_);
  if (step == Step::kWrite) {
    StartWrite(&response_bytes_);
  } else if (step == Step::kFinish) {
    Finish(std::move(status));
  }
}

void IngestStreamCall::SerializeResponse() {
  bool own_buffer = false;
  if (rpc_ == StreamRpc::kEphemeral) {
    grpc::SerializationTraits<EphemeralStreamResponse>::Serialize(response_, &response_bytes_,
                                                                  &own_buffer);
    return;
  }
  PersistentStreamResponse out;
  switch (response_.payload_case()) {
    case EphemeralStreamResponse::kCreateStreamResponse:
      if (resumed_) {
        auto *resumed = out.mutable_resume_stream_response();
        if (resumed_at_) resumed->set_last_committed_offset(*resumed_at_);
      } else {
        *out.mutable_create_stream_response() = response_.create_stream_response();
      }
      break;
    case EphemeralStreamResponse::kIngestRecordResponse:
      *out.mutable_ingest_record_response() = response_.ingest_record_response();
      break;
    case EphemeralStreamResponse::kCloseStreamSignal:
      *out.mutable_close_stream_signal() = response_.close_stream_signal();
      break;
    case EphemeralStreamResponse::PAYLOAD_NOT_SET:
      break;
  }
  grpc::SerializationTraits<PersistentStreamResponse>::Serialize(out, &response_bytes_,
                                                                 &own_buffer);
}

bool IngestStreamCall::TakeDueAckLocked(Clock::time_point now, const AckPolicy &policy) {
  if (unacked_.empty() || policy.withhold || policy.stall || policy.repeat_stale.count() > 0) {
    return false;
  }
  const Clock::duration delay = policy.delay;
  std::optional<Unacked> ack;
  while (!unacked_.empty() && unacked_.front().arrival + delay <= now) {
    ack = unacked_.front();
    unacked_.pop_front();
  }
  if (!ack) return false;
  last_ack_ = ack->offset;
  last_ack_records_ = ack->total;
  response_.mutable_ingest_record_response()->set_durability_ack_up_to_offset(ack->offset);
  response_records_ = ack->total;
  return true;
}

bool IngestStreamCall::TakeStaleAckLocked(Clock::time_point now, const AckPolicy &policy) {
  if (policy.repeat_stale.count() <= 0 || policy.stall || now < next_stale_ack_) return false;
  next_stale_ack_ = now + policy.repeat_stale;
  response_.mutable_ingest_record_response()->set_durability_ack_up_to_offset(last_ack_);
  response_records_ = last_ack_records_;
  return true;
}

void IngestStreamCall::ArmTimerLocked(Clock::time_point now, const AckPolicy &policy) {
  if (policy.stall) return;
  Clock::time_point due;
  if (policy.repeat_stale.count() > 0) {
    if (!StreamingLocked()) return;
    due = next_stale_ack_;
  } else if (!unacked_.empty() && !policy.withhold) {
    due = unacked_.front().arrival + policy.delay;
  } else {
    return;
  }
  if (due <= now || (timer_due_ && *timer_due_ <= due)) return;
  timer_due_ = due;
  std::weak_ptr<IngestStreamCall> weak = self_;
  env_.timer->At(due, [weak] {
    if (auto call = weak.lock()) call->OnTimer();
  });
}

void IngestStreamCall::OnTimer() {
  {
    sync::MutexLock lock(mu_);
    if (timer_due_ && *timer_due_ <= Clock::now()) timer_due_.reset();
  }
  Pump();
}

void IngestStreamCall::OnCloseSignalDue(std::chrono::milliseconds duration) {
  {
    sync::MutexLock lock(mu_);
    if (close_signal_sent_ || close_signal_pending_) return;
    close_signal_pending_ = duration;
  }
  Pump();
}

void IngestStreamCall::OnCloseDeadline() {
  {
    sync::MutexLock lock(mu_);
    // The service's words and code for a stream that reached the end of its life.
    EndLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "Stream timeout reached: the server closed the stream. "
                           "Error Code: 6002"));
  }
  Pump();
}

void IngestStreamCall::OnWriteDone(bool ok) {
  Fence();
  {
    sync::MutexLock lock(mu_);
    write_in_flight_ = false;
    // A write fails only when the call is already dead.
    if (!ok) AbandonLocked();
  }
  Pump();
  Fence();
}

void IngestStreamCall::OnCancel() {
  Fence();
  {
    sync::MutexLock lock(mu_);
    cancel_seen_ = true;
    AbandonLocked();
  }
  Pump();
  Fence();
}

void IngestStreamCall::AdvanceLocked(Phase next) {
  bool allowed = false;
  switch (next) {
    case Phase::kAwaitingCreate:
      break;
    case Phase::kAccepting:
      allowed = phase_ == Phase::kAwaitingCreate;
      break;
    case Phase::kOpen:
      allowed = phase_ == Phase::kAccepting;
      break;
    case Phase::kDraining:
      allowed = phase_ == Phase::kOpen;
      break;
    case Phase::kEnding:
      allowed = phase_ < Phase::kEnding;
      break;
    case Phase::kCancelled:
      allowed = phase_ < Phase::kCancelled;
      break;
    case Phase::kFinished:
      allowed =
          phase_ == Phase::kDraining || phase_ == Phase::kEnding || phase_ == Phase::kCancelled;
      break;
  }
  assert(allowed && "a phase change the Phase comment does not list");
  (void)allowed;
  phase_ = next;
}

void IngestStreamCall::EndLocked(grpc::Status status) {
  if (phase_ >= Phase::kEnding) return;
  end_status_ = std::move(status);
  AdvanceLocked(Phase::kEnding);
}

void IngestStreamCall::HalfClosedLocked() {
  if (phase_ == Phase::kOpen) {
    AdvanceLocked(Phase::kDraining);
  } else {
    // Before the stream was accepted nothing can wait for an ack: the call ends at once.
    EndLocked(grpc::Status::OK);
  }
}

void IngestStreamCall::AbandonLocked() {
  if (phase_ >= Phase::kCancelled) return;
  if (phase_ < Phase::kEnding)
    end_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
  AdvanceLocked(Phase::kCancelled);
}

bool IngestStreamCall::StreamingLocked() const {
  return phase_ == Phase::kOpen || phase_ == Phase::kDraining;
}

void IngestStreamCall::OnDone() {
  Fence();
  // Every reaction has returned by now, so the reader-side fields are stable.
  if (created_) {
    grpc::Status status;
    bool cancelled;
    {
      sync::MutexLock lock(mu_);
      status = end_status_;
      // A cancellation may come after the call ended with OK: the client did not wait for it.
      cancelled = cancel_seen_ || status.error_code() == grpc::StatusCode::CANCELLED;
    }
    // OK comes only after the client's half-close, once all it sent was acknowledged.
    const StreamEnd end = cancelled     ? StreamEnd::kCancelled
                          : status.ok() ? StreamEnd::kClosedByClient
                                        : StreamEnd::kEndedByServer;
    if (*env_.log) {
      const std::string stream =
          "table=" + table_ + " stream_id=" + stream_id_ + " records=" + std::to_string(records_);
      (*env_.log)(end == StreamEnd::kCancelled
                      ? "stream cancelled: " + stream
                      : "stream closed: " + stream +
                            " status=" + std::to_string(status.error_code()) +
                            (status.ok() ? "" : " message=\"" + status.error_message() + "\""));
    }
    // After the log line, so that whoever waits for the stream to close also sees its line.
    counters_->StreamClosed(end);
  }
  env_.registry->Remove(this);
  // May be the last reference; nothing may touch members after this.
  std::shared_ptr<IngestStreamCall> self = std::move(self_);
}

}  // namespace zerobus::server
