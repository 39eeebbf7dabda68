// The table library reaching into the engine: one violation.
#include "core/stream.h"
