"""The official Python SDK's API (databricks-zerobus-ingest-sdk: the package `zerobus`) over
libzerobus, so that a producer written for it switches by changing its imports:

    official                        libzerobus
    zerobus, zerobus.sdk            libzerobus.compat
    zerobus.sdk.sync                libzerobus.compat.sync
    zerobus.sdk.aio                 libzerobus.compat.aio
    zerobus.sdk.shared              libzerobus.compat.shared

The names, arguments, defaults and offsets (one per ingest call) are the official SDK's; the
records are delivered by libzerobus. Not here yet: Avro and token federation (auth=). The
tests run the official SDK's documented usage patterns through both SDKs against zerobus serve
and compare what they print and store."""

from .shared import (
    AckCallback,
    ArrowStreamConfigurationOptions,
    HeadersProvider,
    IPCCompression,
    NonRetriableException,
    RecordType,
    StreamConfigurationOptions,
    TableProperties,
    ZerobusException,
)
from .sync import RecordAcknowledgment, ZerobusArrowStream, ZerobusSdk, ZerobusStream

__all__ = [
    "AckCallback",
    "ArrowStreamConfigurationOptions",
    "HeadersProvider",
    "IPCCompression",
    "NonRetriableException",
    "RecordAcknowledgment",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusArrowStream",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]
