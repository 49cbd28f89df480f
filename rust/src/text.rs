//! Text forms that must match Python's exactly: `str(int)`, `str(decimal.Decimal)`, `str(uuid.UUID)`,
//! `socket.inet_ntoa` / `socket.inet_ntop` (glibc), because the pure-Python path produces them.

use std::fmt::Write;

/// Decimal digits of a two's-complement big-endian integer: (negative, digits without sign).
pub fn varint_digits(bytes: &[u8]) -> (bool, String) {
    if bytes.is_empty() {
        return (false, "0".to_string());
    }
    let negative = bytes[0] & 0x80 != 0;
    if bytes.len() <= 16 {
        let mut v: i128 = if negative { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | i128::from(b);
        }
        return (negative, v.unsigned_abs().to_string());
    }
    // magnitude: two's complement negation of a negative number
    let mut mag: Vec<u8> = bytes.to_vec();
    if negative {
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (s, carry) = b.overflowing_add(1);
            *b = s;
            if !carry {
                break;
            }
        }
    }
    // big-endian bytes → little-endian u32 limbs
    let mut limbs: Vec<u32> = Vec::with_capacity(mag.len() / 4 + 1);
    for chunk in mag.rchunks(4) {
        let mut x: u32 = 0;
        for &b in chunk {
            x = (x << 8) | u32::from(b);
        }
        limbs.push(x);
    }
    while limbs.len() > 1 && *limbs.last().unwrap_or(&1) == 0 {
        limbs.pop();
    }
    // repeated division by 10^9
    let mut groups: Vec<u32> = Vec::new();
    while !(limbs.len() == 1 && limbs[0] == 0) {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.len() > 1 && *limbs.last().unwrap_or(&1) == 0 {
            limbs.pop();
        }
    }
    if groups.is_empty() {
        return (negative, "0".to_string());
    }
    let mut out = String::with_capacity(groups.len() * 9);
    let _ = write!(out, "{}", groups[groups.len() - 1]);
    for g in groups.iter().rev().skip(1) {
        let _ = write!(out, "{g:09}");
    }
    (negative, out)
}

/// `str(int)` of a varint.
pub fn varint_text(bytes: &[u8], out: &mut Vec<u8>) {
    let (negative, digits) = varint_digits(bytes);
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(digits.as_bytes());
}

/// `str(Decimal("<unscaled>e<-scale>"))`: Python's scientific-string rules.
pub fn decimal_text(scale: i32, unscaled: &[u8], out: &mut Vec<u8>) {
    let (negative, digits) = varint_digits(unscaled);
    let exp: i64 = -i64::from(scale);
    let n = digits.len() as i64;
    let leftdigits = exp + n;
    let dotplace: i64 = if exp <= 0 && leftdigits > -6 {
        leftdigits
    } else {
        1
    };
    if negative {
        out.push(b'-');
    }
    let d = digits.as_bytes();
    if dotplace <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat(b'0').take((-dotplace) as usize));
        out.extend_from_slice(d);
    } else if dotplace >= n {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat(b'0').take((dotplace - n) as usize));
    } else {
        out.extend_from_slice(&d[..dotplace as usize]);
        out.push(b'.');
        out.extend_from_slice(&d[dotplace as usize..]);
    }
    if leftdigits != dotplace {
        let e = leftdigits - dotplace;
        let _ = write!(
            VecWriter(out),
            "E{}{}",
            if e < 0 { "-" } else { "+" },
            e.unsigned_abs()
        );
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `str(uuid.UUID(bytes=b))`: 8-4-4-4-12 lowercase.
pub fn uuid_text(b: &[u8], out: &mut Vec<u8>) {
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, &x) in b.iter().enumerate().take(16) {
        if i == 4 || i == 6 || i == 8 || i == 10 {
            at += 1;
        }
        text[at] = HEX[usize::from(x >> 4)];
        text[at + 1] = HEX[usize::from(x & 15)];
        at += 2;
    }
    out.extend_from_slice(&text);
}

fn ipv4(b: &[u8], out: &mut Vec<u8>) {
    let _ = write!(VecWriter(out), "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
}

/// glibc's `inet_ntop(AF_INET6)`: the longest run (≥ 2) of zero groups becomes `::` (the first on a tie),
/// and `::a.b.c.d` / `::ffff:a.b.c.d` keep their IPv4 tail.
fn ipv6(b: &[u8], out: &mut Vec<u8>) {
    let words: Vec<u16> = b
        .chunks(2)
        .map(|c| (u16::from(c[0]) << 8) | u16::from(c[1]))
        .collect();
    let (mut best_base, mut best_len) = (-1i32, 0i32);
    let (mut cur_base, mut cur_len) = (-1i32, 0i32);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_base == -1 {
                cur_base = i as i32;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != -1 {
            if best_base == -1 || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = -1;
        }
    }
    if cur_base != -1 && (best_base == -1 || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != -1 && best_len < 2 {
        best_base = -1;
    }
    let mut i: i32 = 0;
    while i < 8 {
        if best_base != -1 && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(b':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            ipv4(&b[12..16], out);
            return;
        }
        let _ = write!(VecWriter(out), "{:x}", words[i as usize]);
        i += 1;
    }
    if best_base != -1 && best_base + best_len == 8 {
        out.push(b':');
    }
}

/// The driver's text of an inet value (4 or 16 bytes); `None` for any other length.
pub fn inet_text(b: &[u8], out: &mut Vec<u8>) -> bool {
    match b.len() {
        4 => ipv4(b, out),
        16 => ipv6(b, out),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(scale: i32, unscaled: i128) -> String {
        let mut bytes = unscaled.to_be_bytes().to_vec();
        while bytes.len() > 1
            && ((bytes[0] == 0 && bytes[1] & 0x80 == 0)
                || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
        {
            bytes.remove(0);
        }
        let mut out = Vec::new();
        decimal_text(scale, &bytes, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_like_python() {
        assert_eq!(dec(2, 12345), "123.45");
        assert_eq!(dec(0, 0), "0");
        assert_eq!(dec(3, 0), "0.000");
        assert_eq!(dec(-3, 1), "1E+3");
        assert_eq!(dec(8, 1), "1E-8");
        assert_eq!(dec(6, 1), "0.000001");
        assert_eq!(dec(7, 1), "1E-7");
        assert_eq!(dec(2, -5), "-0.05");
        assert_eq!(dec(-2, -123), "-1.23E+4");
    }

    #[test]
    fn big_varints() {
        let mut b = vec![0x01u8];
        b.extend(std::iter::repeat(0u8).take(20)); // 2^160
        let mut out = Vec::new();
        varint_text(&b, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1461501637330902918203684832716283019655932542976"
        );
        let neg: Vec<u8> = std::iter::once(0xffu8)
            .chain(std::iter::repeat(0u8).take(20))
            .collect(); // -2^160
        let mut out = Vec::new();
        varint_text(&neg, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-1461501637330902918203684832716283019655932542976"
        );
    }

    #[test]
    fn inet_like_glibc() {
        let t = |b: [u8; 16]| {
            let mut out = Vec::new();
            inet_text(&b, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(t([0; 16]), "::");
        let mut one = [0u8; 16];
        one[15] = 1;
        assert_eq!(t(one), "::1");
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(t(mapped), "::ffff:1.2.3.4");
        let mut doc = [0u8; 16];
        doc[0] = 0x20;
        doc[1] = 0x01;
        doc[2] = 0x0d;
        doc[3] = 0xb8;
        doc[15] = 1;
        assert_eq!(t(doc), "2001:db8::1");
    }
}
