// The command using the engine and a server internal: two violations; the server's public
// interface and the public header are fine.
#include "core/stream.h"
#include "server/server.h"
#include "server/sqlite_row_store.h"
#include "zerobus/zerobus.hpp"
