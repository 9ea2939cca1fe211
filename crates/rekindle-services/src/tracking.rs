//! Open and click tracking of our own: the HTML part of a tracked email, and
//! recording what its open pixel and click redirects report.

use chrono::{DateTime, Utc};
use rekindle_channels::{ClickClaims, OpenClaims, tracked_html};
use rekindle_domain::{AccountId, MessageId};
use url::Url;

use crate::events::{ApplyReport, EventKind, apply_for_account};
use crate::webhooks::tracking_event;
use crate::{App, ServiceError};

/// Builds the HTML part of a tracked email: every web link goes through a
/// signed click redirect, and an open pixel ends the body. Links to our own
/// pages (unsubscribe, preferences) stay as they are, so opting out never
/// depends on the tracking endpoint. Returns `None` when the public base URL
/// cannot carry tracking links, and the email then goes out untracked.
pub fn tracked_email_html(
    app: &App,
    account: AccountId,
    message: MessageId,
    text_body: &str,
) -> Option<String> {
    let base = Url::parse(&app.settings.public_base_url).ok()?;
    let pixel = app.tracking.open_url(&base, account, message).ok()?;
    let rewrite = |target: &Url| -> Option<Url> {
        if target.origin() == base.origin() {
            return None;
        }
        app.tracking
            .click_url(&base, account, message, target)
            .ok()
            .flatten()
    };
    Some(tracked_html(text_body, &rewrite, &pixel))
}

/// Records an open reported by a message's pixel.
pub async fn record_open(
    app: &App,
    claims: OpenClaims,
    at: DateTime<Utc>,
) -> Result<ApplyReport, ServiceError> {
    let event = tracking_event(claims.message_id, EventKind::Open, at);
    apply_for_account(app, claims.account_id, &[(&event, claims.message_id)], at).await
}

/// Records a click on one of a message's tracked links.
pub async fn record_click(
    app: &App,
    claims: &ClickClaims,
    at: DateTime<Utc>,
) -> Result<ApplyReport, ServiceError> {
    let kind = EventKind::Click {
        url: Some(claims.url.to_string()),
    };
    let event = tracking_event(claims.message_id, kind, at);
    apply_for_account(app, claims.account_id, &[(&event, claims.message_id)], at).await
}
