// The Arrow codec reaching into the engine and the public API: two violations.
#include "core/stream.h"
#include "zerobus/zerobus.h"
