#!/usr/bin/env python3
"""Write follow-crafted.pcap: TCP streams that exercise Follow TCP Stream's
corner cases (no network I/O). Usage: python3 make-follow-scenarios.py OUTDIR

Streams (tcp.stream):
 0  out-of-order segments, binary payload (every byte value), a retransmission
    that carries more than the original, data on the FIN, server data after it
 1  SYN carrying data (TFO-like), then ordinary data
 2  a segment never captured, acknowledged by the peer ("bytes missing")
 3  IPv6, server segments out of order
 4  a data frame cut by the snaplen (captured bytes < tcp.len)
 5  mid-stream start (no handshake), retransmission, 1-byte keep-alive
 6  held fragment with an ACK that only partly covers the gap
 7, 8  the same port pair reused with a new ISN (address follow merges both)
"""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "scen", os.path.join(here, "..", "conformance", "semantics-scenarios.py"))
scen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scen)
Conn, write, T = scen.Conn, scen.write, scen.T

pk = []
t = [T]


def add(frame, cap=None):
    t[0] += 0.001
    pk.append((t[0], frame) if cap is None else (t[0], frame, cap))


# 0: out of order, binary, overlapping retransmission, data on FIN, data after FIN
c = Conn(cport=40000)
add(c.c(100, 0, 'S')); add(c.s(900, 101, 'SA')); add(c.c(101, 901, 'A'))
add(c.c(101, 901, 'PA', payload=b'AAAA'))
add(c.c(109, 901, 'PA', payload=b'CCCC'))        # ahead of a gap
add(c.c(105, 901, 'PA', payload=b'BBBB'))        # fills it
add(c.s(901, 113, 'PA', payload=bytes(range(256))))
add(c.c(101, 1157, 'PA', payload=b'AAAABBBBCCCCDDDD'))  # retransmission with 4 new bytes
add(c.c(117, 1157, 'FPA', payload=b'EEEE\r\n'))  # data on the FIN
add(c.s(1157, 124, 'PA', payload=b'after the client FIN\x1b[2J\x07\t\x00end'))
add(c.s(1157 + 27, 124, 'FA')); add(c.c(124, 1157 + 28, 'A'))

# 1: SYN with data
c = Conn(cport=40001)
add(c.c(5000, 0, 'S', payload=b'data-on-syn')); add(c.s(7000, 5012, 'SA'))
add(c.c(5012, 7001, 'PA', payload=b'next')); add(c.s(7001, 5016, 'PA', payload=b'ok'))

# 2: a segment never captured, then acknowledged
c = Conn(cport=40002)
add(c.c(1, 0, 'S')); add(c.s(1, 2, 'SA')); add(c.c(2, 2, 'A'))
add(c.c(2, 2, 'PA', payload=b'1111'))
add(c.c(10, 2, 'PA', payload=b'3333'))           # 6..10 was lost
add(c.s(2, 14, 'A'))                              # acked past the gap
add(c.s(2, 14, 'PA', payload=b'reply'))
add(c.c(14, 7, 'PA', payload=b'4444'))

# 3: IPv6, server out of order
c = Conn(cip='2001:db8::1', sip='2001:db8::2', cport=40003, v6=True)
add(c.c(10, 0, 'S')); add(c.s(20, 11, 'SA')); add(c.c(11, 21, 'A'))
add(c.c(11, 21, 'PA', payload=b'GET /v6\r\n'))
add(c.s(26, 20, 'PA', payload=b'world'))
add(c.s(21, 20, 'PA', payload=b'hello'))
add(c.c(20, 31, 'A'))

# 4: snaplen cut
c = Conn(cport=40004)
add(c.c(1, 0, 'S')); add(c.s(1, 2, 'SA')); add(c.c(2, 2, 'A'))
f = c.c(2, 2, 'PA', payload=b'0123456789' * 10)
add(f, cap=len(f) - 60)
add(c.c(102, 2, 'PA', payload=b'tail'))

# 5: mid-stream, retransmission, keep-alive
c = Conn(cport=40005)
add(c.c(3000, 4000, 'PA', payload=b'mid-stream'))
add(c.s(4000, 3010, 'PA', payload=b'answer'))
add(c.c(3000, 4006, 'PA', payload=b'mid-stream'))  # plain retransmission
add(c.c(3009, 4006, 'A', payload=b'm'))            # keep-alive byte
add(c.c(3010, 4006, 'PA', payload=b'more'))

# 6: two holes; an ACK covering only the first
c = Conn(cport=40006)
add(c.c(1, 0, 'S')); add(c.s(1, 2, 'SA')); add(c.c(2, 2, 'A'))
add(c.c(2, 2, 'PA', payload=b'aa'))
add(c.c(8, 2, 'PA', payload=b'cc'))              # 4..8 missing
add(c.c(14, 2, 'PA', payload=b'ee'))             # 10..14 missing
add(c.s(2, 10, 'A'))                              # acks through cc
add(c.c(10, 2, 'PA', payload=b'dddd'))           # fills the second hole
add(c.s(2, 16, 'A'))

# 7, 8: port reuse
c = Conn(cport=40007)
add(c.c(100, 0, 'S')); add(c.s(200, 101, 'SA')); add(c.c(101, 201, 'A'))
add(c.c(101, 201, 'PA', payload=b'first'))
add(c.c(106, 201, 'FA')); add(c.s(201, 107, 'FA')); add(c.c(107, 202, 'A'))
add(c.c(9000, 0, 'S')); add(c.s(8000, 9001, 'SA')); add(c.c(9001, 8001, 'A'))
add(c.c(9001, 8001, 'PA', payload=b'second'))
add(c.s(8001, 9007, 'PA', payload=b'reply2'))

out = sys.argv[1] if len(sys.argv) > 1 else '.'
write(os.path.join(out, 'follow-crafted.pcap'), pk)
