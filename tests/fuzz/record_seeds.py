#!/usr/bin/python3
"""Records the seed corpora of the text codecs' fuzz targets from the simulators' output.

Runs each labtrace-sim text instrument on a pseudo-terminal, asks it what the daemon
asks and makes it show its special states, and stores every reply line (without its
line end, as the codecs see it) under tests/fuzz/corpus/<target>/<sha1>.

    tests/fuzz/record_seeds.py build/tools/labtrace-sim
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import termios
import time
import tty

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def start(sim, kind, link):
    process = subprocess.Popen([sim, kind, "--link", link], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # "<kind> on /dev/pts/N linked at …"
    port = os.open(link, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(port)
    termios.tcflush(port, termios.TCIFLUSH)
    return process, port


def ask(port, command, wait=0.15):
    os.write(port, command)
    time.sleep(wait)
    received = b""
    os.set_blocking(port, False)
    try:
        while True:
            received += os.read(port, 4096)
    except BlockingIOError:
        pass
    os.set_blocking(port, True)
    return [line.rstrip(b"\r") for line in received.split(b"\n") if line]


def operate(process, text):
    process.stdin.write(text + "\n")
    process.stdin.flush()
    process.stdout.readline()


def record(target, lines):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    for line in lines:
        with open(os.path.join(folder, hashlib.sha1(line).hexdigest()), "wb") as seed:
            seed.write(line)


def main():
    sim = sys.argv[1]
    with tempfile.TemporaryDirectory() as folder:
        scpi, port = start(sim, "scpi", os.path.join(folder, "scpi"))
        lines = []
        for command in [b"*IDN?\n", b"SYST:ERR?\n", b"MEAS:VOLT:DC?\n", b"MEAS:RES?\n", b"CONF?\n", b"FOO\n",
                        b"SYST:ERR?\n"]:
            lines += ask(port, command)
        for state in ["overload", "nan", "volts -0.000001", "volts 12.5"]:
            operate(scpi, state)
            lines += ask(port, b"MEAS:VOLT:DC?\n")
        record("scpi_reply", lines)
        scpi.terminate()

        sbi, port = start(sim, "sbi", os.path.join(folder, "sbi"))
        lines = []
        for command in [b"\x1bx1_", b"\x1bx2_", b"\x1bx3_", b"\x1bP"]:
            lines += ask(port, command)
        for state in ["motion on", "motion off", "load 300", "load -1", "error 54", "error 0", "adjust on"]:
            operate(sbi, state)
            lines += ask(port, b"\x1bP")
        record("sbi_line", lines)
        sbi.terminate()

        printer, port = start(sim, "printer", os.path.join(folder, "printer"))
        lines = ask(port, b"D\r\n")
        operate(printer, "probe off")
        lines += ask(port, b"D\r\n")
        record("line_pattern", lines)
        printer.terminate()

        sics, port = start(sim, "mt-sics", os.path.join(folder, "mt-sics"))
        lines = []
        for command in [b"I2\r\n", b"I3\r\n", b"I4\r\n", b"SI\r\n", b"S\r\n", b"T\r\n", b"Z\r\n", b"XYZ\r\n"]:
            lines += ask(port, command)
        for state in ["motion on", "load 300", "load -1"]:
            operate(sics, state)
            lines += ask(port, b"SI\r\n") + ask(port, b"S\r\n")
        record("mtsics_line", lines)
        sics.terminate()


if __name__ == "__main__":
    main()
