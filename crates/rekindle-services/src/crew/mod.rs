//! The reactivation crew as jobs: scoring imported leads, and preparing one
//! campaign step for a batch of enrollments. The crew runs outside any
//! transaction. Its results are then stored in one transaction, together with
//! the crew run, the stage runs, the messages, the send jobs and the audit entry.

mod follow_up;
mod placement;
mod preview;
mod results;

pub use follow_up::NEXT_STEP_STAGE_NAME;
pub use results::ADDRESS_STAGE_NAME;

pub use preview::{PREVIEW_MAX_LEADS, preview_step};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rekindle_channels::LinkTarget;
use rekindle_crews::lead_text::SafeLead;
use rekindle_crews::{
    CampaignStep, CrewReport, EarlierOutputs, LeadTask, SenderIdentity, has_lawful_basis,
};
use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::lead::{LeadSnapshot, SignalInput};
use rekindle_domain::scheduling::effective_zone;
use rekindle_domain::*;
use rekindle_llm::AccountScope;
use rekindle_store::*;

use crate::jobs::{PrepareStepPayload, ScoreImportPayload};
use crate::{App, ServiceError};
use follow_up::{FollowUp, LeadActivity};

/// Leads scored per transaction.
const SCORE_BATCH: u32 = 200;
/// Leads per crew batch, the size of the dormant-lead scan's batches.
pub const CREW_BATCH: usize = 50;

/// Scores every lead an import created or merged.
pub async fn score_import(
    app: &App,
    account: AccountId,
    payload: ScoreImportPayload,
) -> Result<(), ServiceError> {
    let filter = LeadFilter {
        import_id: Some(payload.import_id),
        ..LeadFilter::default()
    };
    let mut page = PageRequest::new(None, Some(SCORE_BATCH));
    let mut scored = 0;
    loop {
        let now = Utc::now();
        let mut tx = app.store.begin(account).await?;
        let leads = tx.list_leads(&filter, page).await?;
        for lead in &leads.items {
            let score = rekindle_crews::score_lead(&lead.fields, now);
            let reasons = serde_json::to_value(&score.reasons).unwrap_or_default();
            tx.set_lead_score(lead.id, score.score, score.tier, &reasons, now)
                .await?;
        }
        scored += leads.items.len();
        tx.commit().await?;
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(SCORE_BATCH)),
            None => break,
        }
    }
    tracing::info!(account_id = %account, import_id = %payload.import_id, scored, "import scored");
    Ok(())
}

/// One enrollment going through the crew, with its lead as read when the
/// batch started and the id its message will get. The id exists before the
/// crew runs so the unsubscribe link can name it.
pub(crate) struct Planned {
    pub enrollment: Enrollment,
    pub lead: Lead,
    pub message_id: MessageId,
    /// The channel the message goes out on: the step's, unless the
    /// engagement crew switched it.
    pub channel: Channel,
    /// The engagement crew's decision for a follow-up.
    pub follow_up: Option<FollowUp>,
}

/// Store data for one crew batch, read in one short transaction.
struct StepContext {
    account: Account,
    campaign: Campaign,
    step: Step,
    planned: Vec<Planned>,
    tasks: Vec<LeadTask>,
    /// Enrollments whose lead has no address for this step's channel.
    skipped: Vec<Enrollment>,
    /// Follow-ups the engagement crew does not write now (leads that wait or stop).
    waiting_or_stopped: Vec<(Enrollment, FollowUp)>,
}

/// Writes and schedules step `position` for a batch of enrollments, as at
/// `now`: the engagement crew judges follow-ups at that time, and no message
/// is scheduled before it.
pub async fn prepare_step(
    app: &App,
    account_id: AccountId,
    payload: PrepareStepPayload,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let started_at = Utc::now();
    let Some(context) = load_step_context(app, account_id, &payload, now).await? else {
        return Ok(());
    };
    // Enrollments that moved on since the job was queued (a reply, a pause)
    // leave nothing to prepare or record.
    if context.planned.is_empty()
        && context.skipped.is_empty()
        && context.waiting_or_stopped.is_empty()
    {
        return Ok(());
    }
    let account_zone = parse_time_zone(&context.account.time_zone).unwrap_or(chrono_tz::UTC);

    // Leads the engagement crew moved to another channel are written and
    // placed as a batch of that channel. Waiting, stopped and skipped leads are stored
    // with the first batch.
    let mut first = true;
    for (channel, planned, tasks) in by_channel(&context.step, context.planned, context.tasks) {
        let mut step = context.step.clone();
        step.spec.channel = channel;
        let crew_step = campaign_step(
            app,
            &context.account,
            &context.campaign,
            &step,
            payload.first_send_index,
            now,
        );
        let report = run_crew(app, &context.account, &crew_step, tasks).await;
        let batch = results::StepBatch {
            account_id,
            retry: payload.retry,
            campaign: &context.campaign,
            account_zone,
            step: &step,
            planned: &planned,
            runs: &report.leads,
            skipped: if first { &context.skipped } else { &[] },
            waiting_or_stopped: if first {
                &context.waiting_or_stopped
            } else {
                &[]
            },
            started_at,
        };
        results::store_step_results(app, account_id, batch, now).await?;
        first = false;
    }
    Ok(())
}

/// Splits a batch by the channel each lead's message goes out on, the
/// step's own channel first. It always returns the step's channel, so a
/// batch whose leads all wait, stop or skip is still stored.
fn by_channel(
    step: &Step,
    planned: Vec<Planned>,
    tasks: Vec<LeadTask>,
) -> Vec<(Channel, Vec<Planned>, Vec<LeadTask>)> {
    let mut groups: Vec<(Channel, Vec<Planned>, Vec<LeadTask>)> =
        vec![(step.spec.channel, Vec::new(), Vec::new())];
    for (planned, task) in planned.into_iter().zip(tasks) {
        let index = match groups.iter().position(|group| group.0 == planned.channel) {
            Some(index) => index,
            None => {
                groups.push((planned.channel, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        groups[index].1.push(planned);
        groups[index].2.push(task);
    }
    groups
}

/// Runs the crew for a batch of `account`'s leads: with the account's LLM
/// researcher and writer when an LLM is configured, else with the crew's
/// own agents.
pub(crate) async fn run_crew(
    app: &App,
    account: &Account,
    step: &CampaignStep,
    tasks: Vec<LeadTask>,
) -> CrewReport {
    let scope = AccountScope {
        account_id: account.id,
        plan: account.plan,
    };
    match app.ai.crew_agents(scope) {
        Some(agents) => app.crew.run_with_agents(agents, step, tasks).await,
        None => app.crew.run(step, tasks).await,
    }
}

/// The crew's view of one campaign step.
pub(crate) fn campaign_step(
    app: &App,
    account: &Account,
    campaign: &Campaign,
    step: &Step,
    first_send_index: u32,
    now: DateTime<Utc>,
) -> CampaignStep {
    CampaignStep {
        now,
        channel: step.spec.channel,
        tone: campaign.tone,
        step_index: (step.position - 1) as u32,
        delay_days: step.spec.delay_days,
        window: campaign.window.clone(),
        account_zone: parse_time_zone(&account.time_zone).unwrap_or(chrono_tz::UTC),
        sender: SenderIdentity {
            name: account.sender_name.clone(),
            company: account.name.clone(),
            postal_address: account.postal_address.clone(),
        },
        send_spacing: app.settings.send_spacing,
        first_send_index,
    }
}

async fn load_step_context(
    app: &App,
    account_id: AccountId,
    payload: &PrepareStepPayload,
    now: DateTime<Utc>,
) -> Result<Option<StepContext>, ServiceError> {
    let mut tx = app.store.begin(account_id).await?;
    let account = tx.account().await?;
    let campaign = tx
        .get_campaign(payload.campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", payload.campaign_id))?;
    if campaign.status != CampaignStatus::Active {
        tracing::info!(account_id = %account_id, campaign_id = %campaign.id, status = %campaign.status, "campaign not active; step skipped");
        return Ok(None);
    }
    let steps = tx.list_steps(campaign.id).await?;
    let Some(step) = steps
        .iter()
        .find(|step| step.position == payload.position)
        .cloned()
    else {
        return Ok(None);
    };
    let base = url::Url::parse(&app.settings.public_base_url).map_err(|e| {
        ServiceError::Invalid(format!(
            "invalid public base URL {:?}: {e}",
            app.settings.public_base_url
        ))
    })?;

    let campaign_channels: Vec<Channel> = steps.iter().map(|step| step.spec.channel).collect();
    let account_zone = parse_time_zone(&account.time_zone).unwrap_or(chrono_tz::UTC);
    let mut batch = BatchRows::load(&mut *tx, payload).await?;
    let mut context = StepContext {
        account,
        campaign,
        step,
        planned: Vec::new(),
        tasks: Vec::new(),
        skipped: Vec::new(),
        waiting_or_stopped: Vec::new(),
    };
    let open = batch.open_enrollments(payload);
    for (enrollment, lead) in open {
        let activity = LeadActivity {
            sent: batch.sent_of(enrollment.id),
            reachable: batch.reachable(&lead, &campaign_channels),
            lead_zone: effective_zone(lead.fields.time_zone.as_deref(), account_zone).0,
        };
        let follow_up = (payload.position > 1)
            .then(|| follow_up::decide(&context.step, &activity, now))
            .flatten();
        let (channel, engagement) = match &follow_up {
            Some(FollowUp::Write {
                channel, context, ..
            }) => (*channel, Some(context.clone())),
            Some(decision) => {
                context
                    .waiting_or_stopped
                    .push((enrollment, decision.clone()));
                continue;
            }
            None => (context.step.spec.channel, None),
        };
        if !has_address_for(&lead, channel) {
            context.skipped.push(enrollment);
            continue;
        }
        let previous_sent_at = activity.sent.last().map(|message| message.sent_at);

        let message_id = MessageId::new();
        let unsubscribe = app
            .links
            .unsubscribe_url(
                &base,
                account_id,
                lead.id,
                LinkTarget::Message(message_id),
                now,
            )
            .map_err(|e| {
                ServiceError::Invalid(format!("cannot build the unsubscribe link: {e}"))
            })?;
        let task = LeadTask {
            signals: batch.signals_of(lead.id),
            suppressed: batch.is_suppressed(&lead),
            consent: Some(batch.basis_of(lead.id)),
            unsubscribe_url: unsubscribe.to_string(),
            previous_sent_at: (payload.position > 1).then_some(previous_sent_at).flatten(),
            engagement,
            earlier: batch.earlier_of(lead.id, channel),
            lead: LeadSnapshot {
                id: lead.id,
                fields: lead.fields.clone(),
                status: lead.status,
                score: lead.score,
                tier: lead.tier,
            },
        };
        context.tasks.push(task);
        context.planned.push(Planned {
            enrollment,
            lead,
            message_id,
            channel,
            follow_up,
        });
    }
    Ok(Some(context))
}

/// The rows of one batch, each kind read with one statement.
struct BatchRows {
    enrollments: HashMap<EnrollmentId, Enrollment>,
    leads: HashMap<LeadId, Lead>,
    signals: HashMap<LeadId, Vec<SignalInput>>,
    consents: HashMap<LeadId, ConsentBasis>,
    suppressed_emails: HashSet<String>,
    suppressed_phones: HashSet<String>,
    /// Sent messages per enrollment, read for follow-up steps only.
    sent: HashMap<EnrollmentId, Vec<SentActivity>>,
    /// Stage outputs of the run the leads resume from, per lead.
    earlier: HashMap<LeadId, EarlierOutputs>,
}

impl BatchRows {
    async fn load(
        tx: &mut dyn TenantTx,
        payload: &PrepareStepPayload,
    ) -> Result<Self, ServiceError> {
        let enrollments = tx.get_enrollments(&payload.enrollment_ids).await?;
        let lead_ids: Vec<LeadId> = enrollments.iter().map(|e| e.lead_id).collect();
        let leads = tx.get_leads(&lead_ids).await?;

        let mut signals: HashMap<LeadId, Vec<SignalInput>> = HashMap::new();
        for signal in tx.list_signals_of(&lead_ids).await? {
            signals
                .entry(signal.lead_id)
                .or_default()
                .push(signal.input);
        }
        let consents = tx.latest_consents(&lead_ids).await?.into_iter().collect();
        let emails: Vec<String> = leads
            .iter()
            .filter_map(|lead| lead.fields.email.as_ref().map(|e| e.as_str().to_owned()))
            .collect();
        let phones: Vec<String> = leads
            .iter()
            .filter_map(|lead| lead.fields.phone.as_ref().map(|p| p.as_str().to_owned()))
            .collect();
        let suppressed_emails = tx.suppressed_values(ContactKind::Email, &emails).await?;
        let suppressed_phones = tx.suppressed_values(ContactKind::Phone, &phones).await?;
        let earlier = match payload.resume_from {
            Some(run) => earlier_outputs(run, tx.stage_outputs(run, &lead_ids).await?),
            None => HashMap::new(),
        };
        let mut sent: HashMap<EnrollmentId, Vec<SentActivity>> = HashMap::new();
        if payload.position > 1 {
            for message in tx.sent_activity(&payload.enrollment_ids).await? {
                sent.entry(message.enrollment_id).or_default().push(message);
            }
        }

        Ok(Self {
            enrollments: enrollments.into_iter().map(|e| (e.id, e)).collect(),
            leads: leads.into_iter().map(|lead| (lead.id, lead)).collect(),
            signals,
            consents,
            suppressed_emails: suppressed_emails.into_iter().collect(),
            suppressed_phones: suppressed_phones.into_iter().collect(),
            sent,
            earlier,
        })
    }

    /// Returns, in the payload's order, the enrollments still waiting for
    /// this step, with their leads. Enrollments or leads deleted since the
    /// job was queued, and enrollments that moved on, are left out.
    fn open_enrollments(&mut self, payload: &PrepareStepPayload) -> Vec<(Enrollment, Lead)> {
        let mut open = Vec::new();
        for id in &payload.enrollment_ids {
            let Some(enrollment) = self.enrollments.remove(id) else {
                continue;
            };
            let waiting = matches!(
                enrollment.status,
                EnrollmentStatus::Pending | EnrollmentStatus::Active
            ) && enrollment.current_step == payload.position - 1;
            if !waiting {
                continue;
            }
            if let Some(lead) = self.leads.get(&enrollment.lead_id).cloned() {
                open.push((enrollment, lead));
            }
        }
        open
    }

    fn signals_of(&self, lead: LeadId) -> Vec<SignalInput> {
        self.signals.get(&lead).cloned().unwrap_or_default()
    }

    /// Returns the lead's lawful basis: imported B2B leads are contacted on
    /// legitimate interest unless a consent record gives another basis.
    fn basis_of(&self, lead: LeadId) -> ConsentBasis {
        self.consents
            .get(&lead)
            .copied()
            .unwrap_or(ConsentBasis::LegitimateInterest)
    }

    /// Returns the stage outputs the lead reuses. A draft for another
    /// channel than the one the message now goes out on is written again.
    fn earlier_of(&self, lead: LeadId, channel: Channel) -> EarlierOutputs {
        let mut earlier = self.earlier.get(&lead).cloned().unwrap_or_default();
        if earlier
            .draft
            .as_ref()
            .is_some_and(|draft| draft.channel != channel)
        {
            earlier.draft = None;
            earlier.subject_variants = None;
        }
        earlier
    }

    fn sent_of(&self, enrollment: EnrollmentId) -> &[SentActivity] {
        self.sent.get(&enrollment).map_or(&[], Vec::as_slice)
    }

    /// Returns the channels among `channels` that the lead can receive: an
    /// address that is not suppressed and a lawful basis, as the compliance
    /// gate checks them. Only the campaign's own channels count, because
    /// the account may have no sender for the others.
    fn reachable(&self, lead: &Lead, channels: &[Channel]) -> Vec<Channel> {
        if lead.status == LeadStatus::Suppressed {
            return Vec::new();
        }
        let consent = Some(self.basis_of(lead.id));
        let business_contact = SafeLead::from_fields(&lead.fields).company.is_some();
        let email = lead
            .fields
            .email
            .as_ref()
            .is_some_and(|e| !self.suppressed_emails.contains(e.as_str()));
        let phone = lead
            .fields
            .phone
            .as_ref()
            .is_some_and(|p| !self.suppressed_phones.contains(p.as_str()));

        let mut reachable = Vec::new();
        for &channel in channels {
            let address = match channel {
                Channel::Email => email,
                Channel::Sms | Channel::Whatsapp => phone,
            };
            if address
                && has_lawful_basis(channel, consent, business_contact)
                && !reachable.contains(&channel)
            {
                reachable.push(channel);
            }
        }
        reachable
    }

    /// Checks the suppression lists (account and global) and the lead's
    /// status, as [`is_lead_suppressed`] does.
    fn is_suppressed(&self, lead: &Lead) -> bool {
        let email = lead
            .fields
            .email
            .as_ref()
            .is_some_and(|e| self.suppressed_emails.contains(e.as_str()));
        let phone = lead
            .fields
            .phone
            .as_ref()
            .is_some_and(|p| self.suppressed_phones.contains(p.as_str()));
        email || phone || lead.status == LeadStatus::Suppressed
    }
}

/// Groups the stored outputs of crew run `run` by lead. An output that no
/// longer reads as its stage's type is left out, so that stage runs again.
fn earlier_outputs(run: CrewRunId, outputs: Vec<StageOutput>) -> HashMap<LeadId, EarlierOutputs> {
    let mut by_lead: HashMap<LeadId, EarlierOutputs> = HashMap::new();
    for StageOutput {
        lead_id,
        stage,
        output,
    } in outputs
    {
        let earlier = by_lead.entry(lead_id).or_insert_with(|| EarlierOutputs {
            source: format!("crew run {run}"),
            ..EarlierOutputs::default()
        });
        match stage.as_str() {
            "scorer" => earlier.score = serde_json::from_value(output).ok(),
            "researcher" => earlier.research = serde_json::from_value(output).ok(),
            "writer" => earlier.draft = serde_json::from_value(output).ok(),
            "subject_optimizer" => earlier.subject_variants = serde_json::from_value(output).ok(),
            _ => {}
        }
    }
    by_lead
}

/// Checks whether the lead can be reached on `channel` at all.
fn has_address_for(lead: &Lead, channel: Channel) -> bool {
    match channel {
        Channel::Email => lead.fields.email.is_some(),
        Channel::Sms | Channel::Whatsapp => lead.fields.phone.is_some(),
    }
}

/// Checks whether the lead's email or phone is on an account or global suppression list.
pub async fn is_lead_suppressed(tx: &mut dyn TenantTx, lead: &Lead) -> Result<bool, ServiceError> {
    let contacts = [
        (
            ContactKind::Email,
            lead.fields.email.as_ref().map(|e| e.as_str().to_owned()),
        ),
        (
            ContactKind::Phone,
            lead.fields.phone.as_ref().map(|p| p.as_str().to_owned()),
        ),
    ];
    for (kind, value) in contacts {
        let Some(value) = value else { continue };
        if !tx.suppressed_values(kind, &[value]).await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(lead.status == LeadStatus::Suppressed)
}
