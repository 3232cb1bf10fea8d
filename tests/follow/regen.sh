#!/bin/sh
# Regenerate tshark's answers for the follow tests: cases.tsv and expected/.
# Needs tshark 4.0.x. Run from anywhere; writes beside this script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
export WIRESHARK_CONFIG_DIR="$cfg" LC_ALL=C
cd "$root"
python3 "$here/make-follow-scenarios.py" "$here/captures"
rm -rf "$here/expected"
mkdir -p "$here/expected"
cases="$here/cases.tsv"
printf 'capture\targument\texpected\n' >"$cases"
add() { # capture (relative to the repo root), -z argument
    name=$(printf '%s' "$1" | sed 's|^tests/||; s|/captures/|-|; s|/|-|g; s/\.[a-z]*$//')__$(printf '%s' "$2" | sed 's/^follow,//; s/[^A-Za-z0-9.-]/_/g').txt
    tshark -n -q -r "$root/$1" -z "$2" >"$here/expected/$name" 2>/dev/null || true
    # Keep the repository small: answers over 128 KiB are left out.
    if [ "$(wc -c <"$here/expected/$name")" -gt 131072 ]; then rm "$here/expected/$name"; return; fi
    printf '%s\t%s\t%s\n' "$1" "$2" "$name" >>"$cases"
}
# Every capture with TCP payload: its first 8 streams with payload and stream 0, in the three modes.
for cap in tests/follow/captures/follow-crafted.pcap tests/conformance/*.pcap tests/conformance/*.pcapng \
           tests/conformance/tls/captures/* sample-captures/*.pcap; do
    streams=$(tshark -n -r "$root/$cap" -Y 'tcp.len > 0' -T fields -e tcp.stream 2>/dev/null | awk '!seen[$0]++' | head -8)
    [ -n "$streams" ] || continue
    for s in $(printf '0\n%s\n' "$streams" | awk '!seen[$0]++'); do
        for m in ascii hex raw; do add "$cap" "follow,tcp,$m,$s"; done
    done
done
# Address form (IPv4, IPv6 in brackets, a reused port pair), chunk ranges, a stream that does not exist, TLS.
c=tests/follow/captures/follow-crafted.pcap
add $c 'follow,tcp,raw,10.0.0.1:40007,10.0.0.2:80'
add $c 'follow,tcp,ascii,[2001:db8::2]:80,[2001:db8::1]:40003'
add $c 'follow,tcp,hex,0,3-5'
add $c 'follow,tcp,ascii,2,2'
add $c 'follow,tcp,ascii,99'
add tests/conformance/lo-ipv6-http.pcap 'follow,tcp,hex,[::1]:49172,[::1]:18110'
# The other modes tshark 4.0 has: yaml (base64 per chunk, frame times) and ebcdic.
for s in 0 1 2 3 5 6 7; do
    add $c "follow,tcp,yaml,$s"
    add $c "follow,tcp,ebcdic,$s"
done
add $c 'follow,tcp,yaml,[2001:db8::1]:40003,[2001:db8::2]:80'
add $c 'follow,tcp,yaml,0,2-4'
add tests/conformance/lo-http-curl.pcap 'follow,tcp,yaml,0'
add tests/conformance/tcpdump-ssh.pcap 'follow,tcp,yaml,0'
add tests/conformance/tcpdump-ssh.pcap 'follow,tcp,ebcdic,0'
add tests/conformance/zeek-smtp.pcap 'follow,tcp,ebcdic,1'
for cap in tests/conformance/tls/captures/*; do
    add "$cap" 'follow,tls,ascii,0'
    add "$cap" 'follow,tls,hex,1'
done
add tests/conformance/lo-http-curl.pcap 'follow,tls,raw,127.0.0.1:45668,127.0.0.1:18080'
echo "$(($(wc -l <"$cases") - 1)) cases"
