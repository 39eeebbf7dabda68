/* Compiled as strict C99 so that a C++-only construct in the C test headers breaks the build
 * here rather than in someone's cmocka test. */
#include "zbtest_event.h"
#include "zbtest_server.h"

/* ISO C forbids an empty translation unit. */
typedef int zbtest_header_check_unit;
