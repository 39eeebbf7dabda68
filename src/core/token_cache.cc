#include "core/token_cache.h"

namespace zerobus {

std::shared_ptr<SharedToken> TokenCache::Entry(TokenScheme scheme, std::string_view identity,
                                               std::string_view table) {
  // NUL separates the parts: none of them holds one (they come from C strings).
  std::string key(1, scheme == TokenScheme::kClientCredentials ? 'c' : 'f');
  key.append(1, '\0').append(identity).append(1, '\0').append(table);
  sync::MutexLock lock(mu_);
  // Entries nobody holds any more go as new ones come, so that the map follows the live keys.
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expired() ? entries_.erase(it) : std::next(it);
  }
  std::weak_ptr<SharedToken> &slot = entries_[key];
  std::shared_ptr<SharedToken> entry = slot.lock();
  if (!entry) {
    entry = std::make_shared<SharedToken>();
    slot = entry;
  }
  return entry;
}

}  // namespace zerobus
