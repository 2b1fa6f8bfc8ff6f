// SPDX-License-Identifier: GPL-2.0

//! Wasm float arithmetic on the FPU (module parameter `fpu=1`, x86_64).
//!
//! By default the engine runs f32/f64 instructions in soft float, as all Rust code in the
//! kernel does, and touches no FPU state. With `fpu=1`, [`KernelFloat`] runs the basic
//! operations (add, sub, mul, div, sqrt, comparisons, conversions from signed integers) on SSE2
//! instead, in a [`kernel::fpu::Section`] opened at the first float instruction and closed by
//! the engine before anything that may sleep or take long and at the end of every fuel slice
//! (see [`FloatUnit`]): a section never lasts longer than one `interrupt_interval` of wasm code,
//! which is the bound the runtime documents for the time between two interrupt checks anyway.
//!
//! The results are bit-identical to soft float's: SSE2 and the soft-float routines both round
//! correctly, so they agree on every result that is not a NaN, and a NaN result (rare: invalid
//! operations and NaN operands) is recomputed in soft float, whose NaN sign and payload differ
//! from SSE's. A KUnit suite below checks this operation by operation.

#[cfg(all(CONFIG_X86_64, not(CONFIG_UML)))]
mod imp {
    use core::cmp::Ordering;
    use kernel::fpu::Section;
    use wasm_engine::{FloatUnit, SoftFloat};

    /// `bits` (an `f64`) is a NaN.
    #[inline(always)]
    fn is_nan64(bits: u64) -> bool {
        bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000
    }

    /// `bits` (an `f32`) is a NaN.
    #[inline(always)]
    fn is_nan32(bits: u32) -> bool {
        bits & 0x7fff_ffff > 0x7f80_0000
    }

    /// Where a [`KernelFloat`] is.
    enum State {
        /// `fpu=0`: soft float only.
        Off,
        /// No section open; the next float operation opens one.
        Idle,
        /// A section is open.
        Open(Section),
        /// The FPU is not usable in this context (a hard interrupt, say): soft float until the
        /// next release.
        Unusable,
    }

    /// The engine's [`FloatUnit`] for the kernel: see the module documentation.
    pub(crate) struct KernelFloat {
        state: State,
        /// Sections opened, for the tests.
        sections: u32,
    }

    impl KernelFloat {
        /// A unit using the FPU if `enabled`, else soft float only.
        pub(crate) fn new(enabled: bool) -> Self {
            Self {
                state: if enabled { State::Idle } else { State::Off },
                sections: 0,
            }
        }

        /// How many FPU sections the unit opened.
        #[cfg_attr(not(CONFIG_WASM_KUNIT_TEST), allow(dead_code))]
        pub(crate) fn sections(&self) -> u32 {
            self.sections
        }

        /// The open section, opening one if none is.
        #[inline(always)]
        fn section(&mut self) -> Option<&Section> {
            if let State::Idle = self.state {
                self.state = match Section::try_begin() {
                    Some(section) => {
                        self.sections = self.sections.wrapping_add(1);
                        State::Open(section)
                    }
                    None => State::Unusable,
                };
            }
            match &self.state {
                State::Open(section) => Some(section),
                _ => None,
            }
        }
    }

    /// An operation on the FPU if a section is open, with soft float for NaN results and
    /// where there is no section.
    macro_rules! arith {
        ($($name:ident($($arg:ident),*): $bits:ty, $float:ty, $nan:ident,
            |$s:ident| $hw:expr;)*) => {$(
            #[inline(always)]
            fn $name(&mut self, $($arg: $bits),*) -> $bits {
                if let Some($s) = self.section() {
                    $(let $arg = <$float>::from_bits($arg);)*
                    let r = ($hw).to_bits();
                    if !$nan(r) {
                        return r;
                    }
                    $(let $arg = $arg.to_bits();)*
                    return SoftFloat.$name($($arg),*);
                }
                SoftFloat.$name($($arg),*)
            }
        )*};
    }

    /// A comparison on the FPU if a section is open: no NaN results to fix up.
    macro_rules! compare {
        ($($name:ident: $bits:ty, $float:ty, $cmp:ident, |$o:ident| $test:expr;)*) => {$(
            #[inline(always)]
            fn $name(&mut self, a: $bits, b: $bits) -> bool {
                match self.section() {
                    Some(s) => {
                        let $o = s.$cmp(<$float>::from_bits(a), <$float>::from_bits(b));
                        $test
                    }
                    None => SoftFloat.$name(a, b),
                }
            }
        )*};
    }

    impl FloatUnit for KernelFloat {
        #[inline(always)]
        fn release(&mut self) {
            if let State::Open(_) | State::Unusable = self.state {
                // Dropping the section ends it.
                self.state = State::Idle;
            }
        }

        arith! {
            f32_add(a, b): u32, f32, is_nan32, |s| s.add_f32(a, b);
            f32_sub(a, b): u32, f32, is_nan32, |s| s.sub_f32(a, b);
            f32_mul(a, b): u32, f32, is_nan32, |s| s.mul_f32(a, b);
            f32_div(a, b): u32, f32, is_nan32, |s| s.div_f32(a, b);
            f32_sqrt(a): u32, f32, is_nan32, |s| s.sqrt_f32(a);
            f64_add(a, b): u64, f64, is_nan64, |s| s.add_f64(a, b);
            f64_sub(a, b): u64, f64, is_nan64, |s| s.sub_f64(a, b);
            f64_mul(a, b): u64, f64, is_nan64, |s| s.mul_f64(a, b);
            f64_div(a, b): u64, f64, is_nan64, |s| s.div_f64(a, b);
            f64_sqrt(a): u64, f64, is_nan64, |s| s.sqrt_f64(a);
        }

        compare! {
            f32_eq: u32, f32, compare_f32, |o| o == Some(Ordering::Equal);
            f32_lt: u32, f32, compare_f32, |o| o == Some(Ordering::Less);
            f32_le: u32, f32, compare_f32, |o| matches!(o, Some(Ordering::Less | Ordering::Equal));
            f64_eq: u64, f64, compare_f64, |o| o == Some(Ordering::Equal);
            f64_lt: u64, f64, compare_f64, |o| o == Some(Ordering::Less);
            f64_le: u64, f64, compare_f64, |o| matches!(o, Some(Ordering::Less | Ordering::Equal));
        }

        #[inline(always)]
        fn f32_from_i64(&mut self, a: i64) -> u32 {
            match self.section() {
                Some(s) => s.i64_to_f32(a).to_bits(),
                None => SoftFloat.f32_from_i64(a),
            }
        }

        #[inline(always)]
        fn f64_from_i64(&mut self, a: i64) -> u64 {
            match self.section() {
                Some(s) => s.i64_to_f64(a).to_bits(),
                None => SoftFloat.f64_from_i64(a),
            }
        }
    }
}

#[cfg(not(all(CONFIG_X86_64, not(CONFIG_UML))))]
mod imp {
    use wasm_engine::FloatUnit;

    /// Soft float only: the FPU path is x86_64's.
    pub(crate) struct KernelFloat;

    impl KernelFloat {
        pub(crate) fn new(_enabled: bool) -> Self {
            Self
        }
    }

    impl FloatUnit for KernelFloat {}
}

pub(crate) use imp::KernelFloat;

/// Where wasm float arithmetic runs, for the log line at load.
pub(crate) fn describe() -> &'static str {
    match (
        crate::module_parameters::fpu.value() != 0,
        cfg!(all(CONFIG_X86_64, not(CONFIG_UML))),
    ) {
        (false, _) => "soft float",
        (true, true) => "float arithmetic on the FPU",
        (true, false) => "soft float: fpu=1 is for x86_64 only",
    }
}

impl KernelFloat {
    /// The unit the `fpu` module parameter asks for.
    pub(crate) fn from_param() -> Self {
        Self::new(crate::module_parameters::fpu.value() != 0)
    }
}

// The FPU path is x86_64's; elsewhere the unit is soft float, nothing to compare.
#[cfg(all(CONFIG_WASM_KUNIT_TEST, CONFIG_X86_64, not(CONFIG_UML)))]
#[kernel::prelude::kunit_tests(wasm_fpu)]
mod tests {
    use super::KernelFloat;
    use kernel::prelude::*;
    use wasm_engine::{FloatUnit, SoftFloat};

    /// `f64` operands every operation must meet: signed zeros, the smallest and largest
    /// subnormals and normals, ones, infinities, and quiet and signalling NaNs of both signs
    /// with payloads.
    const EDGES64: [u64; 20] = [
        0,
        0x8000_0000_0000_0000,
        1,
        0x800f_ffff_ffff_ffff,
        0x0010_0000_0000_0000,
        0x8010_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xbff0_0000_0000_0000,
        0x3ff0_0000_0000_0001,
        0x4000_0000_0000_0000,
        0x7fef_ffff_ffff_ffff,
        0xffef_ffff_ffff_ffff,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0xfff8_0000_0000_0000,
        0x7ff8_0000_0000_1234,
        0x7ff0_0000_0000_0001,
        0xfff4_0000_0000_5678,
        0x3fb9_9999_9999_999a,
    ];

    /// The same for `f32`.
    const EDGES32: [u32; 18] = [
        0,
        0x8000_0000,
        1,
        0x807f_ffff,
        0x0080_0000,
        0x3f80_0000,
        0xbf80_0000,
        0x3f80_0001,
        0x4000_0000,
        0x7f7f_ffff,
        0xff7f_ffff,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0xffc0_0000,
        0x7fc0_1234,
        0x7f80_0001,
        0x3dcc_cccd,
    ];

    /// xorshift64*: deterministic operands.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// An edge case, raw bits, or a number whose exponent is near 0 (so that sums
        /// cancel and products stay in range), each a third of the time.
        fn f64(&mut self) -> u64 {
            let r = self.next();
            match r % 3 {
                0 => EDGES64[(r >> 8) as usize % EDGES64.len()],
                1 => self.next(),
                _ => {
                    let bits = self.next();
                    let exponent = 1023 - 40 + (bits >> 56) % 80;
                    (bits & 0x800f_ffff_ffff_ffff) | exponent << 52
                }
            }
        }

        fn f32(&mut self) -> u32 {
            let r = self.next();
            match r % 3 {
                0 => EDGES32[(r >> 8) as usize % EDGES32.len()],
                1 => self.next() as u32,
                _ => {
                    let bits = self.next() as u32;
                    let exponent = 127 - 20 + (bits >> 24) % 40;
                    (bits & 0x807f_ffff) | exponent << 23
                }
            }
        }
    }

    /// Runs every operation of the unit on the FPU and in soft float; returns how many gave
    /// different bits, each logged with its operands.
    fn check(hw: &mut KernelFloat, a: u64, b: u64, c: u32, d: u32) -> u32 {
        let soft = &mut SoftFloat;
        let mut mismatches = 0;
        macro_rules! same {
            ($op:ident($($x:expr),*)) => {{
                let (hw, soft) = (u64::from(hw.$op($($x),*)), u64::from(soft.$op($($x),*)));
                if hw != soft {
                    let op = stringify!($op);
                    // The operands' bit patterns: `u32`, `u64` or `i64` (which has no
                    // `From` into `u64`), so a cast.
                    #[allow(clippy::cast_lossless)]
                    let args = [$(($x) as u64),*];
                    pr_err!("{op}{args:x?}: FPU {hw:#x}, soft float {soft:#x}\n");
                    mismatches += 1;
                }
            }};
        }
        macro_rules! binary {
            ($x:ident, $y:ident: $($op:ident),*) => {$(same!($op($x, $y));)*};
        }
        binary!(a, b: f64_add, f64_sub, f64_mul, f64_div, f64_eq, f64_lt, f64_le);
        binary!(c, d: f32_add, f32_sub, f32_mul, f32_div, f32_eq, f32_lt, f32_le);
        same!(f64_sqrt(a));
        same!(f32_sqrt(c));
        // Conversions of large integers (rounded) and of small ones (exact).
        for i in [a as i64, (a as i64) >> 20] {
            same!(f64_from_i64(i));
            same!(f32_from_i64(i));
        }
        mismatches
    }

    #[test]
    fn fpu_results_equal_soft_float_bit_for_bit() {
        let mut hw = KernelFloat::new(true);
        let mut mismatches = 0;
        // Every pair of edge cases.
        for (i, &a) in EDGES64.iter().enumerate() {
            for (j, &b) in EDGES64.iter().enumerate() {
                let (c, d) = (EDGES32[i % EDGES32.len()], EDGES32[j % EDGES32.len()]);
                mismatches += check(&mut hw, a, b, c, d);
            }
            // Sections as short as the interpreter's: released between batches.
            hw.release();
        }
        // And 30 000 random pairs.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for n in 0..30_000u32 {
            let (a, b, c, d) = (rng.f64(), rng.f64(), rng.f32(), rng.f32());
            mismatches += check(&mut hw, a, b, c, d);
            if n % 64 == 0 {
                hw.release();
            }
        }
        hw.release();
        assert_eq!(mismatches, 0);
        // The comparison meant something: the FPU ran (KUnit runs in process context).
        assert!(hw.sections() > 400);
    }

    #[test]
    fn fpu_off_never_opens_a_section() {
        let mut unit = KernelFloat::new(false);
        let two = 0x4000_0000_0000_0000;
        assert_eq!(unit.f64_mul(two, two), 0x4010_0000_0000_0000);
        unit.release();
        assert_eq!(unit.sections(), 0);
    }
}
