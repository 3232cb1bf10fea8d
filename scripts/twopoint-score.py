#!/usr/bin/env python3
"""Score `hs-tui diff` against a twopoint set's truth (see tests/conformance/twopoint/README.md).

usage: twopoint-score.py SETDIR [--bin PATH]
Prints: packets placed right (unique fields / all), clock offset error, handshake agreement.
"""
import argparse, os, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("set")
ap.add_argument("--bin", default=os.environ.get("HS_TUI", "target/release/hs-tui"))
ap.add_argument("-v", action="store_true")
a = ap.parse_args()
S = a.set
params = dict(l.strip().split("=", 1) for l in open(f"{S}/params.txt") if "=" in l and not l.startswith("#"))
with tempfile.NamedTemporaryFile("r", suffix=".tsv") as summ:
    out = subprocess.run([a.bin, "diff", f"{S}/client.pcap", f"{S}/server.pcap", "-T", "fields",
                          "-e", "hs.diff.side", "-e", "frame.number", "-e", "hs.diff.peer_frame",
                          "-e", "hs.diff.lost", "-e", "hs.diff.role", "-e", "hs.diff.clock_offset",
                          "--summary", summ.name], capture_output=True, text=True, check=True).stdout
    mine_sum = [l.rstrip("\n").split("\t") for l in open(summ.name)]
rows = {}
offset = None
for line in out.splitlines():
    side, frame, peer, lost, role, off = line.split("\t")
    rows[(side, int(frame))] = (peer, lost, role)
    offset = float(off)
truth = [l.rstrip("\n").split("\t") for l in open(f"{S}/truth.tsv")]
h = truth[0]; truth = [dict(zip(h, r)) for r in truth[1:]]
ok = bad = uok = ubad = 0
groups = {}
for t in truth:
    side = "a" if t["dir"] == "c2s" else "b"
    key = (side, int(t["send_frame"]))
    want = "" if t["recv_frame"] == "-" else t["recv_frame"]
    got = rows.get(key, ("?", "?", "?"))
    right = got[0] == want and got[1] == ("1" if want == "" else "0") and got[2] == "sender"
    if int(t["ambig"]) == 1:
        uok += right; ubad += not right
        ok += right; bad += not right
    else:
        # identical packets: compare per group (sent, copies received), see the truth's README
        g = groups.setdefault((t["dir"], t["conn"], t["seq"], t["ack"], t["flags"], t["len"], t["tsval"], t["ipid"]), [0, 0, 0, []])
        g[0] += 1
        g[1] += int(t["copies"])
        g[2] += 0 if got[0] == "" else len(got[0].split(","))
        g[3].append(got[2] == "sender")
    if not right and a.v and int(t["ambig"]) == 1:
        print("wrong:", t["dir"], t["conn"], t["flags"], t["send_frame"], "want", want or "lost", "got", got, "ambig", t["ambig"])
for g in groups.values():
    right = g[1] == g[2] and all(g[3])
    ok += g[0] * right; bad += g[0] * (not right)
    if not right and a.v:
        print("group differs:", g)
# receiver rows that should not be "unseen"
true_off = float(params.get("clock_offset_s", 0))
summ = [l.rstrip("\n").split("\t") for l in open(f"{S}/summary.tsv")]
sh = summ[0]; summ = [dict(zip(sh, r)) for r in summ[1:]]
mh = mine_sum[0]; mine = [dict(zip(mh, r)) for r in mine_sum[1:]]
cols = ["client", "server", "handshake_result", "syn_sent", "syn_lost", "synack_sent", "synack_lost", "handshake"] + [d + "_" + k for d in ("c2s", "s2c") for k in ("sent", "lost", "dup", "reordered", "lost_frames")]
hok = 0
for t in summ:
    m = next((x for x in mine if x["client"] == t["client"] and x["server"] == t["server"]
              and abs(float(x["start_time"]) - float(t["start_time"])) < 0.5), None)
    if m and all(m[c] == t[c] for c in cols):
        hok += 1
    elif a.v:
        print("verdict differs: truth", [t[c] for c in cols], "mine", m and [m[c] for c in cols])
n = ok + bad
print(f"{os.path.basename(os.path.normpath(S))}: packets placed right {ok}/{n} ({100*ok/max(n,1):.2f}%), "
      f"unique {uok}/{uok+ubad}; clock offset {offset*1e3:+.3f} ms vs {true_off*1e3:+.3f} ms "
      f"(error {abs(offset-true_off)*1e3:.3f} ms); handshakes {hok}/{len(summ)}; connections {len(mine)}/{len(summ)}")
