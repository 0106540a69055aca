//! Sources that hand the readers the same bytes in other ways: in small reads of varying size,
//! or failing part way, so that a reader's result can be compared with what it reads from one
//! whole buffer.

use std::io::{self, Read};

/// A small deterministic generator (xorshift64*), for choices derived from the input itself.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// A generator seeded from `data`, so that the same input makes the same choices.
    pub fn from_data(data: &[u8]) -> Self {
        // FNV-1a: stable across platforms and versions.
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        for byte in data {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(hash)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next_u64() % bound as u64) as usize
        }
    }
}

/// Hands out `data` a few bytes at a time (1 to `most` per read, chosen by `rng`), and fails
/// with an I/O error at `fail_at` bytes, if given, instead of going on.
#[derive(Debug)]
pub struct Trickle {
    data: Vec<u8>,
    at: usize,
    most: usize,
    rng: Rng,
    fail_at: Option<usize>,
}

impl Trickle {
    /// A source of `data` in reads of at most `most` bytes.
    pub fn new(data: &[u8], most: usize, rng: Rng) -> Self {
        Self {
            data: data.to_vec(),
            at: 0,
            most: most.max(1),
            rng,
            fail_at: None,
        }
    }

    /// The same source, failing once `fail_at` bytes were read (at the end: instead of the end).
    pub fn failing_at(mut self, fail_at: usize) -> Self {
        self.fail_at = Some(fail_at.min(self.data.len()));
        self
    }
}

/// The message of the error a failing [`Trickle`] returns.
pub const FAILURE: &str = "the source failed on purpose";

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = self.fail_at.unwrap_or(self.data.len());
        if self.at == end && self.fail_at.is_some() {
            return Err(io::Error::other(FAILURE));
        }
        let size = (1 + self.rng.below(self.most))
            .min(buf.len())
            .min(end - self.at);
        buf[..size].copy_from_slice(&self.data[self.at..self.at + size]);
        self.at += size;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trickle_gives_every_byte_in_order_then_fails_where_told() {
        let data: Vec<u8> = (0..=255).collect();
        let mut all = Vec::new();
        Trickle::new(&data, 7, Rng::new(1))
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, data);
        let mut some = Vec::new();
        let error = Trickle::new(&data, 7, Rng::new(1))
            .failing_at(100)
            .read_to_end(&mut some)
            .unwrap_err();
        assert_eq!(error.to_string(), FAILURE);
        assert_eq!(some, data[..100]);
    }
}
