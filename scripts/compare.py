#!/usr/bin/env python3
"""Compare `hs-tui -T fields` with tshark's stored answers, field by field.
Usage: scripts/compare.py [BIN] [CAPTURE_DIR]   (prints disagreements per capture)"""
import subprocess, sys, os, collections
BIN = sys.argv[1] if len(sys.argv) > 1 else 'target/debug/hs-tui'
CAP = sys.argv[2] if len(sys.argv) > 2 else 'tests/conformance'
FIELDS = ['tcp.stream','tcp.seq','tcp.ack','tcp.nxtseq','tcp.len','tcp.flags','tcp.completeness','tcp.analysis.initial_rtt',
          'tcp.window_size','tcp.window_size_scalefactor','tcp.analysis.ack_rtt','tcp.analysis.acks_frame','tcp.analysis.bytes_in_flight',
          'tcp.time_relative','tcp.time_delta','tcp.seq_raw','tcp.ack_raw',
          'tcp.analysis.retransmission','tcp.analysis.fast_retransmission','tcp.analysis.spurious_retransmission','tcp.analysis.out_of_order',
          'tcp.analysis.lost_segment','tcp.analysis.ack_lost_segment','tcp.analysis.duplicate_ack','tcp.analysis.duplicate_ack_num','tcp.analysis.duplicate_ack_frame',
          'tcp.analysis.zero_window','tcp.analysis.zero_window_probe','tcp.analysis.zero_window_probe_ack','tcp.analysis.keep_alive',
          'tcp.analysis.keep_alive_ack','tcp.analysis.reused_ports','tcp.analysis.window_update','tcp.analysis.window_full','tcp.options.mss_val','tcp.options.sack_perm']
tot = collections.Counter(); bad = collections.Counter()
for f in sorted(os.listdir(CAP)):
    if not (f.endswith('.pcap') or f.endswith('.pcapng')): continue
    stem = f.rsplit('.',1)[0]
    exp_path = f'{CAP}/expected/{stem}.packets.tsv'
    rows = open(exp_path).read().splitlines()
    hdr = rows[0].split('\t'); exp = {}
    for r in rows[1:]:
        c = r.split('\t'); d = dict(zip(hdr, c)); exp[d['frame.number']] = d
    args = [BIN, '-r', f'{CAP}/{f}', '-T', 'fields', '-e', 'frame.number'] + sum([['-e', x] for x in FIELDS], [])
    p = subprocess.run(args, capture_output=True, text=True)
    got = {}
    for line in p.stdout.splitlines():
        c = line.split('\t'); got[c[0]] = dict(zip(FIELDS, c[1:]))
    msgs = []
    for num, e in exp.items():
        g = got.get(num)
        for fld in FIELDS:
            if fld not in e: continue
            tot[fld] += 1
            gv = g.get(fld, '<missing>') if g else '<no row>'
            if gv != e[fld]:
                bad[fld] += 1
                if len(msgs) < 8: msgs.append(f'  #{num} {fld}: want {e[fld]!r} got {gv!r}')
    if msgs or p.returncode not in (0,):
        print(f'{f}: exit {p.returncode} {p.stderr.strip()[:200]}')
        print('\n'.join(msgs))
print('\nfield                                   total   bad    agree')
for fld in FIELDS:
    if tot[fld]: print(f'{fld:40s} {tot[fld]:6d} {bad[fld]:5d}  {100*(1-bad[fld]/tot[fld]):7.3f}%')
