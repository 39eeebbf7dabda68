/* Arrow record batches built by hand in the C Data Interface, as a C producer without any Arrow
 * library makes them, for the tests of Arrow streams: the table
 * ZBTEST_ARROW_DDL, whose rows are id = first_id + i and name = "row-<id>" padded with '.' to
 * `name_bytes` (at least the digits), null on every seventh id. Each array's release counts
 * itself into the int the caller gave, so that a test can see it called exactly once. */
#ifndef ZBTEST_ARROW_H
#define ZBTEST_ARROW_H

#include <stddef.h>
#include <stdint.h>
#include <zerobus/arrow_c_data.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZBTEST_ARROW_TABLE "main.default.arrows"
#define ZBTEST_ARROW_DDL "main.default.arrows (id BIGINT NOT NULL, name STRING)"

/* The batches' schema: a struct of id (int64, not null) and name (utf8). */
void zbtest_arrow_schema(struct ArrowSchema *out);

/* A batch of `rows` rows from `first_id`; its release adds 1 to *released (may be NULL). */
void zbtest_arrow_batch(struct ArrowArray *out, int64_t first_id, int64_t rows, size_t name_bytes,
                        int *released);

/* A C stream of `batches` batches of `rows` rows each, ids from `first_id`. Each batch's release
 * and the stream's own add 1 to *released. */
void zbtest_arrow_stream(struct ArrowArrayStream *out, int64_t first_id, int64_t batches,
                         int64_t rows, int *released);

/* Whether the JSON text of a stored row (zbtest_server_record()) is row `id`'s. */
int zbtest_arrow_row_is(const uint8_t *json, size_t len, int64_t id, size_t name_bytes);

#ifdef __cplusplus
}
#endif

#endif /* ZBTEST_ARROW_H */
