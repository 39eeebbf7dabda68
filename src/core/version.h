// The library's version, as zerobus.h's ZB_VERSION_* give it (src/c_api checks that they
// agree).
#ifndef ZEROBUS_CORE_VERSION_H
#define ZEROBUS_CORE_VERSION_H

namespace zerobus {

constexpr int kVersionMajor = 0;
constexpr int kVersionMinor = 1;
constexpr int kVersionPatch = 0;
// "major.minor.patch".
constexpr const char kVersionString[] = "0.1.0";

}  // namespace zerobus

#endif  // ZEROBUS_CORE_VERSION_H
