#!/usr/bin/python3
"""Writes the seed corpus of the result-file fuzz target (tests/fuzz/result_file_fuzz.cpp).

Each seed is one byte choosing the layout (0: comma, decimal point, columns time/value/
sample; 1: the demo lab's moisture analyser, semicolon and decimal comma, Vietnamese
headers; 2: tab, fractions of a second, an instrument column) and then a file: good
files as instrument software writes them, and each way a file is refused. Stored under
tests/fuzz/corpus/result_file/<sha1>.

    tests/fuzz/result_file_seeds.py
"""
import hashlib
import os

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "result_file")

COMMA = [
    "time,value,sample\n2026-11-25 08:14:05,12.84,M-1\n",
    "time,value,sample\r\n2026-11-25 08:14:05,12.84,M-1\r\n2026-11-25 08:15:00,-0.5,M-2\r\n",
    "sample,value,time,note\nM-1,1.5E-3,2026-01-31 23:59:59,\"a, b\"\n",
    "\ufefftime,value,sample\n2026-11-25 08:14:05,+100.00012,\"M \"\"7\"\"\"\n",
    "time,value,sample\n2024-02-29 00:00:00,0,M-1\n",
    "time,value,sample\n2026-11-25 8:4:5,1,M-1\n\n\n",
    "time,value,sample\n\"2026-11-25 08:14:05\",\" 3.25 \",\"multi\nline\"\n",
    " time , value ,sample\n2026-11-25 08:14:05, 7 ,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,12.84,M-1",
    # refused
    "",
    "\n\n",
    "time,value,sample\n",
    "time,value\n2026-11-25 08:14:05,12.84\n",
    "time,value,sample,value\n2026-11-25 08:14:05,1,M,2\n",
    "time,value,sample\n2026-11-25 08:14:05,12.84\n",
    "time,value,sample\n2026-11-25 08:14:05,12.84,M-1,extra\n",
    "time,value,sample\n2026-11-25 08:14:05,12,84,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,nan,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,inf,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,1e999,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,0x10,M-1\n",
    "time,value,sample\n2025-02-29 00:00:00,1,M-1\n",
    "time,value,sample\n2026-13-01 00:00:00,1,M-1\n",
    "time,value,sample\n2026-11-25 24:00:00,1,M-1\n",
    "time,value,sample\n1969-12-31 23:59:59,1,M-1\n",
    "time,value,sample\n2026-11-25T08:14:05,1,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05 ,1,M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,1,\n",
    "time,value,sample\n2026-11-25 08:14:05,1,\"M-1\n",
    "time,value,sample\n2026-11-25 08:14:05,1,\"M\"1\n",
    "time,value,sample\n2026-11-25 08:14:05,1,M\"1\n",
    "time,value,sample\n2026-11-25 08:14:05,1,M\r1\n",
    "time,value,sample\n2026-11-25 08:14:05,1,M\x001\n",
]
SEMICOLON = [
    "\ufeffNgày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g);Ghi chú\r\n"
    "25/11/2026 08:14:05;M-2026-0117;12,84;5,0021;\r\n"
    "25/11/2026 08:31:47;M-2026-0117;12,79;5,0008;\"lặp lại; mẫu 2\"\r\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n1/2/2026 7:05:00;M-1;9,5;4,9987\n",
    "Khối lượng đầu (g);Độ ẩm (%);Mã mẫu;Ngày giờ\n-0,001;100;M-9;31/12/2026 23:59:59\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n25/11/2026 08:14:05;M-1;1,5E+02;5\n",
    # refused
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n25/11/2026 08:14:05;M-1;12.84;5,0021\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%)\n25/11/2026 08:14:05;M-1;12,84\n",
    "Ngay gio;Ma mau;Do am (%);Khoi luong dau (g)\n25/11/2026 08:14:05;M-1;12,84;5\n",
    "Ngày giờ,Mã mẫu,Độ ẩm (%),Khối lượng đầu (g)\n25/11/2026 08:14:05,M-1,12,84,5\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n2026-11-25 08:14:05;M-1;12,84;5\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n31/11/2026 08:14:05;M-1;12,84;5\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n25/11/2026 08:14:05;M-1;12,,84;5\n",
    "Ngày giờ;Mã mẫu;Độ ẩm (%);Khối lượng đầu (g)\n25/11/2026 08:14:05;;12,84;5\n",
]
TAB = [
    "t\ta\tb\tinstrument\n2026-11-25T08:14:05.5\t1.0\t2.00\tdmm-1\n",
    "instrument\tt\tb\ta\n\"dmm-1\"\t2026-11-25T08:14:05.123456789\t-1E-6\t0.000\n",
    "t\ta\tb\tinstrument\n2026-11-25T08:14:05.000000001\t1\t2\tx\n2026-11-25T08:14:06.1\t3\t4\ty\n",
    # refused
    "t\ta\tb\tinstrument\n2026-11-25T08:14:05\t1\t2\tdmm-1\n",
    "t\ta\tb\tinstrument\n2026-11-25T08:14:05.1234567890\t1\t2\tdmm-1\n",
    "t,a,b,instrument\n2026-11-25T08:14:05.5,1,2,dmm-1\n",
    "t\ta\tb\tinstrument\n2026-11-25T08:14:05.5\t1\t2\n",
]
BYTES = [
    (0, b"time,value,sample\n2026-11-25 08:14:05,1,M\xff1\n"),
    (0, b"time,value,sample\n2026-11-25 08:14:05,1,M\xc0\xaf\n"),
    (0, b"time,value,sample\n2026-11-25 08:14:05,1,M\xed\xa0\x80\n"),
    (0, b"time,value,sample\n2026-11-25 08:14:05,1,M\xf4\x90\x80\x80\n"),
    (0, b"time,value,sample\n2026-11-25 08:14:05,1,M\xe1\xbb\n"),
    (1, b"Ng\xe0y gi\xf2;M\xe3 m\xe3u;\xd0\xe9 \xe2m (%);Kh\xf4i\n"),
    (0, b"\xef\xbb\xbf"),
]


def main():
    os.makedirs(CORPUS, exist_ok=True)
    seeds = [bytes([0]) + f.encode() for f in COMMA] + [bytes([1]) + f.encode() for f in SEMICOLON]
    seeds += [bytes([2]) + f.encode() for f in TAB] + [bytes([layout]) + f for layout, f in BYTES]
    for seed in seeds:
        with open(os.path.join(CORPUS, hashlib.sha1(seed).hexdigest()), "wb") as out:
            out.write(seed)
    print(f"{len(seeds)} seeds in {CORPUS}")


if __name__ == "__main__":
    main()
