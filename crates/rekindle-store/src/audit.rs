//! The audit log's hash chain. Each account has its own chain: entry `seq` stores
//! the hash of entry `seq - 1` and its own hash over both, and the account row
//! stores the newest `(seq, hash)`. A modified entry breaks its own hash, a
//! deleted one breaks the sequence or the link, and a deleted tail no longer
//! matches the head on the account.

use sha2::{Digest, Sha256};

use crate::rows::{AuditEntry, AuditHead};

/// Hash that precedes the first entry of every chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes the hash of an entry over its previous hash and every stored field,
/// each length-prefixed so that no two field lists hash alike.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let record = &entry.record;
    let timestamp = entry
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let changes = record.changes.to_string();
    let fields: [&str; 12] = [
        &entry.prev_hash,
        &entry.account_id.to_string(),
        &entry.seq.to_string(),
        record.actor.kind.as_str(),
        &record.actor.id,
        &record.action,
        &record.target_type,
        record.target_id.as_deref().unwrap_or(""),
        &changes,
        record.ip.as_deref().unwrap_or(""),
        record.request_id.as_deref().unwrap_or(""),
        &timestamp,
    ];

    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// A break found in an audit chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("account {account}: entry {seq} was modified (its hash does not match its contents)")]
    Modified { account: String, seq: i64 },
    #[error("account {account}: entry {expected} is missing (found {found} next)")]
    Missing {
        account: String,
        expected: i64,
        found: i64,
    },
    #[error("account {account}: entry {seq} does not link to the entry before it")]
    Unlinked { account: String, seq: i64 },
    #[error(
        "account {account}: the chain ends at entry {last_seq} but the account records entry {head_seq} as the newest"
    )]
    Truncated {
        account: String,
        last_seq: i64,
        head_seq: i64,
    },
}

/// Incremental verifier for one account's chain, fed entries in `seq` order, so a
/// long chain is checked in pages without holding it in memory.
pub struct ChainVerifier {
    head: AuditHead,
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl ChainVerifier {
    pub fn new(head: AuditHead) -> Self {
        Self {
            head,
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }

    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let account = self.head.account_id.to_string();
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Missing {
                account,
                expected: self.expected_seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked {
                account,
                seq: entry.seq,
            });
        }
        if entry_hash(entry) != entry.hash {
            return Err(ChainBreak::Modified {
                account,
                seq: entry.seq,
            });
        }

        self.prev_hash = entry.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<u64, ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if last_seq != self.head.seq || (last_seq > 0 && self.prev_hash != self.head.hash) {
            return Err(ChainBreak::Truncated {
                account: self.head.account_id.to_string(),
                last_seq,
                head_seq: self.head.seq,
            });
        }
        Ok(self.checked)
    }
}

/// Result of verifying every account's chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub accounts: u64,
    pub entries: u64,
    pub breaks: Vec<ChainBreak>,
}

/// Entries read per query while verifying.
const VERIFY_PAGE: u32 = 500;

/// Verifies the audit chain of every account through the audited system path.
pub async fn verify_all(store: &dyn crate::Store) -> Result<VerifyReport, crate::StoreError> {
    let mut tx = store.begin_system("audit-verify").await?;
    let accounts = tx.list_account_ids().await?;
    let mut report = VerifyReport::default();

    for account in accounts {
        report.accounts += 1;
        match verify_account(tx.as_mut(), account).await? {
            Ok(entries) => report.entries += entries,
            Err(chain_break) => report.breaks.push(chain_break),
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// Verifies one account's chain in pages. The outer error is a storage
/// failure, the inner one the first break found.
pub async fn verify_account(
    tx: &mut dyn crate::SystemTx,
    account: rekindle_domain::AccountId,
) -> Result<Result<u64, ChainBreak>, crate::StoreError> {
    let head = tx.audit_head(account).await?;
    let mut verifier = ChainVerifier::new(head);
    let mut after = 0;
    loop {
        let page = tx.list_audit(account, after, VERIFY_PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(verifier.finish());
        };
        after = last.seq;
        for entry in &page {
            if let Err(chain_break) = verifier.push(entry) {
                return Ok(Err(chain_break));
            }
        }
    }
}
