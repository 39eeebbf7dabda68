"""pyarrow as the oracle for libzerobus's Arrow codec (src/arrow).

Loads the codec's test library (arrow_oracle.cc) with ctypes and checks, for batches of every
type a Delta column maps to, with nulls, slices, nested and dictionary-encoded columns:
- C Data (arrays, and streams of them) → our encoder (uncompressed, LZ4_FRAME, ZSTD) →
  pyarrow's IPC reader: equal batches;
- pyarrow's IPC writer (each compression; streams and files; dictionary-encoded columns among
  them) → our decoder: equal values, and re-encoded by us, equal batches again;
- types we do not support are refused, naming the column and the type, by both paths.

Usage: arrow_oracle_test.py LIBRARY
"""
import ctypes
import datetime
import decimal
import json
import random
import sys

import pyarrow as pa

CODECS = {0: None, 1: 'lz4', 2: 'zstd'}
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print('FAIL: ' + what, file=sys.stderr)


class Codec:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        u8p = ctypes.POINTER(ctypes.c_uint8)
        self.lib.zbt_encode_c_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                                               ctypes.POINTER(u8p),
                                               ctypes.POINTER(ctypes.c_size_t),
                                               ctypes.POINTER(ctypes.c_void_p)]
        self.lib.zbt_encode_c_stream.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                                 ctypes.POINTER(u8p),
                                                 ctypes.POINTER(ctypes.c_size_t),
                                                 ctypes.POINTER(ctypes.c_void_p)]
        self.lib.zbt_ipc_to_json.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_void_p),
                                             ctypes.POINTER(ctypes.c_void_p)]
        self.lib.zbt_ipc_reencode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                              ctypes.POINTER(u8p),
                                              ctypes.POINTER(ctypes.c_size_t),
                                              ctypes.POINTER(ctypes.c_void_p)]
        self.lib.zbt_free.argtypes = [ctypes.c_void_p]

    def _take_text(self, pointer):
        text = ctypes.string_at(pointer.value).decode()
        self.lib.zbt_free(pointer)
        return text

    def _take_bytes(self, out, size):
        data = ctypes.string_at(out, size.value)
        self.lib.zbt_free(ctypes.cast(out, ctypes.c_void_p))
        return data

    def encode_c_data(self, batch, codec):
        """Our IPC stream of `batch`, handed over as C Data; (bytes, None) or (None, error)."""
        schema = ctypes.create_string_buffer(72)  # sizeof(struct ArrowSchema)
        array = ctypes.create_string_buffer(80)   # sizeof(struct ArrowArray)
        batch._export_to_c(ctypes.addressof(array), ctypes.addressof(schema))
        out = ctypes.POINTER(ctypes.c_uint8)()
        size = ctypes.c_size_t()
        error = ctypes.c_void_p()
        result = self.lib.zbt_encode_c_data(ctypes.addressof(schema), ctypes.addressof(array),
                                            codec, ctypes.byref(out), ctypes.byref(size),
                                            ctypes.byref(error))
        # The schema is borrowed: released here, as its producer's consumer would.
        pa.Schema._import_from_c(ctypes.addressof(schema))
        release = ctypes.cast(ctypes.addressof(array) + 64, ctypes.POINTER(ctypes.c_void_p))
        check(release.contents.value is None, 'the library left the ArrowArray unreleased')
        if result != 0:
            return None, self._take_text(error)
        return self._take_bytes(out, size), None

    def encode_c_stream(self, reader, codec):
        """Our IPC stream of all of `reader`'s batches, handed over as an ArrowArrayStream."""
        stream = ctypes.create_string_buffer(40)  # sizeof(struct ArrowArrayStream)
        reader._export_to_c(ctypes.addressof(stream))
        out = ctypes.POINTER(ctypes.c_uint8)()
        size = ctypes.c_size_t()
        error = ctypes.c_void_p()
        result = self.lib.zbt_encode_c_stream(ctypes.addressof(stream), codec, ctypes.byref(out),
                                              ctypes.byref(size), ctypes.byref(error))
        release = ctypes.cast(ctypes.addressof(stream) + 24, ctypes.POINTER(ctypes.c_void_p))
        check(release.contents.value is None, 'the library left the ArrowArrayStream unreleased')
        if result != 0:
            return None, self._take_text(error)
        return self._take_bytes(out, size), None

    def to_json(self, data):
        out = ctypes.c_void_p()
        error = ctypes.c_void_p()
        if self.lib.zbt_ipc_to_json(data, len(data), ctypes.byref(out), ctypes.byref(error)):
            return None, self._take_text(error)
        return json.loads(self._take_text(out)), None

    def reencode(self, data, codec):
        out = ctypes.POINTER(ctypes.c_uint8)()
        size = ctypes.c_size_t()
        error = ctypes.c_void_p()
        if self.lib.zbt_ipc_reencode(data, len(data), codec, ctypes.byref(out),
                                     ctypes.byref(size), ctypes.byref(error)):
            return None, self._take_text(error)
        return self._take_bytes(out, size), None


EPOCH_DATE = datetime.date(1970, 1, 1)
EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def render(arrow_type, value):
    """A pyarrow value in the JSON form arrow_oracle.cc renders ours in."""
    if value is None:
        return None
    if pa.types.is_dictionary(arrow_type):
        return render(arrow_type.value_type, value)
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return value.hex()
    if pa.types.is_date32(arrow_type):
        return (value - EPOCH_DATE).days
    if pa.types.is_timestamp(arrow_type):
        epoch = EPOCH_UTC if arrow_type.tz else EPOCH
        return (value - epoch) // datetime.timedelta(microseconds=1)
    if pa.types.is_decimal(arrow_type):
        return str(int(value.scaleb(arrow_type.scale)))
    if pa.types.is_map(arrow_type):
        return [[render(arrow_type.key_type, k), render(arrow_type.item_type, v)]
                for k, v in value]
    if pa.types.is_list(arrow_type):
        return [render(arrow_type.value_type, item) for item in value]
    if pa.types.is_struct(arrow_type):
        return {arrow_type.field(i).name: render(arrow_type.field(i).type,
                                                 value[arrow_type.field(i).name])
                for i in range(arrow_type.num_fields)}
    if pa.types.is_floating(arrow_type):
        return float(value)
    return value


def rendered_rows(batch):
    columns = [[render(batch.schema.field(c).type, v) for v in batch.column(c).to_pylist()]
               for c in range(batch.num_columns)]
    return [list(row) for row in zip(*columns)] if columns else []


def maybe(rng, make):
    return None if rng.random() < 0.2 else make()


def text(rng):
    return ''.join(rng.choice('abcdé漢z ') for _ in range(rng.randrange(0, 12)))


def sample_batch(rows, seed):
    rng = random.Random(seed)
    day = datetime.timedelta(days=1)
    micro = datetime.timedelta(microseconds=1)

    def ints(bits):
        return [maybe(rng, lambda: rng.randrange(-2 ** (bits - 1), 2 ** (bits - 1)))
                for _ in range(rows)]

    def timestamps(tz):
        zone = datetime.timezone.utc if tz else None
        base = datetime.datetime(2026, 12, 6, tzinfo=zone)
        return pa.array([maybe(rng, lambda: base + rng.randrange(-10 ** 12, 10 ** 12) * micro)
                         for _ in range(rows)], pa.timestamp('us', tz=tz))

    struct_type = pa.struct([('a', pa.int32()), ('b', pa.string()),
                             ('c', pa.list_(pa.float64()))])
    columns = {
        'flag': pa.array([maybe(rng, lambda: rng.random() < 0.5) for _ in range(rows)],
                         pa.bool_()),
        'i8': pa.array(ints(8), pa.int8()),
        'i16': pa.array(ints(16), pa.int16()),
        'i32': pa.array(ints(32), pa.int32()),
        'i64': pa.array(ints(64), pa.int64()),
        'f32': pa.array([maybe(rng, lambda: rng.uniform(-1e6, 1e6)) for _ in range(rows)],
                        pa.float32()),
        'f64': pa.array([maybe(rng, lambda: rng.uniform(-1e300, 1e300)) for _ in range(rows)],
                        pa.float64()),
        'name': pa.array([maybe(rng, lambda: text(rng)) for _ in range(rows)], pa.string()),
        'long_name': pa.array([maybe(rng, lambda: text(rng)) for _ in range(rows)],
                              pa.large_string()),
        'blob': pa.array([maybe(rng, lambda: rng.randbytes(rng.randrange(0, 9)))
                          for _ in range(rows)], pa.binary()),
        'long_blob': pa.array([maybe(rng, lambda: rng.randbytes(rng.randrange(0, 9)))
                               for _ in range(rows)], pa.large_binary()),
        'day': pa.array([maybe(rng, lambda: EPOCH_DATE + rng.randrange(-40000, 40000) * day)
                         for _ in range(rows)], pa.date32()),
        'ts_ntz': timestamps(None),
        'ts_utc': timestamps('UTC'),
        'ts_zone': pa.array(timestamps('UTC').to_pylist(), pa.timestamp('us', tz='Europe/Paris')),
        'price': pa.array([maybe(rng, lambda: decimal.Decimal(rng.randrange(-10 ** 9, 10 ** 9))
                                 .scaleb(-2)) for _ in range(rows)], pa.decimal128(10, 2)),
        'wide': pa.array([maybe(rng, lambda: decimal.Decimal(rng.randrange(-10 ** 37, 10 ** 37))
                                .scaleb(-10)) for _ in range(rows)], pa.decimal128(38, 10)),
        'tags': pa.array([maybe(rng, lambda: [maybe(rng, lambda: text(rng))
                                              for _ in range(rng.randrange(0, 4))])
                          for _ in range(rows)], pa.list_(pa.string())),
        'point': pa.array([maybe(rng, lambda: {'a': maybe(rng, lambda: rng.randrange(100)),
                                               'b': maybe(rng, lambda: text(rng)),
                                               'c': maybe(rng, lambda: [rng.random()] * rng.randrange(3))})
                           for _ in range(rows)], struct_type),
        'attrs': pa.array([maybe(rng, lambda: [(text(rng), maybe(rng, lambda: rng.randrange(10 ** 12)))
                                               for _ in range(rng.randrange(0, 4))])
                           for _ in range(rows)], pa.map_(pa.string(), pa.int64())),
        'points': pa.array([maybe(rng, lambda: [maybe(rng, lambda: {'a': 1, 'b': text(rng), 'c': []})
                                                for _ in range(rng.randrange(0, 3))])
                            for _ in range(rows)], pa.list_(struct_type)),
        'groups': pa.array([maybe(rng, lambda: [('k%d' % i, [rng.randrange(9)] * rng.randrange(3))
                                                for i in range(rng.randrange(0, 3))])
                            for _ in range(rows)], pa.map_(pa.string(), pa.list_(pa.int32()))),
    }
    return pa.RecordBatch.from_pydict(columns)


def with_dictionaries(batch, seed):
    rng = random.Random(seed)
    rows = batch.num_rows
    colours = pa.array(['red', 'green', None, 'blue'])
    indices = pa.array([maybe(rng, lambda: rng.randrange(4)) for _ in range(rows)], pa.int32())
    small = pa.array([maybe(rng, lambda: rng.randrange(3)) for _ in range(rows)], pa.int8())
    nested = pa.array([[1, 2], None, [], [3]], pa.list_(pa.int64()))
    nested_indices = pa.array([maybe(rng, lambda: rng.randrange(4)) for _ in range(rows)],
                              pa.uint16())
    # Dictionaries inside a list and a struct: each list holds two codes.
    inner = pa.DictionaryArray.from_arrays(
        pa.array([maybe(rng, lambda: rng.randrange(3)) for _ in range(2 * rows)], pa.int16()),
        pa.array(['x', 'y', 'z']))
    listed = pa.ListArray.from_arrays(pa.array(range(0, 2 * rows + 1, 2), pa.int32()), inner)
    inside = pa.StructArray.from_arrays([inner.slice(rows), pa.array(range(rows), pa.int64())],
                                        names=['code', 'n'])
    return pa.RecordBatch.from_arrays(
        batch.columns + [pa.DictionaryArray.from_arrays(indices, colours),
                         pa.DictionaryArray.from_arrays(small, pa.array([7, -7, 2 ** 40])),
                         pa.DictionaryArray.from_arrays(nested_indices, nested), listed, inside],
        names=batch.schema.names + ['colour', 'code', 'nested', 'codes', 'coded'])


def expanded(arrow_type):
    """`arrow_type` with every dictionary replaced by its values' type."""
    if pa.types.is_dictionary(arrow_type):
        return expanded(arrow_type.value_type)
    if pa.types.is_list(arrow_type):
        return pa.list_(pa.field(arrow_type.value_field.name, expanded(arrow_type.value_type)))
    if pa.types.is_struct(arrow_type):
        return pa.struct([pa.field(f.name, expanded(f.type), f.nullable) for f in arrow_type])
    return arrow_type


def decoded(batch):
    """`batch` with its dictionaries expanded, at every level: what our import makes of it."""
    columns = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c.cast(expanded(c.type))
               for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def read_stream(data):
    reader = pa.ipc.open_stream(data)
    return reader.read_all()


def pyarrow_stream(batches, compression):
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, batches[0].schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def pyarrow_file(batches, compression):
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_file(sink, batches[0].schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def main():
    codec = Codec(sys.argv[1])
    base = sample_batch(1000, seed=22)
    full = with_dictionaries(base, seed=23)
    slices = {'whole': (0, full.num_rows), 'from 3': (3, 500), 'one at 7': (7, 1),
              'empty': (11, 0), 'tail': (992, 8)}
    checks = 0
    # C Data in, our IPC out, pyarrow reads it back.
    for label, (start, length) in slices.items():
        batch = full.slice(start, length)
        expected = decoded(batch)
        for number, name in CODECS.items():
            data, error = codec.encode_c_data(batch, number)
            check(error is None, 'C Data %s, %s: refused: %s' % (label, name, error))
            if data is None:
                continue
            got = read_stream(data)
            check(got.schema.equals(expected.schema),
                  'C Data %s, %s: schema %s, expected %s' % (label, name, got.schema,
                                                               expected.schema))
            check(got.equals(pa.Table.from_batches([expected])),
                  'C Data %s, %s: the batch read back differs' % (label, name))
            checks += 1
    # An ArrowArrayStream of several batches (slices among them), read to its end.
    parts = [full.slice(0, 300), full.slice(300, 1), full.slice(301, 0), full.slice(301, 699)]
    for number, name in CODECS.items():
        reader = pa.RecordBatchReader.from_batches(full.schema, parts)
        data, error = codec.encode_c_stream(reader, number)
        check(error is None, 'C stream, %s: refused: %s' % (name, error))
        if data is not None:
            check(read_stream(data).equals(pa.Table.from_batches([decoded(p) for p in parts])),
                  'C stream, %s: the batches read back differ' % name)
            checks += 1
    # pyarrow's IPC in (several batches per stream), our decoder's values out, and our
    # re-encoding read back by pyarrow.
    batches = [base.slice(0, 400), base.slice(400, 1), base.slice(401, 599)]
    expected_rows = [rendered_rows(b) for b in batches]
    for compression in CODECS.values():
        data = pyarrow_stream(batches, compression)
        values, error = codec.to_json(pyarrow_file(batches, compression))
        check(error is None and values['batches'] == expected_rows,
              'pyarrow IPC file, %s: %s' % (compression, error or 'other values'))
        values, error = codec.to_json(data)
        check(error is None, 'pyarrow IPC, %s: refused: %s' % (compression, error))
        if values is not None:
            check([f[0] for f in values['schema']] == base.schema.names,
                  'pyarrow IPC, %s: column names %s' % (compression, values['schema']))
            check([str(base.schema.field(i).type) for i in range(base.num_columns)] ==
                  [f[1] for f in values['schema']],
                  'pyarrow IPC, %s: types %s' % (compression, values['schema']))
            for number, rows in enumerate(expected_rows):
                check(values['batches'][number] == rows,
                      'pyarrow IPC, %s: batch %d decoded to other values' % (compression, number))
        for number, name in CODECS.items():
            again, error = codec.reencode(data, number)
            check(error is None, 're-encoding, %s → %s: %s' % (compression, name, error))
            if again is not None:
                check(read_stream(again).equals(pa.Table.from_batches(batches)),
                      're-encoding, %s → %s: differs' % (compression, name))
        checks += 1
    # pyarrow's dictionary-encoded columns in IPC (at top level, in a list, in a struct), with a
    # dictionary replaced between batches, decode to their values.
    encoded = full.drop_columns(['nested'])
    dictionary_batches = [encoded.slice(0, 500), encoded.slice(500, 500)]
    replaced = [pa.RecordBatch.from_arrays(
        [pa.DictionaryArray.from_arrays(pa.array(indices), pa.array(values))], names=['word'])
        for indices, values in (([0, 1, None], ['p', 'q']), ([2, 0], ['r', 's', 't']))]
    for compression in CODECS.values():
        for label, write, batches_in in (
                ('stream', pyarrow_stream, dictionary_batches),
                ('file', pyarrow_file, dictionary_batches),
                ('replaced', pyarrow_stream, replaced)):
            values, error = codec.to_json(write(batches_in, compression))
            check(error is None, 'dictionaries, %s, %s: refused: %s' % (label, compression, error))
            if values is not None:
                check([f[1] for f in values['schema']] ==
                      [str(expanded(f.type)) for f in batches_in[0].schema],
                      'dictionaries, %s, %s: types %s' % (label, compression, values['schema']))
                check(values['batches'] == [rendered_rows(b) for b in batches_in],
                      'dictionaries, %s, %s: other values' % (label, compression))
                checks += 1
    _, error = codec.to_json(pyarrow_stream([full.select(['nested'])], None))
    check(error is not None and "'nested'" in error and 'dictionary of list' in error,
          'IPC dictionary of lists: refused as %r' % error)
    # A small message that would expand past the decoder's budget (256 MiB) is refused.
    bomb = pa.DictionaryArray.from_arrays(pa.array([0] * 1000, pa.int8()), pa.array(['x' * 300000]))
    _, error = codec.to_json(pyarrow_stream([pa.RecordBatch.from_arrays([bomb], names=['b'])],
                                            'zstd'))
    check(error is not None and "'b'" in error and "beyond the message's limit" in error,
          'IPC dictionary of 300 MB expanded: refused as %r' % error)
    sink = pa.BufferOutputStream()
    first = pa.DictionaryArray.from_arrays(pa.array([0]), pa.array(['a']))
    grown = pa.DictionaryArray.from_arrays(pa.array([1]), pa.array(['a', 'b']))
    with pa.ipc.new_stream(sink, pa.schema([('d', first.type)]),
                           options=pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True)) as writer:
        writer.write_batch(pa.RecordBatch.from_arrays([first], names=['d']))
        writer.write_batch(pa.RecordBatch.from_arrays([grown], names=['d']))
    _, error = codec.to_json(sink.getvalue().to_pybytes())
    check(error is not None and "'d'" in error and 'delta' in error,
          'IPC delta dictionary: refused as %r' % error)
    # Refusals name the column and the type.
    unsigned = pa.RecordBatch.from_pydict({'ok': pa.array([1], pa.int32()),
                                           'counter': pa.array([1], pa.uint32())})
    _, error = codec.encode_c_data(unsigned, 0)
    check(error is not None and "'counter'" in error and 'uint32' in error,
          'C Data uint32: refused as %r' % error)
    _, error = codec.to_json(pyarrow_stream([unsigned], None))
    check(error is not None and "'counter'" in error and 'uint32' in error,
          'IPC uint32: refused as %r' % error)
    nanos = pa.RecordBatch.from_pydict({'at': pa.array([1], pa.timestamp('ns'))})
    _, error = codec.encode_c_data(nanos, 0)
    check(error is not None and "'at'" in error and 'timestamp[ns]' in error,
          'C Data timestamp[ns]: refused as %r' % error)
    nested = pa.RecordBatch.from_pydict({'s': pa.array([{'inner': 1}],
                                                        pa.struct([('inner', pa.uint8())]))})
    _, error = codec.to_json(pyarrow_stream([nested], None))
    check(error is not None and "'s.inner'" in error and 'uint8' in error,
          'IPC nested uint8: refused as %r' % error)
    if failures:
        print('arrow oracle: %d of the checks failed' % len(failures), file=sys.stderr)
        return 1
    print('arrow oracle: %d encodings and decodings agree with pyarrow %s; refusals name the '
          'column and the type' % (checks, pa.__version__))
    return 0


if __name__ == '__main__':
    sys.exit(main())
