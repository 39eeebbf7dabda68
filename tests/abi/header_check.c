/* The public header as a consumer meets it: included first and alone, and compiled with
 * -Wall -Wextra -Werror -pedantic as C99, C11 and C++17 (abi.header_* in abi_test.sh). */
#include <zerobus/zerobus.h>

/* A consumer rejects a header that is too old or too new with #if on these. */
#if !defined(ZB_VERSION_MAJOR) || !defined(ZB_VERSION_MINOR) || !defined(ZB_VERSION_PATCH) || \
    !defined(ZB_VERSION_NUM)
#error "zerobus.h lacks a ZB_VERSION_* macro"
#endif
/* ZB_VERSION_NUM packs each part into 8 bits. */
#if ZB_VERSION_MINOR > 255 || ZB_VERSION_PATCH > 255
#error "a ZB_VERSION_* part does not fit into ZB_VERSION_NUM"
#endif

/* A growable struct starts with its uint32_t struct_size, which is what lets the library tell
 * an old caller's struct from a new one. C99 has no static assertion: a negative array size
 * fails the build instead. */
#define ZB_HEADER_CHECK(name, condition) typedef char zb_header_check_##name[(condition) ? 1 : -1]
ZB_HEADER_CHECK(event_size_first, offsetof(zb_event, struct_size) == 0);
ZB_HEADER_CHECK(event_size_u32, sizeof(((zb_event *)NULL)->struct_size) == 4);
ZB_HEADER_CHECK(property_size_first, offsetof(zb_config_property, struct_size) == 0);
ZB_HEADER_CHECK(property_size_u32, sizeof(((zb_config_property *)NULL)->struct_size) == 4);

/* The initializer macros compile cleanly in the language at hand. */
uint32_t zb_header_check_initializers(void);
uint32_t zb_header_check_initializers(void) {
  zb_event event = ZB_EVENT_INIT;
  zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
  return event.struct_size + property.struct_size;
}

/* The Arrow C Data structs compile in the language at hand and have the specification's layout:
 * five int64_t fields before ArrowArray's buffers, four before ArrowSchema's children. */
#include <zerobus/arrow_c_data.h>
ZB_HEADER_CHECK(arrow_array_buffers, offsetof(struct ArrowArray, buffers) == 5 * sizeof(int64_t));
ZB_HEADER_CHECK(arrow_schema_children,
                offsetof(struct ArrowSchema, children) == 3 * sizeof(void *) + 2 * sizeof(int64_t));
