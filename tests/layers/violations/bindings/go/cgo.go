package zerobus

// A binding reaching past the C ABI: two violations; its own header is fine.
// #include "zbgo.h"
// #include "../../src/core/stream.h"
// #include "core/window.h"
import "C"
