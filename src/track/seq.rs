//! Sequence-number arithmetic modulo 2^32 (RFC 1982 style), as Wireshark's
//! `GT_SEQ`/`LT_SEQ` macros do it: order is the sign of the wrapping
//! difference. There is deliberately no `Ord`: modular order is not total,
//! so sequence numbers must never key a sorted map.

#[inline]
pub fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}
#[inline]
pub fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
#[inline]
pub fn ge(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) <= 0
}
#[inline]
pub fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps() {
        assert!(gt(5, 0xFFFF_FF00));
        assert!(lt(0xFFFF_FF00, 5));
        assert!(ge(7, 7) && le(7, 7));
        assert!(!gt(7, 7) && !lt(7, 7));
    }

    proptest! {
        #[test]
        fn small_steps_order_like_integers(a: u32, d in 1u32..0x7FFF_FFFF) {
            let b = a.wrapping_add(d);
            prop_assert!(lt(a, b) && gt(b, a) && le(a, b) && ge(b, a));
            prop_assert!(!gt(a, b) && !lt(b, a));
        }
    }
}
