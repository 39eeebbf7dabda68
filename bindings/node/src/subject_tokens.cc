#include "subject_tokens.h"

#include <utility>

#include "addon_data.h"

namespace zerobus_node {

void TokenRequest::Settle(std::optional<std::string> token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (settled_) return;
    settled_ = true;
    token_ = std::move(token);
  }
  settled_cv_.notify_all();
}

std::optional<std::string> TokenRequest::Wait(std::chrono::milliseconds bound) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!settled_cv_.wait_for(lock, bound, [this] { return settled_; })) return std::nullopt;
  return token_;
}

SubjectTokens *SubjectTokens::New(Napi::Env env, Napi::Function provide) {
  auto *tokens = new SubjectTokens();
  tokens->js_thread_ = std::this_thread::get_id();
  // An unbounded queue: NonBlockingCall() never refuses while the function is open.
  tokens->function_ = ProviderFunction::New(env, provide, "zerobus:subjectToken", 0, 1, tokens,
                                            OnFunctionFinalized, static_cast<void *>(nullptr));
  tokens->function_.Unref(env);
  AddonData::Of(env).Adopt(tokens);
  AddonData::Of(env).KeepTeardownFirst();
  return tokens;
}

zb_status SubjectTokens::Register(zb_config *cfg, zb_error **err) {
  holders_.fetch_add(1);
  return zb_config_set_token_federation(cfg, OnToken, this, OnRegistrationFreed, err);
}

// A library thread (a pool thread of the addon's inside zb_stream_new(), or a supervision
// thread).
zb_status SubjectTokens::OnToken(zb_token_sink *sink, void *self) {
  auto *tokens = static_cast<SubjectTokens *>(self);
  if (std::this_thread::get_id() == tokens->js_thread_) return ZB_ERR_AUTH;
  auto request = std::make_shared<TokenRequest>();
  {
    std::lock_guard<std::mutex> lock(tokens->mu_);
    if (tokens->closed_ || !tokens->usable_) return ZB_ERR_AUTH;
    auto *carried = new std::shared_ptr<TokenRequest>(request);
    if (tokens->function_.NonBlockingCall(carried) != napi_ok) {
      delete carried;
      return ZB_ERR_AUTH;
    }
    tokens->waiting_.insert(request);
  }
  const std::optional<std::string> token = request->Wait(kWait);
  {
    std::lock_guard<std::mutex> lock(tokens->mu_);
    tokens->waiting_.erase(request);
  }
  if (!token || token->empty()) return ZB_ERR_AUTH;
  return zb_token_sink_set(sink, token->c_str(), nullptr);
}

void SubjectTokens::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (const std::shared_ptr<TokenRequest> &request : waiting_) request->Settle(std::nullopt);
}

// Any thread, once.
void SubjectTokens::OnRegistrationFreed(void *self) {
  auto *tokens = static_cast<SubjectTokens *>(self);
  {
    std::lock_guard<std::mutex> lock(tokens->mu_);
    if (tokens->usable_) {
      tokens->usable_ = false;
      tokens->function_.Release();
    }
  }
  tokens->Drop();
}

// The JavaScript thread: after the release, or at the environment's teardown.
void SubjectTokens::OnFunctionFinalized(Napi::Env env, void *, SubjectTokens *self) {
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->usable_ = false;
  }
  AddonData::Of(env).Forget(self);
  self->Drop();
}

void SubjectTokens::Drop() {
  if (holders_.fetch_sub(1) == 1) delete this;
}

void CallProviderJs(Napi::Env env, Napi::Function provide, SubjectTokens *,
                    std::shared_ptr<TokenRequest> *carried) {
  std::shared_ptr<TokenRequest> request = std::move(*carried);
  delete carried;
  // The environment is going away: nobody will settle it.
  if (env == nullptr) return request->Settle(std::nullopt);
  Napi::Function settle = Napi::Function::New(env, [request](const Napi::CallbackInfo &info) {
    request->Settle(info[0].IsString()
                        ? std::optional<std::string>(info[0].As<Napi::String>().Utf8Value())
                        : std::nullopt);
  });
  try {
    provide.Call({settle});
  } catch (const Napi::Error &) {
    request->Settle(std::nullopt);
  }
}

}  // namespace zerobus_node
