//! Campaigns: create with steps, list, get, change while a draft, delete,
//! enroll leads, preview the messages for a few leads, launch, pause, resume,
//! and statistics per step and per A/B variant.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc, Weekday};
use rekindle_auth::Scope;
use rekindle_crews::{LeadOutcome, LeadRun};
use rekindle_domain::campaign::{CampaignSpec, MAX_STEPS, SendingWindow, StepSpec};
use rekindle_domain::{CampaignId, Channel, LeadId, Tone};
use rekindle_services::campaigns as service;
use rekindle_services::crew::{PREVIEW_MAX_LEADS, preview_step};
use rekindle_store::{Campaign, CampaignChanges, Step};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery, PathId};
use crate::pagination::{PageOf, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    /// Days on which messages may go out, such as `["mon", "tue", "wed", "thu", "fri"]`.
    pub weekdays: Vec<String>,
    /// First local hour, 0 to 23.
    pub start_hour: u8,
    /// Hour at which sending stops, 1 to 24, after `start_hour`.
    pub end_hour: u8,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepInput {
    /// `email`, `sms` or `whatsapp`.
    pub channel: String,
    /// Days after the previous step (the first step: after launch), 0 to 90.
    pub delay_days: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// 1 to 200 characters.
    pub name: String,
    /// `friendly`, `professional` or `direct`; `professional` when absent.
    pub tone: Option<String>,
    /// Monday to Friday, 09:00 to 17:00 in each lead's time zone when absent.
    pub window: Option<WindowView>,
    /// 1 to 10 steps.
    pub steps: Vec<StepInput>,
    /// Open and click tracking of the campaign's emails: an open pixel and
    /// signed click redirects. On when absent.
    pub tracking: Option<bool>,
    /// While the campaign is active, the periodic dormant-lead scan enrolls
    /// leads idle 30 to 365 days into it; false when absent.
    pub takes_dormant_leads: Option<bool>,
}

/// Changes to a campaign. Name, tone and window change only while it is a
/// draft; `takes_dormant_leads` changes in any status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    pub name: Option<String>,
    pub tone: Option<String>,
    pub window: Option<WindowView>,
    /// Switches open and click tracking; unlike the other fields, it can
    /// change after launch and applies to emails sent from then on.
    pub tracking: Option<bool>,
    pub takes_dormant_leads: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub id: Uuid,
    /// 1 for the first step.
    pub position: i32,
    pub channel: String,
    pub delay_days: u32,
    /// The subject variant (`A` or `B`) that won the step's A/B test, once it
    /// is decided.
    pub ab_winner: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    /// `draft`, `launching`, `active`, `paused`, `completed` or `archived`.
    pub status: String,
    pub tone: String,
    pub window: WindowView,
    /// Whether the campaign's emails carry the open pixel and tracked links.
    pub tracking: bool,
    /// The dormant-lead scan enrolls idle leads while the campaign is active.
    pub takes_dormant_leads: bool,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    /// Present on single-campaign responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepView>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadIds {
    /// 1 to 1,000 lead ids (1 to 5 for a preview).
    pub lead_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollResponse {
    /// Leads newly enrolled; leads already in the campaign are skipped.
    pub added: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// 1 to 5 lead ids.
    pub lead_ids: Vec<Uuid>,
    /// Step to preview; 1 when absent.
    pub position: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewItem {
    pub lead_id: Uuid,
    /// `prepared` or `failed`.
    pub outcome: String,
    pub subject: Option<String>,
    /// The other subject line of the A/B test.
    pub subject_b: Option<String>,
    pub body: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Stage and reason, when the crew could not write for this lead.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LaunchResponse {
    pub status: String,
    /// Crew batches queued; each writes and schedules up to 50 leads.
    pub batches_queued: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResumeResponse {
    pub status: String,
    /// Scheduled messages whose send was queued again.
    pub sends_queued: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRow {
    pub position: i32,
    /// A/B variant of the subject line; absent in per-step rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Message status, such as `scheduled`, `sent`, `delivered`, `replied`.
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignStats {
    pub by_step: Vec<StatsRow>,
    pub by_variant: Vec<StatsRow>,
}

fn window_view(window: &SendingWindow) -> WindowView {
    WindowView {
        weekdays: window
            .weekdays
            .iter()
            .map(|day| day.to_string().to_lowercase())
            .collect(),
        start_hour: window.start_hour,
        end_hour: window.end_hour,
    }
}

fn campaign_view(campaign: Campaign, steps: Option<Vec<Step>>) -> CampaignView {
    CampaignView {
        id: campaign.id.0,
        name: campaign.name,
        status: campaign.status.as_str().to_owned(),
        tone: campaign.tone.as_str().to_owned(),
        window: window_view(&campaign.window),
        tracking: campaign.tracking,
        takes_dormant_leads: campaign.takes_dormant_leads,
        created_at: campaign.created_at,
        launched_at: campaign.launched_at,
        steps: steps.map(|steps| {
            steps
                .into_iter()
                .map(|step| StepView {
                    id: step.id.0,
                    position: step.position,
                    channel: step.spec.channel.as_str().to_owned(),
                    delay_days: step.spec.delay_days,
                    ab_winner: step.ab_decision.map(|decision| decision.winner),
                })
                .collect()
        }),
    }
}

fn parse_window(input: &WindowView) -> Result<SendingWindow, ApiError> {
    let weekdays = input
        .weekdays
        .iter()
        .enumerate()
        .map(|(index, text)| {
            text.parse::<Weekday>().map_err(|_| {
                ApiError::invalid(
                    format!("window.weekdays[{index}]"),
                    format!("{text:?} is not a weekday; use mon, tue, wed, thu, fri, sat or sun"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let window = SendingWindow {
        weekdays,
        start_hour: input.start_hour,
        end_hour: input.end_hour,
    };
    window
        .validate()
        .map_err(|error| ApiError::invalid("window", error.to_string()))?;
    Ok(window)
}

fn parse_tone(text: Option<&str>) -> Result<Option<Tone>, ApiError> {
    text.map(|text| {
        text.parse::<Tone>().map_err(|_| {
            ApiError::invalid(
                "tone",
                format!("tone {text:?} is not one of friendly, professional, direct"),
            )
        })
    })
    .transpose()
}

fn parse_steps(steps: &[StepInput]) -> Result<Vec<StepSpec>, ApiError> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(ApiError::invalid(
            "steps",
            format!("a campaign has 1 to {MAX_STEPS} steps, got {}", steps.len()),
        ));
    }
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let channel = step.channel.parse::<Channel>().map_err(|_| {
                ApiError::invalid(
                    format!("steps[{index}].channel"),
                    format!(
                        "channel {:?} is not one of email, sms, whatsapp",
                        step.channel
                    ),
                )
            })?;
            if step.delay_days > rekindle_domain::campaign::MAX_STEP_DELAY_DAYS {
                return Err(ApiError::invalid(
                    format!("steps[{index}].delay_days"),
                    format!(
                        "delay_days is {}; at most {} days between steps",
                        step.delay_days,
                        rekindle_domain::campaign::MAX_STEP_DELAY_DAYS
                    ),
                ));
            }
            Ok(StepSpec {
                channel,
                delay_days: step.delay_days,
            })
        })
        .collect()
}

async fn load(state: &ApiState, caller: &Caller, id: CampaignId) -> Result<CampaignView, ApiError> {
    let mut tx = state.app.store.begin(caller.account).await?;
    let campaign = tx
        .get_campaign(id)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign"))?;
    let steps = tx.list_steps(id).await?;
    tx.commit().await?;
    Ok(campaign_view(campaign, Some(steps)))
}

#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = PageOf<CampaignView>)))]
pub async fn list_campaigns(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<CampaignView>>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    let page = query.request()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let campaigns = tx.list_campaigns(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(campaigns, |campaign| {
        campaign_view(campaign, None)
    })))
}

#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body = CampaignInput,
    responses((status = 201, body = CampaignView), (status = 422, body = Problem)))]
pub async fn create_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(input): ApiJson<CampaignInput>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let spec = CampaignSpec {
        name: validate::text("name", &input.name, 1, 200)?,
        tone: parse_tone(input.tone.as_deref())?.unwrap_or(Tone::Professional),
        window: match &input.window {
            Some(window) => parse_window(window)?,
            None => SendingWindow::default(),
        },
        steps: parse_steps(&input.steps)?,
    };
    let options = service::CampaignOptions {
        tracking: input.tracking.unwrap_or(true),
        takes_dormant_leads: input.takes_dormant_leads.unwrap_or(false),
    };
    let (campaign, steps) =
        service::create_campaign_with(&state.app, caller.account, &caller.actor(), &spec, options)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(campaign_view(campaign, Some(steps))),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem)))]
pub async fn get_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CampaignView>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    Ok(Json(load(&state, &caller, CampaignId(id)).await?))
}

#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CampaignUpdate,
    responses((status = 200, body = CampaignView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<CampaignUpdate>,
) -> Result<Json<CampaignView>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let changes = CampaignChanges {
        name: input
            .name
            .as_deref()
            .map(|name| validate::text("name", name, 1, 200))
            .transpose()?,
        tone: parse_tone(input.tone.as_deref())?,
        window: input.window.as_ref().map(parse_window).transpose()?,
        tracking: input.tracking,
        takes_dormant_leads: None,
    };
    let content_changes =
        changes.name.is_some() || changes.tone.is_some() || changes.window.is_some();
    if content_changes || input.takes_dormant_leads.is_none() {
        service::update_campaign(
            &state.app,
            caller.account,
            &caller.actor(),
            CampaignId(id),
            &changes,
        )
        .await?;
    }
    if let Some(takes) = input.takes_dormant_leads {
        service::set_takes_dormant_leads(
            &state.app,
            caller.account,
            &caller.actor(),
            CampaignId(id),
            takes,
        )
        .await?;
    }
    Ok(Json(load(&state, &caller, CampaignId(id)).await?))
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    service::delete_campaign(&state.app, caller.account, &caller.actor(), CampaignId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/steps", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PageOf<StepView>), (status = 404, body = Problem)))]
pub async fn list_steps(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<PageOf<StepView>>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    let view = load(&state, &caller, CampaignId(id)).await?;
    // A campaign has at most 10 steps, so one page contains them all.
    Ok(Json(PageOf {
        items: view.steps.unwrap_or_default(),
        next: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/enrollments", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LeadIds,
    responses((status = 200, body = EnrollResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn enroll(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<LeadIds>,
) -> Result<Json<EnrollResponse>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    validate::id_list("lead_ids", &input.lead_ids)?;
    let leads: Vec<LeadId> = input.lead_ids.into_iter().map(LeadId).collect();
    let added = service::enroll_leads(
        &state.app,
        caller.account,
        &caller.actor(),
        CampaignId(id),
        &leads,
    )
    .await?;
    Ok(Json(EnrollResponse { added }))
}

/// Writes the messages of one step for up to five leads, without storing or
/// sending anything. Calls the AI crew, so it has its own, tighter rate limit.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/preview", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PreviewRequest,
    responses((status = 200, body = PageOf<PreviewItem>), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn preview(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<PreviewRequest>,
) -> Result<Json<PageOf<PreviewItem>>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    if input.lead_ids.is_empty() || input.lead_ids.len() > PREVIEW_MAX_LEADS {
        return Err(ApiError::invalid(
            "lead_ids",
            format!(
                "a preview takes 1 to {PREVIEW_MAX_LEADS} lead ids, got {}",
                input.lead_ids.len()
            ),
        ));
    }
    let leads: Vec<LeadId> = input.lead_ids.into_iter().map(LeadId).collect();
    let runs = preview_step(
        &state.app,
        caller.account,
        CampaignId(id),
        input.position.unwrap_or(1),
        &leads,
    )
    .await?;
    Ok(Json(PageOf {
        items: runs.into_iter().map(preview_item).collect(),
        next: None,
    }))
}

fn preview_item(run: LeadRun) -> PreviewItem {
    match run.outcome {
        LeadOutcome::Prepared(prepared) => PreviewItem {
            lead_id: run.lead_id.0,
            outcome: "prepared".into(),
            subject: prepared.subject_variants.as_ref().map(|s| s.a.clone()),
            subject_b: prepared.subject_variants.as_ref().map(|s| s.b.clone()),
            body: Some(prepared.message.full_text()),
            scheduled_at: Some(prepared.schedule.send_at),
            error: None,
        },
        LeadOutcome::Failed { stage, error } => PreviewItem {
            lead_id: run.lead_id.0,
            outcome: "failed".into(),
            subject: None,
            subject_b: None,
            body: None,
            scheduled_at: None,
            error: Some(format!("{stage}: {}", error.message)),
        },
    }
}

/// Starts the campaign: the crew writes and schedules the first step for every
/// enrolled lead in the background, in batches of 50.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/launch", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, body = LaunchResponse), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn launch(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<LaunchResponse>), ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let batches =
        service::launch_campaign(&state.app, caller.account, &caller.actor(), CampaignId(id))
            .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(LaunchResponse {
            status: "active".into(),
            batches_queued: batches,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn pause(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CampaignView>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    service::pause_campaign(&state.app, caller.account, &caller.actor(), CampaignId(id)).await?;
    Ok(Json(load(&state, &caller, CampaignId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, body = ResumeResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn resume(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<ResumeResponse>), ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let sends =
        service::resume_campaign(&state.app, caller.account, &caller.actor(), CampaignId(id))
            .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResumeResponse {
            status: "active".into(),
            sends_queued: sends,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stats", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignStats), (status = 404, body = Problem)))]
pub async fn stats(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CampaignStats>, ApiError> {
    caller.require(Access::Scope(Scope::AnalyticsRead))?;
    let id = CampaignId(id);
    let mut tx = state.app.store.begin(caller.account).await?;
    tx.get_campaign(id)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign"))?;
    let by_step = tx.count_messages_by_step(id).await?;
    let by_variant = tx.count_messages_by_variant(id).await?;
    tx.commit().await?;
    Ok(Json(CampaignStats {
        by_step: by_step
            .into_iter()
            .map(|row| StatsRow {
                position: row.position,
                variant: None,
                channel: Some(row.channel.as_str().to_owned()),
                status: row.status.as_str().to_owned(),
                count: row.count,
            })
            .collect(),
        by_variant: by_variant
            .into_iter()
            .map(|row| StatsRow {
                position: row.position,
                variant: Some(row.variant),
                channel: None,
                status: row.status.as_str().to_owned(),
                count: row.count,
            })
            .collect(),
    }))
}
