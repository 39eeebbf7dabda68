// A JSON Web Token header reaching up into the engine: one violation.
#include "core/status.h"
