#include "zbtest_arrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *Allocate(size_t size) {
  void *memory = calloc(1, size ? size : 1);
  if (!memory) abort();
  return memory;
}

/* ---- schema ---- */

static void ReleaseChildSchema(struct ArrowSchema *schema) {
  schema->release = NULL;
}

static void ReleaseSchema(struct ArrowSchema *schema) {
  int64_t i;
  for (i = 0; i < schema->n_children; ++i) {
    if (schema->children[i]->release) schema->children[i]->release(schema->children[i]);
    free(schema->children[i]);
  }
  free(schema->children);
  schema->release = NULL;
}

static struct ArrowSchema *Column(const char *format, const char *name, int64_t flags) {
  struct ArrowSchema *column = (struct ArrowSchema *)Allocate(sizeof *column);
  column->format = format;
  column->name = name;
  column->flags = flags;
  column->release = ReleaseChildSchema;
  return column;
}

void zbtest_arrow_schema(struct ArrowSchema *out) {
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->name = "";
  out->n_children = 2;
  out->children = (struct ArrowSchema **)Allocate(2 * sizeof(struct ArrowSchema *));
  out->children[0] = Column("l", "id", 0);
  out->children[1] = Column("u", "name", ARROW_FLAG_NULLABLE);
  out->release = ReleaseSchema;
}

/* ---- batches ---- */

/* Everything one batch allocated, freed by its release. */
typedef struct Batch {
  struct ArrowArray id, name;
  struct ArrowArray *children[2];
  const void *root_buffers[1];
  const void *id_buffers[2];
  const void *name_buffers[3];
  int64_t *ids;
  uint8_t *validity;
  int32_t *offsets;
  char *text;
  int *released;
} Batch;

static void ReleaseChildArray(struct ArrowArray *array) {
  array->release = NULL;
}

static void ReleaseBatch(struct ArrowArray *array) {
  Batch *batch = (Batch *)array->private_data;
  if (batch->released) ++*batch->released;
  free(batch->ids);
  free(batch->validity);
  free(batch->offsets);
  free(batch->text);
  free(batch);
  array->release = NULL;
}

static int IsNull(int64_t id) {
  return id % 7 == 6;
}

/* Writes row `id`'s name at `out` (name_bytes at least the digits), returning its length. */
static size_t WriteName(char *out, int64_t id, size_t name_bytes) {
  int written = sprintf(out, "row-%lld", (long long)id);
  size_t len = (size_t)written;
  while (len < name_bytes) out[len++] = '.';
  return len;
}

static size_t NameLength(int64_t id, size_t name_bytes) {
  char digits[32];
  size_t len = (size_t)sprintf(digits, "row-%lld", (long long)id);
  return len < name_bytes ? name_bytes : len;
}

void zbtest_arrow_batch(struct ArrowArray *out, int64_t first_id, int64_t rows, size_t name_bytes,
                        int *released) {
  Batch *batch = (Batch *)Allocate(sizeof *batch);
  size_t text_bytes = 0;
  int64_t i, nulls = 0;
  for (i = 0; i < rows; ++i) {
    if (!IsNull(first_id + i)) text_bytes += NameLength(first_id + i, name_bytes);
  }
  batch->released = released;
  batch->ids = (int64_t *)Allocate((size_t)rows * sizeof(int64_t));
  batch->validity = (uint8_t *)Allocate((size_t)(rows + 7) / 8);
  batch->offsets = (int32_t *)Allocate((size_t)(rows + 1) * sizeof(int32_t));
  batch->text = (char *)Allocate(text_bytes + 32);
  for (i = 0; i < rows; ++i) {
    const int64_t id = first_id + i;
    batch->ids[i] = id;
    if (IsNull(id)) {
      ++nulls;
      batch->offsets[i + 1] = batch->offsets[i];
    } else {
      batch->validity[i / 8] = (uint8_t)(batch->validity[i / 8] | (1u << (i % 8)));
      batch->offsets[i + 1] =
          batch->offsets[i] + (int32_t)WriteName(batch->text + batch->offsets[i], id, name_bytes);
    }
  }
  batch->id_buffers[0] = NULL;
  batch->id_buffers[1] = batch->ids;
  batch->id.length = rows;
  batch->id.n_buffers = 2;
  batch->id.buffers = batch->id_buffers;
  batch->id.release = ReleaseChildArray;
  batch->name_buffers[0] = batch->validity;
  batch->name_buffers[1] = batch->offsets;
  batch->name_buffers[2] = batch->text;
  batch->name.length = rows;
  batch->name.null_count = nulls;
  batch->name.n_buffers = 3;
  batch->name.buffers = batch->name_buffers;
  batch->name.release = ReleaseChildArray;
  batch->children[0] = &batch->id;
  batch->children[1] = &batch->name;
  batch->root_buffers[0] = NULL;
  memset(out, 0, sizeof *out);
  out->length = rows;
  out->n_buffers = 1;
  out->buffers = batch->root_buffers;
  out->n_children = 2;
  out->children = batch->children;
  out->private_data = batch;
  out->release = ReleaseBatch;
}

/* ---- a C stream ---- */

typedef struct Stream {
  int64_t next_id, batches_left, rows;
  int *released;
} Stream;

static int StreamSchema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
  (void)stream;
  zbtest_arrow_schema(out);
  return 0;
}

static int StreamNext(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  Stream *state = (Stream *)stream->private_data;
  if (state->batches_left == 0) {
    memset(out, 0, sizeof *out); /* the end: a released array */
    return 0;
  }
  zbtest_arrow_batch(out, state->next_id, state->rows, 0, state->released);
  state->next_id += state->rows;
  --state->batches_left;
  return 0;
}

static const char *StreamError(struct ArrowArrayStream *stream) {
  (void)stream;
  return NULL;
}

static void ReleaseStream(struct ArrowArrayStream *stream) {
  Stream *state = (Stream *)stream->private_data;
  if (state->released) ++*state->released;
  free(state);
  stream->release = NULL;
}

void zbtest_arrow_stream(struct ArrowArrayStream *out, int64_t first_id, int64_t batches,
                         int64_t rows, int *released) {
  Stream *state = (Stream *)Allocate(sizeof *state);
  state->next_id = first_id;
  state->batches_left = batches;
  state->rows = rows;
  state->released = released;
  memset(out, 0, sizeof *out);
  out->get_schema = StreamSchema;
  out->get_next = StreamNext;
  out->get_last_error = StreamError;
  out->private_data = state;
  out->release = ReleaseStream;
}

int zbtest_arrow_row_is(const uint8_t *json, size_t len, int64_t id, size_t name_bytes) {
  char *expected = (char *)Allocate(NameLength(id, name_bytes) + 64);
  int same;
  int written = sprintf(expected, "{\"id\":%lld,\"name\":", (long long)id);
  if (IsNull(id)) {
    written += sprintf(expected + written, "null}");
  } else {
    expected[written++] = '"';
    written += (int)WriteName(expected + written, id, name_bytes);
    written += sprintf(expected + written, "\"}");
  }
  same = (size_t)written == len && memcmp(expected, json, len) == 0;
  if (!same)
    fprintf(stderr, "row %lld: expected %s, stored %.*s\n", (long long)id, expected, (int)len,
            (const char *)json);
  free(expected);
  return same;
}
