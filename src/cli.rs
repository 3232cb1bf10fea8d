//! Command-line arguments, as the user typed them (ripgrep's "low args").
//! Option letters follow tshark and tcpdump so habits carry over.

use crate::output::Format;
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug, Clone, Default)]
#[command(
    name = "hs-tui",
    version,
    about = "A Wireshark-like terminal analyzer for TCP handshakes",
    long_about = "hs-tui reads a capture file or a live interface, tracks every TCP stream the way \
Wireshark numbers them, and shows handshakes: completed, refused, reset, half-open, with their RTTs.\n\n\
With a terminal on standard output and no -T/-q it opens the interactive view; otherwise it prints \
tshark-compatible batch output.",
    after_help = "Examples:\n  hs-tui -r capture.pcap\n  hs-tui -r capture.pcap -T fields -e tcp.stream -e tcp.seq -e tcp.ack\n  \
hs-tui -r capture.pcap -q -z conv,tcp\n  sudo hs-tui -i eth0 port 443\n  hs-tui -D\n  hs-tui diff client.pcap server.pcap -q   (two captures of one path; see hs-tui diff --help)"
)]
pub struct Args {
    /// Read packets from a pcap or pcapng file ("-" for standard input). Repeat it, or give a
    /// directory or a glob ('caps/*.pcap'), to read several captures at once, each by its own
    /// worker (with -q and/or --parquet)
    #[arg(
        short = 'r',
        long = "read-file",
        value_name = "FILE",
        help_heading = "Capture"
    )]
    pub read: Vec<String>,

    /// Capture live from this interface (needs root or CAP_NET_RAW)
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        help_heading = "Capture"
    )]
    pub interface: Option<String>,

    /// Capture filter in libpcap (BPF) syntax; the words after the options work too
    #[arg(short = 'f', value_name = "BPF", help_heading = "Capture")]
    pub capture_filter: Option<String>,

    /// Don't put the interface in promiscuous mode
    #[arg(short = 'p', long = "no-promiscuous-mode", help_heading = "Capture")]
    pub no_promiscuous: bool,

    /// Bytes to capture per packet
    #[arg(
        short = 's',
        long = "snapshot-length",
        value_name = "SNAPLEN",
        default_value_t = 262144,
        help_heading = "Capture"
    )]
    pub snaplen: i32,

    /// Kernel capture buffer size in MiB
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "MIB",
        default_value_t = 4,
        help_heading = "Capture"
    )]
    pub buffer_mib: i32,

    /// As root, become USER once the capture is open (as tcpdump -Z). Default for a live
    /// capture: the invoking user under sudo, else nobody; `-Z root` keeps root. A file is
    /// read as root unless -Z is given
    #[arg(
        short = 'Z',
        long = "relinquish-privileges",
        value_name = "USER",
        help_heading = "Capture"
    )]
    pub run_as: Option<String>,

    /// Stop after reading this many packets
    #[arg(short = 'c', value_name = "COUNT", help_heading = "Capture")]
    pub count: Option<u64>,

    /// Stop condition: duration:SECONDS (live capture)
    #[arg(
        short = 'a',
        long = "autostop",
        value_name = "duration:SECONDS",
        help_heading = "Capture"
    )]
    pub autostop: Vec<String>,

    /// List the interfaces available for live capture, with their addresses
    #[arg(short = 'D', long = "list-interfaces", help_heading = "Capture")]
    pub list_interfaces: bool,

    /// Write the packets that pass the display filter to this pcap file
    #[arg(short = 'w', value_name = "FILE", help_heading = "Capture")]
    pub write: Option<PathBuf>,

    /// With -w, also print the packets (as tshark -P); without -P, -w prints nothing
    #[arg(short = 'P', help_heading = "Capture")]
    pub print_with_write: bool,

    /// Display filter, Wireshark syntax (e.g. 'tcp.flags.syn == 1 and ip.addr == 10.0.0.1'), or @preset
    #[arg(
        short = 'Y',
        long = "display-filter",
        value_name = "FILTER",
        help_heading = "Filter"
    )]
    pub display_filter: Option<String>,

    /// List the named display filter presets (filters/)
    #[arg(long = "list-filters", help_heading = "Filter")]
    pub list_filters: bool,

    /// Output format
    #[arg(
        short = 'T',
        value_name = "FORMAT",
        value_enum,
        help_heading = "Output"
    )]
    pub format: Option<Format>,

    /// A field to print with -T fields/json/ek/ndjson (repeat for more; see --list-fields)
    #[arg(short = 'e', value_name = "FIELD", help_heading = "Output")]
    pub fields: Vec<String>,

    /// -T fields option: header=y|n, separator=/t|/s|C, occurrence=f|l|a, aggregator=C, quote=d|s|n
    #[arg(short = 'E', value_name = "KEY=VALUE", help_heading = "Output")]
    pub field_options: Vec<String>,

    /// Export to Parquet: DIR/packets.parquet (one row per TCP packet) and DIR/streams.parquet
    /// (one row per stream); with several captures, DIR/capture=NAME/... (Hive partitions)
    #[arg(long = "parquet", value_name = "DIR", help_heading = "Output")]
    pub parquet: Option<PathBuf>,

    /// With --parquet: rotate the export into time partitions, as tshark's ring buffer:
    /// duration:SECONDS (periods aligned on multiples of it), filesize:KB (packet bytes per
    /// period, as -w would write them), files:N (keep the last N pairs). Layout:
    /// DIR/capture=NAME/date=YYYY-MM-DD/hour=HH/{packets,streams}-EPOCH.parquet
    #[arg(
        short = 'b',
        long = "ring-buffer",
        value_name = "duration:SECONDS|filesize:KB|files:N",
        help_heading = "Output"
    )]
    pub ring: Vec<String>,

    /// With several captures: how many are read at once (default: one per core)
    #[arg(long = "jobs", value_name = "N", help_heading = "Capture",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Print no per-packet output, only the end-of-run summary and -z statistics
    #[arg(short = 'q', help_heading = "Output")]
    pub quiet: bool,

    /// Statistics at the end: conv,tcp[,FILTER] (tshark's layout), expert[,LEVEL][,FILTER] (tshark's expert summary, TCP items), follow,tcp|tls,ascii|hex|raw|ebcdic|yaml,STREAM or ADDR:PORT,ADDR:PORT[,RANGE] (tshark's Follow TCP Stream), hs (per-stream handshakes), hs,summary, hs,io[,SECONDS], conn,zeek and conn,zeek-json (Zeek's conn.log, TCP rows)
    #[arg(short = 'z', value_name = "STAT", help_heading = "Output")]
    pub stats: Vec<String>,

    /// Don't resolve names (accepted for tshark compatibility; hs-tui never resolves)
    #[arg(short = 'n', help_heading = "Output")]
    pub no_resolve: bool,

    /// Preference, tshark style; supported: tcp.check_checksum:TRUE|FALSE
    #[arg(short = 'o', value_name = "PREF:VALUE", help_heading = "Output")]
    pub prefs: Vec<String>,

    /// List every field hs-tui knows, with its type and description
    #[arg(long = "list-fields", help_heading = "Output")]
    pub list_fields: bool,

    /// Streams kept with full analysis state; beyond this the least recently seen are retired
    #[arg(
        long = "max-streams",
        value_name = "N",
        default_value_t = 150_000,
        help_heading = "Limits"
    )]
    pub max_streams: usize,

    /// Retire streams idle for this many seconds (default: never, as Wireshark)
    #[arg(long = "idle-timeout", value_name = "SECONDS", help_heading = "Limits")]
    pub idle_timeout: Option<f64>,

    /// Interactive view: packet records kept in memory (frame bytes stay in the file); beyond it the oldest leave memory, flows stay, and filters and saves still read the whole file
    #[arg(
        long = "tui-max-packets",
        value_name = "N",
        default_value_t = 20_000_000,
        help_heading = "Limits"
    )]
    pub tui_max_packets: usize,

    /// Interactive view of a live capture or standard input: disk for the spool file that holds frame bytes (MiB)
    #[arg(
        long = "tui-spool-mb",
        value_name = "MIB",
        default_value_t = 4096,
        help_heading = "Limits"
    )]
    pub tui_spool_mb: u64,

    /// SYN-flood alarm: this many handshakes to one server port that never completed...
    #[arg(
        long = "synflood-min",
        value_name = "N",
        default_value_t = 100,
        help_heading = "Alarms"
    )]
    pub synflood_min: usize,

    /// ...starting within this many seconds
    #[arg(
        long = "synflood-window",
        value_name = "SECONDS",
        default_value_t = 10.0,
        help_heading = "Alarms"
    )]
    pub synflood_window: f64,

    /// Port-scan alarm: one source reaching this many ports of one host, mostly refused or unanswered
    #[arg(
        long = "scan-min-ports",
        value_name = "N",
        default_value_t = 20,
        help_heading = "Alarms"
    )]
    pub scan_min_ports: usize,

    /// Capture filter words (tcpdump style), e.g. "port 443"
    #[arg(value_name = "CAPTURE FILTER", trailing_var_arg = true)]
    pub filter_words: Vec<String>,
}

impl Args {
    /// The capture filter from -f or the trailing words.
    pub fn bpf(&self) -> Option<String> {
        match (&self.capture_filter, self.filter_words.is_empty()) {
            (Some(f), _) => Some(f.clone()),
            (None, false) => Some(self.filter_words.join(" ")),
            (None, true) => None,
        }
    }

    /// `-a duration:N` in seconds.
    pub fn duration(&self) -> Result<Option<f64>, String> {
        let mut out = None;
        for a in &self.autostop {
            match a.split_once(':') {
                Some(("duration", v)) => {
                    let secs: f64 = v
                        .parse()
                        .map_err(|_| format!("invalid -a duration '{v}': expected seconds"))?;
                    if secs.is_nan() || secs <= 0.0 {
                        return Err(format!("invalid -a duration '{v}': must be positive"));
                    }
                    out = Some(secs);
                }
                _ => {
                    return Err(format!(
                        "invalid -a argument '{a}': supported is duration:SECONDS"
                    ))
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("hs-tui").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn tshark_style_flags() {
        let a = parse(&[
            "-r",
            "x.pcap",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.seq",
            "-E",
            "header=y",
            "-c",
            "5",
        ]);
        assert_eq!(a.read, ["x.pcap"]);
        assert_eq!(a.format, Some(Format::Fields));
        assert_eq!(a.fields, ["tcp.stream", "tcp.seq"]);
        assert_eq!(a.count, Some(5));
    }

    #[test]
    fn several_captures_and_parquet() {
        let a = parse(&["-r", "a.pcap", "-r", "b.pcap", "--parquet", "out", "-q"]);
        assert_eq!(a.read, ["a.pcap", "b.pcap"]);
        assert_eq!(a.parquet.as_deref(), Some(std::path::Path::new("out")));
        assert_eq!(parse(&["-r", "d", "-q", "--jobs", "2"]).jobs, Some(2));
    }

    #[test]
    fn trailing_words_are_a_capture_filter() {
        let a = parse(&["-i", "eth0", "port", "443"]);
        assert_eq!(a.bpf().as_deref(), Some("port 443"));
        let a = parse(&["-i", "eth0", "-f", "tcp"]);
        assert_eq!(a.bpf().as_deref(), Some("tcp"));
    }

    #[test]
    fn autostop_duration() {
        assert_eq!(parse(&["-a", "duration:3"]).duration(), Ok(Some(3.0)));
        assert!(parse(&["-a", "filesize:3"]).duration().is_err());
        assert!(parse(&["-a", "duration:x"]).duration().is_err());
    }
}
