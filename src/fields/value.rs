//! Field values and types, shared by batch output and the display filter.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A field's type, as Wireshark's FT_* types matter to us: for printing and
/// for type-checking display filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Unsigned integer with its maximum value (u8/u16/u32/u64).
    UInt {
        max: u64,
        hex: u8,
    },
    /// Signed integer.
    Int,
    /// Boolean flag printed 1/0.
    Bool,
    /// A relative time in seconds (FT_RELATIVE_TIME), stored as nanoseconds.
    RelTime,
    /// An absolute time (FT_ABSOLUTE_TIME), stored as nanoseconds since the epoch.
    AbsTime,
    Ipv4,
    Ipv6,
    Mac,
    Str,
    Bytes,
    /// Present-or-absent (FT_NONE), e.g. `tcp.analysis.retransmission`.
    None,
    /// A protocol layer, e.g. `tcp`.
    Protocol,
    /// A frame number (FT_FRAMENUM).
    FrameNum,
}

impl FieldType {
    pub const U8: FieldType = FieldType::UInt {
        max: u8::MAX as u64,
        hex: 0,
    };
    pub const U16: FieldType = FieldType::UInt {
        max: u16::MAX as u64,
        hex: 0,
    };
    pub const U32: FieldType = FieldType::UInt {
        max: u32::MAX as u64,
        hex: 0,
    };
    pub const U64: FieldType = FieldType::UInt {
        max: u64::MAX,
        hex: 0,
    };

    pub fn name(self) -> &'static str {
        match self {
            FieldType::UInt { max, .. } if max <= u8::MAX as u64 => "Unsigned integer (8 bits)",
            FieldType::UInt { max, .. } if max <= u16::MAX as u64 => "Unsigned integer (16 bits)",
            FieldType::UInt { max, .. } if max <= u32::MAX as u64 => "Unsigned integer (32 bits)",
            FieldType::UInt { .. } => "Unsigned integer (64 bits)",
            FieldType::Int => "Signed integer (32 bits)",
            FieldType::Bool => "Boolean",
            FieldType::RelTime => "Time offset",
            FieldType::AbsTime => "Date and time",
            FieldType::Ipv4 => "IPv4 address",
            FieldType::Ipv6 => "IPv6 address",
            FieldType::Mac => "Ethernet or other MAC address",
            FieldType::Str => "Character string",
            FieldType::Bytes => "Byte sequence",
            FieldType::None => "Label",
            FieldType::Protocol => "Protocol",
            FieldType::FrameNum => "Frame number",
        }
    }
}

/// One occurrence of a field in a packet.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    UInt(u64),
    Int(i64),
    Bool(bool),
    /// Nanoseconds (relative or since the epoch, per the field type).
    Time(i64),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Mac([u8; 6]),
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// The field is there and has no value (FT_NONE, protocols).
    Present,
}

/// Print nanoseconds as seconds with 9 decimals, as `-T fields` does.
pub fn write_secs(out: &mut String, ns: i64) {
    let neg = ns < 0;
    let a = ns.unsigned_abs();
    if neg {
        out.push('-');
    }
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(a / 1_000_000_000));
    out.push('.');
    let frac = a % 1_000_000_000;
    let s = buf.format(frac);
    for _ in s.len()..9 {
        out.push('0');
    }
    out.push_str(s);
}

pub fn write_mac(out: &mut String, m: &[u8; 6]) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
}

impl Value<'_> {
    /// Append the value as tshark's `-T fields` prints it.
    pub fn write(&self, ty: FieldType, out: &mut String) {
        match self {
            Value::UInt(v) => match ty {
                FieldType::UInt { hex, .. } if hex > 0 => {
                    let _ = write!(out, "0x{:0width$x}", v, width = hex as usize);
                }
                _ => out.push_str(itoa::Buffer::new().format(*v)),
            },
            Value::Int(v) => out.push_str(itoa::Buffer::new().format(*v)),
            Value::Bool(b) => out.push(if *b { '1' } else { '0' }),
            Value::Time(ns) => write_secs(out, *ns),
            Value::V4(a) => {
                let _ = write!(out, "{a}");
            }
            Value::V6(a) => {
                let _ = write!(out, "{a}");
            }
            Value::Mac(m) => write_mac(out, m),
            Value::Str(s) => out.push_str(s),
            Value::Bytes(b) => {
                for x in b.iter() {
                    let _ = write!(out, "{x:02x}");
                }
            }
            Value::Present => out.push('1'),
        }
    }

    pub fn to_text(&self, ty: FieldType) -> String {
        let mut s = String::new();
        self.write(ty, &mut s);
        s
    }

    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::UInt(v) => Value::UInt(v),
            Value::Int(v) => Value::Int(v),
            Value::Bool(v) => Value::Bool(v),
            Value::Time(v) => Value::Time(v),
            Value::V4(v) => Value::V4(v),
            Value::V6(v) => Value::V6(v),
            Value::Mac(v) => Value::Mac(v),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Present => Value::Present,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_tshark() {
        let mut s = String::new();
        write_secs(&mut s, 23_000);
        assert_eq!(s, "0.000023000");
        s.clear();
        write_secs(&mut s, 1_795_386_540_236_722_000);
        assert_eq!(s, "1795386540.236722000");
        assert_eq!(
            Value::UInt(0x12).to_text(FieldType::UInt { max: 0xfff, hex: 4 }),
            "0x0012"
        );
        assert_eq!(
            Value::Bytes(Cow::Borrowed(&[4, 2])).to_text(FieldType::Bytes),
            "0402"
        );
        assert_eq!(Value::Int(-2).to_text(FieldType::Int), "-2");
        s.clear();
        write_secs(&mut s, -1_500_000_000);
        assert_eq!(s, "-1.500000000");
    }
}
