//! Small text formatters shared by the views.

/// A duration for people: `850ns`, `27µs`, `1.25ms`, `3.402s`, `2m05s`.
pub fn duration(ns: i64) -> String {
    let neg = ns < 0;
    let a = ns.unsigned_abs();
    let s = if a < 1_000 {
        format!("{a}ns")
    } else if a < 1_000_000 {
        let us = a as f64 / 1e3;
        if us < 10.0 {
            format!("{us:.1}µs")
        } else {
            format!("{us:.0}µs")
        }
    } else if a < 1_000_000_000 {
        let ms = a as f64 / 1e6;
        if ms < 10.0 {
            format!("{ms:.2}ms")
        } else if ms < 100.0 {
            format!("{ms:.1}ms")
        } else {
            format!("{ms:.0}ms")
        }
    } else if a < 60_000_000_000 {
        format!("{:.3}s", a as f64 / 1e9)
    } else if a < 3_600_000_000_000 {
        let s = a / 1_000_000_000;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let s = a / 1_000_000_000;
        format!("{}h{:02}m", s / 3600, (s / 60) % 60)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// Seconds with six decimals, as Wireshark's time column.
pub fn secs(ns: i64) -> String {
    let neg = ns < 0;
    let a = ns.unsigned_abs();
    format!(
        "{}{}.{:06}",
        if neg { "-" } else { "" },
        a / 1_000_000_000,
        (a % 1_000_000_000) / 1_000
    )
}

/// Wall-clock time of day with microseconds, local time (or UTC).
pub fn clock(ns: i64, utc: bool) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(ns);
    if utc {
        t.format("%H:%M:%S%.6f").to_string()
    } else {
        t.with_timezone(&chrono::Local)
            .format("%H:%M:%S%.6f")
            .to_string()
    }
}

/// A count with a k or M suffix past 10,000.
pub fn count(n: u64) -> String {
    if n < 10_000 {
        n.to_string()
    } else if n < 999_950 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        format!("{:.2}M", n as f64 / 1e6)
    }
}

/// A byte count: `512B`, `14.2kB`, `3.1MB`, `1.2GB`.
pub fn bytes(n: u64) -> String {
    if n < 1_000 {
        format!("{n}B")
    } else if n < 1_000_000 {
        format!("{:.1}kB", n as f64 / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1}MB", n as f64 / 1e6)
    } else {
        format!("{:.1}GB", n as f64 / 1e9)
    }
}

/// Cut `s` to `w` columns, ending with `…` when cut.
pub fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// TCP flag names joined with commas: `SYN,ACK`.
pub fn flags(f: u16) -> String {
    crate::fields::info::flag_names(f).replace(", ", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(850), "850ns");
        assert_eq!(duration(27_400), "27µs");
        assert_eq!(duration(4_250), "4.2µs");
        assert_eq!(duration(1_250_000), "1.25ms");
        assert_eq!(duration(3_402_000_000), "3.402s");
        assert_eq!(duration(125_000_000_000), "2m05s");
        assert_eq!(secs(1_500_042_000), "1.500042");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(1_000_850), "1.00M");
        assert_eq!(bytes(14_200), "14.2kB");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(flags(0x012), "SYN,ACK");
        assert_eq!(clock(1_700_000_000_123_456_789, true), "22:13:20.123456");
    }
}
