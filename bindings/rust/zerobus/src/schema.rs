//! A table's schema: the protobuf shape of its records without a `.proto` file or protoc.

use std::ffi::{CStr, c_char};
use std::ptr::{NonNull, null, null_mut};

use zerobus_sys as sys;

use crate::c_string;
use crate::error::{Result, call};

/// A table's schema: its name, the protobuf descriptor a stream of the table is opened with,
/// that descriptor's `.proto` source, and an encoder from JSON records to protobuf ones.
/// `docs/SCHEMAS.md` gives the Delta-to-protobuf type mapping and the JSON forms it takes.
///
/// Immutable and `Send + Sync`. Streams opened from it with
/// [`Sdk::create_stream_from_schema`](crate::Sdk::create_stream_from_schema) keep what they
/// need, so it may be dropped before them.
#[derive(Debug)]
pub struct Schema {
    raw: NonNull<sys::zb_schema>,
}

// SAFETY: zerobus.h documents a schema as immutable, usable from any number of threads at once
// except by zb_schema_destroy(), which only Drop calls.
unsafe impl Send for Schema {}
// SAFETY: as above.
unsafe impl Sync for Schema {}

impl Schema {
    /// The schema of one Delta DDL statement, such as
    /// `"main.default.events (id BIGINT NOT NULL, tags ARRAY<STRING>)"`.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a malformed
    /// statement or a type the service cannot take (the message says which column and why);
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) for a NUL byte in it.
    pub fn from_ddl(ddl: &str) -> Result<Schema> {
        let ddl = c_string("DDL", ddl)?;
        // SAFETY: the string is borrowed for the call; `raw` is an out parameter.
        Schema::build(|raw, err| unsafe { sys::zb_schema_from_ddl(ddl.as_ptr(), raw, err) })
    }

    /// The schema of a Unity Catalog table description: the JSON body of
    /// `GET /api/2.1/unity-catalog/tables/{full_name}`.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) when the text is not
    /// such a description or names a type the service cannot take.
    pub fn from_table_json(json: &str) -> Result<Schema> {
        // SAFETY: the text is borrowed for the call; `raw` is an out parameter.
        Schema::build(|raw, err| unsafe {
            sys::zb_schema_from_table_json(json.as_ptr().cast(), json.len(), raw, err)
        })
    }

    /// Runs a C constructor that fills its first argument with a new schema.
    fn build<C>(constructor: C) -> Result<Schema>
    where
        C: FnOnce(*mut *mut sys::zb_schema, *mut *mut sys::zb_error) -> sys::zb_status,
    {
        let mut raw = null_mut();
        call(|err| constructor(&mut raw, err))?;
        Ok(Schema {
            raw: NonNull::new(raw).expect("a schema constructor succeeded without a schema"),
        })
    }

    pub(crate) fn as_ptr(&self) -> *const sys::zb_schema {
        self.raw.as_ptr()
    }

    /// The table's name, `"catalog.schema.table"`.
    pub fn table_name(&self) -> &str {
        // SAFETY: the schema is live and owns the string until it is destroyed.
        unsafe { schema_str(sys::zb_schema_table_name(self.raw.as_ptr())) }
    }

    /// The serialized `google.protobuf.DescriptorProto` of the table's records.
    pub fn descriptor(&self) -> &[u8] {
        let (mut data, mut len) = (null(), 0);
        // SAFETY: the schema is live; the out parameters are valid.
        call(|err| unsafe {
            sys::zb_schema_descriptor(self.raw.as_ptr(), &mut data, &mut len, err)
        })
        .expect("a live schema has a descriptor");
        // SAFETY: the schema owns `len` bytes at `data` until it is destroyed.
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
    }

    /// The proto2 source of the descriptor, as protoc would compile it.
    pub fn proto_source(&self) -> &str {
        // SAFETY: the schema is live and owns the string until it is destroyed.
        unsafe { schema_str(sys::zb_schema_proto_source(self.raw.as_ptr())) }
    }

    /// The table's Avro writer schema (Avro JSON), as `docs/SCHEMAS.md` maps Delta types to
    /// Avro: what [`RecordFormat::Avro`](crate::RecordFormat::Avro) takes for the table, and
    /// what [`Sdk::create_avro_stream_from_schema`](crate::Sdk::create_avro_stream_from_schema)
    /// opens with.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a table with no Avro
    /// form (a MAP keyed by anything but a string; the message names the column).
    pub fn avro(&self) -> Result<&str> {
        let mut text = null();
        // SAFETY: the schema is live; `text` is an out parameter.
        call(|err| unsafe { sys::zb_schema_avro(self.raw.as_ptr(), &mut text, err) })?;
        // SAFETY: the schema owns the string until it is destroyed.
        Ok(unsafe { schema_str(text) })
    }

    /// Encodes the JSON object `json` as a protobuf record of the schema.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_RECORD`](crate::ErrorCode::INVALID_RECORD) when the record does not
    /// fit the schema (the message names the column and the reason).
    pub fn encode_json(&self, json: &str) -> Result<Vec<u8>> {
        // A record is rarely longer in protobuf than in JSON: one call is the rule, a second
        // one the exception.
        let mut record = Vec::<u8>::with_capacity(json.len());
        loop {
            let mut size = record.capacity();
            // SAFETY: the schema is live; `record` has room for `size` bytes.
            call(|err| unsafe {
                sys::zb_schema_encode_json(
                    self.raw.as_ptr(),
                    json.as_ptr().cast(),
                    json.len(),
                    record.as_mut_ptr().cast(),
                    &mut size,
                    err,
                )
            })?;
            if size <= record.capacity() {
                // SAFETY: the library wrote `size` bytes into the capacity.
                unsafe { record.set_len(size) };
                return Ok(record);
            }
            record.reserve_exact(size);
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // SAFETY: the schema is live and owned by self; streams keep their own reference.
        unsafe { sys::zb_schema_destroy(self.raw.as_ptr()) }
    }
}

/// # Safety
/// `text` is a NUL-terminated string owned by a schema that outlives the result.
unsafe fn schema_str<'a>(text: *const c_char) -> &'a str {
    // SAFETY: as the caller guarantees; the library's names and sources are ASCII, its Avro
    // schemas UTF-8.
    unsafe { CStr::from_ptr(text) }.to_str().unwrap_or_default()
}
