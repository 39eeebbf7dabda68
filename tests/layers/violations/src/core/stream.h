// The engine reaching up into the server and into the public header: two violations.
#include "server/server.h"
#include "table/delta_type.h"
#include "zerobus/zerobus.h"
