#!/usr/bin/env python3
"""Throughput and memory benchmark, all tools measured in the same run on the same files.

  scripts/bench.py [--packets N] [--flood N]

Makes (once, in bench-data/):
  flows-N.pcap   N packets of complete TCP connections (handshake, data both ways, FIN close),
                 512 connections interleaved at a time, Ethernet/IPv4, as a busy server sees them;
  synflood-N.pcap N half-open SYNs from distinct source ports/addresses to one server port.
Times (best of --rounds interleaved rounds, file in the page cache; tshark once):
  bare     examples/bare_loop: the pcap crate's next_packet and nothing else
  hs-tui   hs-tui -r F -T fields -e tcp.stream -e tcp.seq -e tcp.ack > /dev/null
  hs-tui-q hs-tui -r F -q                  (decode + track + analysis, summary only)
  no-anal  hs-tui -r F -q -o tcp.analyze_sequence_numbers:FALSE   (tracking without analysis)
  filter   hs-tui -r F -q -Y '<5 clauses>'  (when the build has display filters)
  tshark   tshark -r F -T fields -e tcp.stream -e tcp.seq -e tcp.ack > /dev/null
and the peak RSS of hs-tui -r synflood -q. Prints packets/s and ratios.
"""
import argparse, os, resource, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'bench-data')
TARGET = os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target'))
HS = os.path.join(TARGET, 'release/hs-tui')
BARE = os.path.join(TARGET, 'release/examples/bare_loop')


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


ETH = b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00'


def frame(src, dst, sp, dp, seq, ack, flags, payload=b'', opts=b''):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq & 0xffffffff, ack & 0xffffffff, (20 + len(opts)) // 4 << 4, flags, 502, 0, 0) + opts + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ETH + ip + tcp


def write_pcap(path, frames):
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in frames:
            f.write(struct.pack('<IIII', int(ts), int((ts % 1) * 1e6), len(fr), len(fr)) + fr)
    os.replace(path + '.tmp', path)


def gen_flows(path, n):
    SYNOPT = b'\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07'
    server = bytes([10, 0, 0, 1])
    data_c = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
    data_s = b'x' * 400

    def conn(i, t):
        cli = bytes([10, 1, (i >> 8) & 255, i & 255])
        sp = 1024 + i % 60000
        c, s = (i * 7919) & 0xffffffff, (i * 104729) & 0xffffffff
        pk = [(cli, server, sp, 80, c, 0, 0x02, b'', SYNOPT), (server, cli, 80, sp, s, c + 1, 0x12, b'', SYNOPT),
              (cli, server, sp, 80, c + 1, s + 1, 0x10, b'', b''), (cli, server, sp, 80, c + 1, s + 1, 0x18, data_c, b'')]
        so, co = s + 1, c + 1 + len(data_c)
        for _ in range(2):
            pk.append((server, cli, 80, sp, so, co, 0x10, data_s, b'')); so += len(data_s)
            pk.append((cli, server, sp, 80, co, so, 0x10, b'', b''))
        pk += [(server, cli, 80, sp, so, co, 0x11, b'', b''), (cli, server, sp, 80, co, so + 1, 0x11, b'', b''),
               (server, cli, 80, sp, so + 1, co + 1, 0x10, b'', b'')]
        return [frame(*p) for p in pk]

    out, active, i, t = [], [], 0, 1700000000.0
    while len(out) < n:
        while len(active) < 512:
            active.append(conn(i, t)); i += 1
        k = (len(out) * 2654435761) % len(active)
        out.append((t, active[k].pop(0))); t += 0.00001
        if not active[k]:
            active.pop(k)
    write_pcap(path, out)


def gen_flood(path, n):
    server = bytes([10, 0, 0, 1])
    write_pcap(path, ((1700000000.0 + i * 1e-6, frame(bytes([10, 2 + (i >> 24 & 63), i >> 16 & 255, i >> 8 & 255]), server, 1024 + i % 60000, 80, i * 2654435761, 0, 0x02)) for i in range(n)))


def once(cmd, stdout=subprocess.DEVNULL):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE)
    t = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f'{cmd[0]} failed: {p.stderr.decode()[:300]}')
    return t


def best(cmd, runs=7):
    return min(once(cmd) for _ in range(runs))


def best_interleaved(rows, rounds):
    """Round-robin over the commands, best time of each: a noisy neighbour slows every
    command alike instead of whichever one happened to be running."""
    res = {}
    for _ in range(rounds):
        for name, cmd in rows:
            t = once(cmd)
            res[name] = min(res.get(name, t), t)
    return res


def peak_rss_mb(cmd):
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)
        os.execv(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--packets', type=int, default=1_000_000)
    ap.add_argument('--flood', type=int, default=1_000_000)
    ap.add_argument('--no-tshark', action='store_true')
    ap.add_argument('--rounds', type=int, default=15, help='interleaved rounds; each command keeps its best')
    a = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    subprocess.run(['cargo', 'build', '--release', '--quiet', '--bin', 'hs-tui', '--example', 'bare_loop'], cwd=ROOT, check=True)
    flows = os.path.join(DATA, f'flows-{a.packets}.pcap')
    flood = os.path.join(DATA, f'synflood-{a.flood}.pcap')
    if not os.path.exists(flows):
        print(f'generating {flows} ...', flush=True); gen_flows(flows, a.packets)
    if not os.path.exists(flood):
        print(f'generating {flood} ...', flush=True); gen_flood(flood, a.flood)
    for f in (flows, flood):
        subprocess.run(['cat', f], stdout=subprocess.DEVNULL)  # into the page cache
    n = a.packets
    fields = ['-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.seq', '-e', 'tcp.ack']
    five = 'tcp and ip.addr == 10.0.0.1 and tcp.port in {80, 443} and not tcp.analysis.retransmission and tcp.len >= 0'
    rows = [('bare', [BARE, flows]), ('hs-tui', [HS, '-r', flows] + fields), ('hs-tui-q', [HS, '-r', flows, '-q']),
            ('no-anal', [HS, '-r', flows, '-q', '-o', 'tcp.analyze_sequence_numbers:FALSE'])]
    has_filter = subprocess.run([HS, '-r', flows, '-q', '-c', '1', '-Y', 'tcp'], capture_output=True).returncode == 0
    if has_filter:
        rows.append(('filter', [HS, '-r', flows, '-q', '-Y', five]))
    res = best_interleaved(rows, a.rounds)
    if not a.no_tshark and subprocess.run(['which', 'tshark'], capture_output=True).returncode == 0:
        res['tshark'] = once(['tshark', '-n', '-r', flows] + fields)
    print(f'{n} packets, {os.path.getsize(flows) / 1e6:.0f} MB ({os.path.basename(flows)}), best of {a.rounds} interleaved rounds')
    for name, t in res.items():
        print(f'  {name:9s} {t:8.3f} s  {n / t / 1e6:7.3f} Mpkt/s', flush=True)
    print('ratios:')
    print(f'  hs-tui fields vs bare loop: {res["hs-tui"] / res["bare"]:.2f}x the time (target <= 3x)')
    if 'tshark' in res:
        print(f'  hs-tui fields vs tshark:    {res["tshark"] / res["hs-tui"]:.1f}x faster (target >= 20x)')
    print(f'  analysis over tracking:     {100 * (res["hs-tui-q"] / res["no-anal"] - 1):+.1f}% (target <= +25%)')
    if 'filter' in res:
        print(f'  5-clause filter over none:  {100 * (res["filter"] / res["hs-tui-q"] - 1):+.1f}% (target <= +30%)')
    mb = peak_rss_mb([HS, '-r', flood, '-q'])
    t = best([HS, '-r', flood, '-q'], runs=1)
    print(f'SYN flood: {a.flood} half-open SYNs, hs-tui -q peak RSS {mb:.0f} MB (target < 300 MB), {a.flood / t / 1e6:.2f} Mpkt/s')


if __name__ == '__main__':
    main()
