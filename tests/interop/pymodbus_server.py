#!/usr/bin/python3
"""An independent Modbus TCP server for interoperability tests (protocols.md).

pymodbus, from Debian, holds one value of every type in every word order, each encoded by
pymodbus's own BinaryPayloadBuilder, so labtrace's decoder is checked against another
implementation rather than against itself. Registers are laid out one value after
another from holding register 0, types in the order of TYPES, each in the orders of
ORDERS; tests/integration/interop_test.cpp lays out the same map.

Prints "pymodbus listening on 127.0.0.1:PORT" once it is about to serve.
"""
import asyncio
import sys

from pymodbus.constants import Endian
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.server.async_io import ModbusTcpServer

# (name, builder method, value) — the values the C++ test expects.
TYPES = [
    ("int16", "add_16bit_int", -1234),
    ("uint16", "add_16bit_uint", 54321),
    ("int32", "add_32bit_int", -123456789),
    ("uint32", "add_32bit_uint", 3123456789),
    ("int64", "add_64bit_int", -1234567890123),
    ("uint64", "add_64bit_uint", 9876543210987),
    ("float32", "add_32bit_float", 123.456),
    ("float64", "add_64bit_float", -9876.54321),
]
# Word orders by the byte order on the wire, as protocols.md names them.
ORDERS = [
    ("ABCD", Endian.Big, Endian.Big),
    ("CDAB", Endian.Big, Endian.Little),
    ("BADC", Endian.Little, Endian.Big),
    ("DCBA", Endian.Little, Endian.Little),
]


# Then one string, high byte first (ABCD) and low byte first (BADC). pymodbus 3.0's
# add_string ignores byteorder (always high byte first), so the BADC copy swaps each
# register's bytes here.
TEXT = "LT-2026 SN0042"


def registers():
    out = []
    for _, method, value in TYPES:
        for _, byteorder, wordorder in ORDERS:
            builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
            getattr(builder, method)(value)
            out.extend(builder.to_registers())
    builder = BinaryPayloadBuilder(byteorder=Endian.Big, wordorder=Endian.Big)
    builder.add_string(TEXT)
    text = builder.to_registers()
    out.extend(text)
    out.extend(((word & 0xFF) << 8) | (word >> 8) for word in text)
    return out


async def serve():
    store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, registers()), zero_mode=True)
    context = ModbusServerContext(slaves=store, single=True)
    # Port 0, and the line printed only once the socket listens: no race with the client.
    server = ModbusTcpServer(context, address=("127.0.0.1", 0))
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"pymodbus listening on 127.0.0.1:{port}", flush=True)
    await task


if __name__ == "__main__":
    sys.exit(asyncio.run(serve()))
