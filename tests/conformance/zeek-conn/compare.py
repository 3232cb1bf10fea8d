#!/usr/bin/env python3
"""Compare hs-tui's `-z conn,zeek` with the conn.log Zeek wrote for each trace.

Rows are matched on (id.orig_h, id.orig_p, id.resp_h, id.resp_p, proto) in
order (ts and uid are masked in Zeek's baselines). A TCP row is exact when
conn_state, history, orig/resp_pkts, orig/resp_bytes, missed_bytes,
orig/resp_ip_bytes agree and duration is within 1 ms.
Usage: compare.py HS_TUI [DIR] [--min-exact PCT] [--min-state PCT]
Prints one line per trace and a total; exits 1 below the bars.
"""
import os, subprocess, sys

# test name -> (trace file, zeek ignored checksums (-C))
TESTS = {
    "core.cisco-fabric-path": ("cisco-fabric-path.pcap", False),
    "core.history-flip": ("tcp_missing-syn.pcap", True),
    "core.mpls-in-vlan": ("mpls-in-vlan.pcap", True),
    "core.pppoe-over-qinq": ("pppoe-over-qinq.pcap", False),
    "core.tcp-padding": ("tcp-http-with-padding.pcap", True),
    "opt.basic": ("wikipedia.pcap", False),
    "scripts.base.protocols.ftp.cwd-navigation": ("ftp_cwd-navigation.pcap", False),
    "scripts.base.protocols.ftp.ftp-ipv4": ("ftp_ipv4.pcap", False),
    "scripts.base.protocols.http.concurrent-range-requests": ("http_concurrent-range-requests.pcap", False),
    "scripts.base.protocols.irc.starttls": ("tls_irc-starttls.pcap", True),
    "scripts.base.protocols.ldap.basic": ("ldap_simpleauth.pcap", True),
    "scripts.base.protocols.pop3.basic": ("pop3_pop3.pcap", False),
    "scripts.base.protocols.ssh.basic": ("ssh_ssh.pcap", False),
    "scripts.base.protocols.ssh.half-duplex-client": ("ssh_ssh.client-side-half-duplex.pcap", False),
}
COMPARED = ["conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes",
            "missed_bytes", "orig_ip_bytes", "resp_ip_bytes"]
KEY = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"]


def parse(text):
    fields, rows = None, []
    for line in text.splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#") and fields:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def differs(b, o):
    out = [f for f in COMPARED if b.get(f, "-") != o.get(f, "-")]
    bd, od = b.get("duration", "-"), o.get("duration", "-")
    if (bd == "-") != (od == "-") or (bd != "-" and abs(float(bd) - float(od)) > 0.001):
        out.append("duration")
    return out


def main():
    args = sys.argv[1:]
    exe = args[0]
    here = args[1] if len(args) > 1 and not args[1].startswith("-") else os.path.dirname(os.path.abspath(__file__))
    min_exact = float(args[args.index("--min-exact") + 1]) if "--min-exact" in args else 0
    min_state = float(args[args.index("--min-state") + 1]) if "--min-state" in args else 0
    verbose = "-v" in args
    tot = dict(rows=0, exact=0, matched=0, state=0, hist=0)
    print(f"{'test':<56} {'exact':>7} {'state':>7} {'history':>7}")
    for test, (trace, no_cksum) in TESTS.items():
        cmd = [exe, "-r", os.path.join(here, "traces", trace), "-q", "-z", "conn,zeek"]
        if not no_cksum:
            cmd += ["-o", "tcp.check_checksum:TRUE"]
        ours = parse(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        base = [r for r in parse(open(os.path.join(here, "baselines", test + ".conn.log")).read())
                if r.get("proto") == "tcp"]
        used = set()
        n = exact = matched = state = hist = 0
        for b in base:
            n += 1
            cands = [i for i, o in enumerate(ours) if i not in used and all(o.get(k) == b.get(k) for k in KEY)]
            if not cands:
                if verbose:
                    print("   unmatched:", "\t".join(b.get(k, "") for k in KEY + COMPARED))
                continue
            best = min(cands, key=lambda i: len(differs(b, ours[i])))
            used.add(best)
            o = ours[best]
            matched += 1
            d = differs(b, o)
            exact += not d
            state += b["conn_state"] == o["conn_state"]
            hist += b["history"] == o["history"]
            if d and verbose:
                print("   differs:", ", ".join(f"{f} {b.get(f)} vs {o.get(f)}" for f in d), "|", "\t".join(b.get(k) for k in KEY))
        extra = [o for i, o in enumerate(ours) if i not in used and o.get("proto") == "tcp"]
        if verbose:
            for o in extra:
                print("   extra:", "\t".join(o.get(k, "") for k in KEY + COMPARED))
        print(f"{test:<56} {exact:>3}/{n:<3} {state:>3}/{matched:<3} {hist:>3}/{matched:<3}" + (f"  ({len(extra)} extra rows)" if extra else ""))
        for k, v in (("rows", n), ("exact", exact), ("matched", matched), ("state", state), ("hist", hist)):
            tot[k] += v
    pe = 100 * tot["exact"] / max(tot["rows"], 1)
    ps = 100 * tot["state"] / max(tot["matched"], 1)
    ph = 100 * tot["hist"] / max(tot["matched"], 1)
    print(f"{'TOTAL':<56} {tot['exact']}/{tot['rows']} exact ({pe:.1f}%), conn_state {ps:.1f}%, history {ph:.1f}% of {tot['matched']} matched")
    if pe < min_exact or ps < min_state or ph < min_state:
        sys.exit(1)


if __name__ == "__main__":
    main()
