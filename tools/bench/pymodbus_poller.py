#!/usr/bin/python3
"""What a lab would otherwise script: a Modbus TCP poller on python3-pymodbus (Debian).

Polls N devices round-robin, each with one 10-register read, for a number of seconds,
and prints one JSON object with the transactions made and the CPU seconds this process
spent making them (time.process_time, user + system), for labtrace-bench modbus-tcp.
"""
import argparse
import json
import time

from pymodbus.client import ModbusTcpClient

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--devices", type=int, default=200)
parser.add_argument("--registers", type=int, default=10)
parser.add_argument("--seconds", type=float, default=10)
args = parser.parse_args()

clients = [ModbusTcpClient(args.host, port=args.port) for _ in range(args.devices)]
for client in clients:
    client.connect()

transactions = failed = 0
cpu_start, wall_start = time.process_time(), time.monotonic()
while time.monotonic() - wall_start < args.seconds:
    for client in clients:
        reply = client.read_holding_registers(0, args.registers, slave=1)
        if reply.isError():
            failed += 1
        else:
            transactions += 1
cpu = time.process_time() - cpu_start
wall = time.monotonic() - wall_start
for client in clients:
    client.close()
print(json.dumps({"transactions": transactions, "failed": failed, "cpu_s": cpu, "wall_s": wall}))
