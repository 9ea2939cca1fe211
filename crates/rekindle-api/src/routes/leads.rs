//! Leads: list with filters and search, get, create, update, delete, rescore,
//! and the signals read from each lead's data.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{ConsentBasis, ContactKind, CustomFields, LeadId, LeadStatus, Tier};
use rekindle_store::{Lead, LeadFilter, LeadOrder, NewLead, Signal, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery, PathId};
use crate::pagination::{PageOf, page_request};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

/// Maximum length of the notes field, in characters.
pub const MAX_NOTES_CHARS: usize = 5000;
/// Maximum length of name, company, title and other short text fields, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadView {
    pub id: Uuid,
    pub email: Option<String>,
    /// E.164, such as `+447700900123`.
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub notes: Option<String>,
    pub crm_status: Option<String>,
    /// The lead's id in the CRM it came from.
    pub external_id: Option<String>,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub engagement_count: Option<u32>,
    pub custom_fields: BTreeMap<String, String>,
    /// `dormant`, `active`, `replied`, `meeting`, `won`, `lost` or `suppressed`.
    pub status: String,
    /// 0 to 100; null until scored.
    pub score: Option<u8>,
    /// `hot`, `warm` or `cold`; null until scored.
    pub tier: Option<String>,
    /// Reasons for the score, one per factor.
    pub score_reasons: Vec<ScoreReasonView>,
    /// Points the lead's match with the ideal customer profile adds to its
    /// score for ranking (negative when it differs); 0 without a profile.
    pub icp_adjustment: i32,
    /// The reason for the adjustment; null until ranked against a profile.
    pub icp_reason: Option<String>,
    /// Score plus the adjustment, 0 to 100: the order of `sort=score` and of
    /// the dormant-lead scan. Null until scored.
    pub ranked_score: Option<u8>,
    pub import_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One factor of a lead's score.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScoreReasonView {
    /// Such as `recency`, `engagement`, `seniority` or `note_cue`.
    pub factor: String,
    /// Points this factor added (negative when it took some away).
    pub points: i32,
    pub detail: String,
}

impl From<Lead> for LeadView {
    fn from(lead: Lead) -> Self {
        let ranked_score = lead.ranked_score();
        let f = lead.fields;
        Self {
            id: lead.id.0,
            email: f.email.map(|e| e.as_str().to_owned()),
            phone: f.phone.map(|p| p.as_str().to_owned()),
            first_name: f.first_name,
            last_name: f.last_name,
            company: f.company,
            job_title: f.job_title,
            industry: f.industry,
            website: f.website,
            city: f.city,
            country: f.country,
            time_zone: f.time_zone,
            notes: f.notes,
            crm_status: f.crm_status,
            external_id: f.external_id,
            last_contacted_at: f.last_contacted_at,
            engagement_count: f.engagement_count,
            custom_fields: f
                .custom_fields
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            status: lead.status.as_str().to_owned(),
            score: lead.score,
            tier: lead.tier.map(|t| t.as_str().to_owned()),
            // Stored by the scorer in this shape; anything else reads as no reasons.
            score_reasons: serde_json::from_value(lead.score_reasons).unwrap_or_default(),
            icp_adjustment: lead.icp_adjustment,
            icp_reason: lead.icp_reason,
            ranked_score,
            import_id: lead.import_id.map(|id| id.0),
            created_at: lead.created_at,
            updated_at: lead.updated_at,
        }
    }
}

/// A lead's fields. On create, a lead needs an email or a phone number. On
/// update, absent fields stay as they are and an empty string clears a field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    pub email: Option<String>,
    /// E.164, or national format with `region`.
    pub phone: Option<String>,
    /// ISO 3166 region for a phone number without a country code, such as `GB`.
    pub region: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    /// Up to 5,000 characters.
    pub notes: Option<String>,
    pub crm_status: Option<String>,
    pub external_id: Option<String>,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub engagement_count: Option<u32>,
    /// At most 50 keys and 16 KiB, string values only.
    pub custom_fields: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeadQuery {
    pub cursor: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// `hot`, `warm` or `cold`.
    pub tier: Option<String>,
    /// `dormant`, `active`, `replied`, `meeting`, `won`, `lost` or `suppressed`.
    pub status: Option<String>,
    pub import_id: Option<Uuid>,
    /// Text found in the email, name, company or CRM id, case-insensitive; up to 100 characters.
    pub q: Option<String>,
    /// `created` (oldest first, the default) or `score` (best ranked score
    /// first, unscored last).
    pub sort: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalView {
    pub id: Uuid,
    /// `funding`, `hiring`, `job_change` or `note_cue`.
    pub kind: String,
    pub summary: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

impl From<Signal> for SignalView {
    fn from(signal: Signal) -> Self {
        Self {
            id: signal.id.0,
            kind: signal.input.kind,
            summary: signal.input.summary,
            source: signal.input.source,
            created_at: signal.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", security(("bearer" = [])),
    params(LeadQuery),
    responses((status = 200, body = PageOf<LeadView>), (status = 422, body = Problem)))]
pub async fn list_leads(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LeadQuery>,
) -> Result<Json<PageOf<LeadView>>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let filter = LeadFilter {
        tier: parse_option::<Tier>("tier", query.tier.as_deref(), "hot, warm, cold")?,
        status: parse_option::<LeadStatus>(
            "status",
            query.status.as_deref(),
            "dormant, active, replied, meeting, won, lost, suppressed",
        )?,
        import_id: query.import_id.map(rekindle_domain::ImportId),
        search: validate::optional_text("q", query.q.as_deref(), 100)?,
        order: match query.sort.as_deref() {
            None | Some("created") => LeadOrder::Created,
            Some("score") => LeadOrder::ScoreDesc,
            Some(other) => {
                return Err(ApiError::invalid(
                    "sort",
                    format!("sort {other:?} is not one of created, score"),
                ));
            }
        },
    };
    let mut tx = state.app.store.begin(caller.account).await?;
    let leads = tx.list_leads(&filter, page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(leads, LeadView::from)))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = LeadView), (status = 404, body = Problem)))]
pub async fn get_lead(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<LeadView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let lead = tx
        .get_lead(LeadId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.commit().await?;
    Ok(Json(lead.into()))
}

#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", security(("bearer" = [])),
    request_body = LeadInput,
    responses((status = 201, body = LeadView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_lead(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(input): ApiJson<LeadInput>,
) -> Result<(StatusCode, Json<LeadView>), ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let fields = apply(LeadFields::default(), &input)?;
    let id = LeadId::new();
    let now = Utc::now();
    let score = rekindle_crews::score_lead(&fields, now);
    let mut tx = state.app.store.begin(caller.account).await?;
    if let Some(email) = &fields.email
        && !tx
            .suppressed_values(ContactKind::Email, &[email.as_str().to_owned()])
            .await?
            .is_empty()
    {
        return Err(ApiError::conflict(
            "this email address is suppressed (it unsubscribed, bounced or was blocked); it cannot be added as a lead",
        )
        .with_field("email"));
    }
    tx.insert_lead(
        &NewLead {
            id,
            fields,
            import_id: None,
            import_ref: None,
        },
        now,
    )
    .await
    .map_err(duplicate_email)?;
    let reasons = serde_json::to_value(&score.reasons).unwrap_or_default();
    tx.set_lead_score(id, score.score, score.tier, &reasons, now)
        .await?;
    tx.append_audit(
        &caller.audit("lead.create", "lead", Some(id.to_string())),
        now,
    )
    .await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(lead.into())))
}

#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LeadInput,
    responses((status = 200, body = LeadView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_lead(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<LeadInput>,
) -> Result<Json<LeadView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let id = LeadId(id);
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    let fields = apply(lead.fields, &input)?;
    tx.update_lead_fields(id, &fields, now)
        .await
        .map_err(duplicate_email)?;
    let changed: Vec<&str> = changed_fields(&input);
    tx.append_audit(
        &caller
            .audit("lead.update", "lead", Some(id.to_string()))
            .with_changes(json!({ "fields": changed })),
        now,
    )
    .await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.commit().await?;
    Ok(Json(lead.into()))
}

#[utoipa::path(delete, path = "/api/v1/leads/{id}", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_lead(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.delete_lead(LeadId(id)).await? {
        return Err(ApiError::not_found("lead"));
    }
    tx.append_audit(
        &caller.audit("lead.delete", "lead", Some(id.to_string())),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Scores the lead again from its current fields.
#[utoipa::path(post, path = "/api/v1/leads/{id}/score", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = LeadView), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn score_lead(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<LeadView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let id = LeadId(id);
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    let score = rekindle_crews::score_lead(&lead.fields, now);
    let reasons = serde_json::to_value(&score.reasons).unwrap_or_default();
    tx.set_lead_score(id, score.score, score.tier, &reasons, now)
        .await?;
    tx.append_audit(
        &caller
            .audit("lead.score", "lead", Some(id.to_string()))
            .with_changes(json!({ "score": score.score, "tier": score.tier })),
        now,
    )
    .await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.commit().await?;
    Ok(Json(lead.into()))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/signals", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PageOf<SignalView>), (status = 404, body = Problem)))]
pub async fn list_signals(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<PageOf<SignalView>>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let id = LeadId(id);
    let mut tx = state.app.store.begin(caller.account).await?;
    tx.get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    let signals = tx.list_signals(id).await?;
    tx.commit().await?;
    // A lead has a handful of signals, read from its own fields, so one page contains them all.
    Ok(Json(PageOf {
        items: signals.into_iter().map(SignalView::from).collect(),
        next: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// `consent`, `legitimate_interest`, `contract` or `withdrawn`.
    pub basis: String,
    /// Where the basis comes from, such as `web form 2026-11-02` or `signed MSA`.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub lead_id: Uuid,
    pub basis: String,
    pub source: String,
    pub recorded_at: DateTime<Utc>,
}

/// Records the lead's lawful basis for contact. The latest record applies: text
/// messages need `consent` or `contract`, and `withdrawn` stops all sending,
/// including messages already scheduled.
#[utoipa::path(post, path = "/api/v1/leads/{id}/consent", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ConsentInput,
    responses((status = 201, body = ConsentView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn record_consent(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<(StatusCode, Json<ConsentView>), ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let basis: ConsentBasis = input.basis.parse().map_err(|_| {
        ApiError::invalid(
            "basis",
            format!(
                "basis {:?} is not one of consent, legitimate_interest, contract, withdrawn",
                input.basis
            ),
        )
    })?;
    let source = validate::text("source", &input.source, 1, 200)?;
    let lead = LeadId(id);
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    tx.get_lead(lead)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.record_consent(lead, basis, &source, now).await?;
    tx.append_audit(
        &caller
            .audit("consent.record", "lead", Some(id.to_string()))
            .with_changes(json!({ "basis": basis, "source": source })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ConsentView {
            lead_id: id,
            basis: basis.as_str().to_owned(),
            source,
            recorded_at: now,
        }),
    ))
}

fn parse_option<T: std::str::FromStr>(
    field: &str,
    value: Option<&str>,
    expected: &str,
) -> Result<Option<T>, ApiError> {
    value
        .map(|text| {
            text.parse::<T>().map_err(|_| {
                ApiError::invalid(field, format!("{field} {text:?} is not one of {expected}"))
            })
        })
        .transpose()
}

fn duplicate_email(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(_) => {
            ApiError::conflict("another lead of this account has this email address")
                .with_field("email")
        }
        other => other.into(),
    }
}

/// Applies the input to `fields`: absent stays, empty clears, a value is checked.
fn apply(mut fields: LeadFields, input: &LeadInput) -> Result<LeadFields, ApiError> {
    let region = validate::optional_text("region", input.region.as_deref(), 2)?;
    if let Some(text) = &input.email {
        fields.email = match text.trim() {
            "" => None,
            text => Some(validate::email("email", text)?),
        };
    }
    if let Some(text) = &input.phone {
        fields.phone = match text.trim() {
            "" => None,
            text => Some(validate::phone("phone", text, region.as_deref())?),
        };
    }
    let short = |field: &str, value: &Option<String>, current: Option<String>| match value {
        Some(text) => validate::optional_text(field, Some(text), MAX_SHORT_TEXT_CHARS),
        None => Ok(current),
    };
    fields.first_name = short("first_name", &input.first_name, fields.first_name)?;
    fields.last_name = short("last_name", &input.last_name, fields.last_name)?;
    fields.company = short("company", &input.company, fields.company)?;
    fields.job_title = short("job_title", &input.job_title, fields.job_title)?;
    fields.industry = short("industry", &input.industry, fields.industry)?;
    fields.city = short("city", &input.city, fields.city)?;
    fields.country = short("country", &input.country, fields.country)?;
    fields.crm_status = short("crm_status", &input.crm_status, fields.crm_status)?;
    fields.external_id = short("external_id", &input.external_id, fields.external_id)?;
    if let Some(text) = &input.website {
        fields.website = match text.trim() {
            "" => None,
            text => Some(validate::web_url("website", text)?),
        };
    }
    if let Some(text) = &input.time_zone {
        fields.time_zone = match text.trim() {
            "" => None,
            text => Some(validate::time_zone("time_zone", text)?),
        };
    }
    if let Some(text) = &input.notes {
        fields.notes = validate::optional_text("notes", Some(text), MAX_NOTES_CHARS)?;
    }
    if let Some(at) = input.last_contacted_at {
        fields.last_contacted_at = Some(at);
    }
    if let Some(count) = input.engagement_count {
        fields.engagement_count = Some(count);
    }
    if let Some(map) = &input.custom_fields {
        fields.custom_fields = CustomFields::new(map.clone())
            .map_err(|error| ApiError::invalid("custom_fields", error.to_string()))?;
    }
    if fields.email.is_none() && fields.phone.is_none() {
        return Err(ApiError::invalid(
            "email",
            "a lead needs an email address or a phone number",
        ));
    }
    Ok(fields)
}

/// Names of the fields an update touched, for the audit entry (never values).
fn changed_fields(input: &LeadInput) -> Vec<&'static str> {
    let present = [
        ("email", input.email.is_some()),
        ("phone", input.phone.is_some()),
        ("first_name", input.first_name.is_some()),
        ("last_name", input.last_name.is_some()),
        ("company", input.company.is_some()),
        ("job_title", input.job_title.is_some()),
        ("industry", input.industry.is_some()),
        ("website", input.website.is_some()),
        ("city", input.city.is_some()),
        ("country", input.country.is_some()),
        ("time_zone", input.time_zone.is_some()),
        ("notes", input.notes.is_some()),
        ("crm_status", input.crm_status.is_some()),
        ("external_id", input.external_id.is_some()),
        ("last_contacted_at", input.last_contacted_at.is_some()),
        ("engagement_count", input.engagement_count.is_some()),
        ("custom_fields", input.custom_fields.is_some()),
    ];
    present
        .into_iter()
        .filter(|(_, is_present)| *is_present)
        .map(|(name, _)| name)
        .collect()
}
