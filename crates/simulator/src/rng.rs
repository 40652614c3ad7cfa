//! The generator's random numbers: splitmix64, seeded per part of the
//! model so that the parts do not reshuffle each other.

/// splitmix64's output function: a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// Salts that keep the random streams of the parts of the model apart, so
// that changing one part does not reshuffle the others.
pub(crate) const SALT_WORLD: u64 = 0x5745_4C44;
pub(crate) const SALT_OWNER: u64 = 0x4F57_4E52;
pub(crate) const SALT_ARCHIVE: u64 = 0x4152_4348;
pub(crate) const SALT_DAY: u64 = 0x4441_5953;
pub(crate) const SALT_TICKET: u64 = 0x5449_434B;
pub(crate) const SALT_INCIDENT: u64 = 0x494E_4344;
pub(crate) const SALT_IDS: u64 = 0x4944_5353;

/// splitmix64 (Steele, Lea and Flood 2014): tiny, fast, and good enough
/// for synthetic data. Only integer arithmetic, so results are the same on
/// every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator seeded from several values (seed, salt, indexes).
    pub(crate) fn derive(parts: &[u64]) -> Self {
        let state = parts.iter().fold(0x2545_F491_4F6C_DD1D_u64, |s, p| {
            mix64(s ^ mix64(p.wrapping_add(0x9E37_79B9_7F4A_7C15)))
        });
        Self(state)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// True with probability `p` percent.
    pub(crate) fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// True with probability `p` per mille.
    pub(crate) fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    /// One of `items` (which must not be empty).
    pub(crate) fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A value of `table` with probability proportional to its weight.
    pub(crate) fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u64 = table.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (value, weight) in table {
            if r < u64::from(*weight) {
                return *value;
            }
            r -= u64::from(*weight);
        }
        table[table.len() - 1].0
    }

    /// Sixteen random bytes as a version-4 UUID.
    pub(crate) fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}
