//! Accounts.

use chrono::Utc;
use rekindle_domain::Email;
use rekindle_domain::campaign::parse_time_zone;
use rekindle_store::{Account, Actor, NewAccount};

use crate::{App, ServiceError};

/// Creates an account after validating its settings.
pub async fn create_account(
    app: &App,
    new: &NewAccount,
    actor: &Actor,
) -> Result<Account, ServiceError> {
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        return Err(ServiceError::Invalid(
            "account name must be 1 to 200 characters".into(),
        ));
    }
    Email::parse(&new.sender_email).map_err(|_| {
        ServiceError::Invalid(format!(
            "invalid sender_email {:?}: use an address such as sales@example.com",
            new.sender_email
        ))
    })?;
    if new.postal_address.trim().len() < 10 {
        return Err(ServiceError::Invalid(
            "postal_address is required: every email must carry the sender's postal address (CAN-SPAM)".into(),
        ));
    }
    parse_time_zone(&new.time_zone).map_err(|e| ServiceError::Invalid(e.to_string()))?;

    let mut tx = app.store.begin_system("accounts").await?;
    let account = tx.create_account(new, actor, Utc::now()).await?;
    tx.commit().await?;
    tracing::info!(account_id = %account.id, "account created");
    Ok(account)
}
