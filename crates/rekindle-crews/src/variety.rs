//! Stable choices between phrasings. The choice depends only on the lead id, the
//! step and a slot name, so a message is the same every time it is generated
//! but differs between leads. SHA-256 is used because, unlike the standard
//! library's hasher, its output is fixed across Rust versions and platforms.

use rekindle_domain::LeadId;
use sha2::{Digest, Sha256};

/// A seed for the choices of one message.
#[derive(Debug, Clone, Copy)]
pub struct Variety {
    lead_id: LeadId,
    step_index: u32,
}

impl Variety {
    pub fn new(lead_id: LeadId, step_index: u32) -> Self {
        Self {
            lead_id,
            step_index,
        }
    }

    /// Picks an index below `len` for the named slot, or 0 when `len` is 0.
    pub fn pick(&self, slot: &str, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let value = stable_hash(&[
            self.lead_id.as_uuid().as_bytes(),
            &self.step_index.to_be_bytes(),
            slot.as_bytes(),
        ]);
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        usize::try_from(value % len).unwrap_or(0)
    }

    /// Picks the element of `items` for the slot.
    pub fn choose<'a, T>(&self, slot: &str, items: &'a [T]) -> Option<&'a T> {
        items.get(self.pick(slot, items.len()))
    }
}

/// First 8 bytes of the SHA-256 of the parts, each prefixed with its length so
/// that different splits of the same bytes hash differently.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_is_stable_and_bounded() {
        let lead = LeadId::new();
        let variety = Variety::new(lead, 0);
        assert_eq!(variety.pick("gap", 7), Variety::new(lead, 0).pick("gap", 7));
        assert!(variety.pick("gap", 7) < 7);
        assert_eq!(variety.pick("gap", 0), 0);
    }

    #[test]
    fn pick_spreads_over_leads() {
        let mut counts = [0usize; 4];
        for _ in 0..400 {
            counts[Variety::new(LeadId::new(), 0).pick("slot", 4)] += 1;
        }
        assert!(counts.iter().all(|count| *count > 40), "{counts:?}");
    }

    #[test]
    fn stable_hash_known_value() {
        // SHA-256 of eight zero bytes (the length prefix of an empty part) starts
        // with af5570f5a1810b7a.
        assert_eq!(stable_hash(&[b""]), 0xaf55_70f5_a181_0b7a);
    }
}
