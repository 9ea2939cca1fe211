//! The ideal customer profile of each account with enough won deals. A
//! periodic system job derives it from the leads with status `won` and
//! stores it. It then ranks the account's other leads against it: each gets
//! an adjustment to its ranking, with the reason. The rules are in
//! `rekindle_crews::icp`.

use chrono::{DateTime, Duration, Utc};
use rekindle_crews::icp::{IdealCustomerProfile, MIN_WON_DEALS, derive_profile, match_lead};
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::{App, ServiceError};

/// System job that refreshes every account's profile.
pub const ICP_REFRESH_JOB: &str = "icp_refresh";
/// Age after which a profile is derived again although the number of won
/// deals did not change, so changed fields of won leads are picked up.
const PROFILE_MAX_AGE: Duration = Duration::hours(24);
/// Leads read per page and ranked per transaction.
const PAGE: u32 = 200;

/// Refreshes the profile of every account with at least
/// [`MIN_WON_DEALS`] won deals. An account that fails is logged and the
/// others go on; the last error is returned so the job is retried.
pub async fn refresh_profiles(app: &App, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let mut tx = app.store.begin_system("icp_refresh").await?;
    let accounts = tx.accounts_with_won_leads(MIN_WON_DEALS as i64).await?;
    tx.commit().await?;

    let mut last_error = None;
    for account in &accounts {
        if let Err(error) = refresh_account(app, *account, now).await {
            tracing::error!(account_id = %account, %error, "refreshing the ideal customer profile failed");
            last_error = Some(error);
        }
    }
    match last_error {
        Some(error) => Err(error),
        None => Ok(accounts.len()),
    }
}

/// The outcome of refreshing one account's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct IcpRefresh {
    pub profile: IdealCustomerProfile,
    /// The profile was derived in this refresh rather than read back.
    pub derived: bool,
    /// Leads ranked against the profile in this refresh.
    pub ranked: usize,
}

/// Derives the account's profile when it has none, when its number of won
/// deals changed or when it is older than a day, then ranks the leads not
/// ranked since. Returns `None` below [`MIN_WON_DEALS`] won deals.
pub async fn refresh_account(
    app: &App,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<Option<IcpRefresh>, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let won = tx.count_leads_with_status(LeadStatus::Won).await?;
    if won < MIN_WON_DEALS as i64 {
        tx.commit().await?;
        return Ok(None);
    }
    let stored = tx.get_icp_profile().await?;
    let current = stored
        .filter(|row| i64::from(row.won_deals) == won && now - row.derived_at < PROFILE_MAX_AGE);

    let (row, derived) = match current {
        Some(row) => (row, false),
        None => match derive(&mut *tx, now).await? {
            Some(row) => (row, true),
            None => {
                tx.commit().await?;
                return Ok(None);
            }
        },
    };
    tx.commit().await?;

    let profile: IdealCustomerProfile =
        serde_json::from_value(row.profile.clone()).map_err(|error| {
            ServiceError::Invalid(format!(
                "stored ideal customer profile of account {account} is unreadable: {error}"
            ))
        })?;
    let ranked = rank_leads(app, account, &profile, row.derived_at, now).await?;
    if derived || ranked > 0 {
        tracing::info!(account_id = %account, won_deals = profile.won_deals, derived, ranked, "ideal customer profile refreshed");
    }
    Ok(Some(IcpRefresh {
        profile,
        derived,
        ranked,
    }))
}

/// Reads every won lead, derives the profile and stores it with its audit
/// entry.
async fn derive(
    tx: &mut dyn TenantTx,
    now: DateTime<Utc>,
) -> Result<Option<IcpProfileRow>, ServiceError> {
    let filter = LeadFilter {
        status: Some(LeadStatus::Won),
        ..LeadFilter::default()
    };
    let mut won = Vec::new();
    let mut page = PageRequest::new(None, Some(PAGE));
    loop {
        let leads = tx.list_leads(&filter, page).await?;
        won.extend(leads.items.into_iter().map(|lead| lead.fields));
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(PAGE)),
            None => break,
        }
    }

    let Some(profile) = derive_profile(&won) else {
        return Ok(None);
    };
    let row = IcpProfileRow {
        won_deals: i32::try_from(profile.won_deals).unwrap_or(i32::MAX),
        profile: json!(profile),
        derived_at: now,
    };
    tx.put_icp_profile(&row).await?;
    tx.append_audit(
        &AuditRecord::new(Actor::system("icp_refresh"), "icp.derive", "account", None)
            .with_changes(json!({ "won_deals": profile.won_deals })),
        now,
    )
    .await?;
    Ok(Some(row))
}

/// Ranks, a page per transaction, the leads not ranked since `derived_at`.
async fn rank_leads(
    app: &App,
    account: AccountId,
    profile: &IdealCustomerProfile,
    derived_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let mut ranked = 0;
    loop {
        let mut tx = app.store.begin(account).await?;
        let leads = tx.leads_to_rank(derived_at, PAGE).await?;
        if leads.is_empty() {
            tx.commit().await?;
            return Ok(ranked);
        }
        let rankings: Vec<IcpRanking> = leads
            .iter()
            .map(|lead| {
                let matched = match_lead(profile, &lead.fields);
                IcpRanking {
                    lead_id: lead.id,
                    adjustment: matched.adjustment,
                    reason: Some(matched.reason),
                }
            })
            .collect();
        // Each page is marked ranked at `now`, which is not before
        // `derived_at`, so it is not listed again and the loop ends.
        tx.set_icp_rankings(&rankings, now.max(derived_at)).await?;
        tx.commit().await?;
        ranked += rankings.len();
    }
}
