use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rekindle_domain::campaign::CampaignSpec;
use rekindle_domain::lead::{LeadFields, SignalInput};
use rekindle_domain::*;
use serde_json::Value;

use crate::error::StoreError;
use crate::events::*;
use crate::identity::*;
use crate::optimization::*;
use crate::page::{Page, PageRequest};
use crate::rows::*;
use uuid::Uuid;

/// Database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage backend: a pool that opens transactions.
#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;

    /// Opens a transaction scoped to one account. Every statement in it reads and
    /// changes only that account's rows.
    async fn begin(&self, account: AccountId) -> Result<Box<dyn TenantTx>, StoreError>;

    /// Opens a transaction for cross-tenant system work, on behalf of `component`.
    async fn begin_system(&self, component: &str) -> Result<Box<dyn SystemTx>, StoreError>;
}

/// A transaction scoped to one account. Dropping it without `commit` rolls back.
#[async_trait]
pub trait TenantTx: Send {
    fn account_id(&self) -> AccountId;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    async fn account(&mut self) -> Result<Account, StoreError>;
    async fn update_account(
        &mut self,
        changes: &AccountChanges,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;

    // Users and credentials of this account.
    async fn insert_user(&mut self, user: &NewUser, now: DateTime<Utc>)
    -> Result<User, StoreError>;
    async fn get_user(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    async fn list_users(&mut self, page: PageRequest) -> Result<Page<User>, StoreError>;
    async fn insert_api_key(
        &mut self,
        key: &NewApiKey,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, StoreError>;
    async fn list_api_keys(&mut self, page: PageRequest) -> Result<Page<ApiKey>, StoreError>;
    /// Revokes a key; returns false when it does not exist or was already revoked.
    async fn revoke_api_key(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Revokes every live refresh token of a family (a logout). Returns how many.
    async fn revoke_refresh_family(
        &mut self,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    // Leads.
    /// Inserts leads in as few statements as the backend allows.
    async fn insert_leads(
        &mut self,
        leads: &[NewLead],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Inserts one lead.
    async fn insert_lead(&mut self, lead: &NewLead, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.insert_leads(std::slice::from_ref(lead), now).await
    }
    async fn update_lead_fields(
        &mut self,
        id: LeadId,
        fields: &LeadFields,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_lead(&mut self, id: LeadId) -> Result<Option<Lead>, StoreError>;
    /// Deletes a lead with its signals, enrollments, messages and replies.
    /// Returns false when it does not exist.
    async fn delete_lead(&mut self, id: LeadId) -> Result<bool, StoreError>;
    async fn find_leads_by_emails(&mut self, emails: &[String]) -> Result<Vec<Lead>, StoreError>;
    async fn find_leads_by_phones(&mut self, phones: &[String]) -> Result<Vec<Lead>, StoreError>;
    async fn list_leads(
        &mut self,
        filter: &LeadFilter,
        page: PageRequest,
    ) -> Result<Page<Lead>, StoreError>;
    async fn set_lead_score(
        &mut self,
        id: LeadId,
        score: u8,
        tier: Tier,
        reasons: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Sets several leads' scores; fails when a lead does not exist.
    async fn set_lead_scores(
        &mut self,
        scores: &[LeadScoreUpdate],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn set_lead_status(
        &mut self,
        id: LeadId,
        status: LeadStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn count_leads_by_tier(&mut self) -> Result<Vec<(Option<Tier>, i64)>, StoreError>;
    async fn count_leads_with_status(&mut self, status: LeadStatus) -> Result<i64, StoreError>;
    /// Returns the leads among `ids` that exist, in no particular order.
    async fn get_leads(&mut self, ids: &[LeadId]) -> Result<Vec<Lead>, StoreError>;
    /// Returns the enrollments among `ids` that exist, in no particular order.
    async fn get_enrollments(
        &mut self,
        ids: &[EnrollmentId],
    ) -> Result<Vec<Enrollment>, StoreError>;
    /// Lists the signals of several leads, in id order.
    async fn list_signals_of(&mut self, leads: &[LeadId]) -> Result<Vec<Signal>, StoreError>;
    /// Returns the latest consent record of each of `leads` that has one.
    async fn latest_consents(
        &mut self,
        leads: &[LeadId],
    ) -> Result<Vec<(LeadId, ConsentBasis)>, StoreError>;
    /// Inserts signals, each with the lead it belongs to.
    async fn insert_signals(
        &mut self,
        signals: &[(LeadId, SignalInput)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn list_signals(&mut self, lead: LeadId) -> Result<Vec<Signal>, StoreError>;

    // Sending identities.
    async fn insert_sending_identity(
        &mut self,
        identity: &SendingIdentityRow,
    ) -> Result<(), StoreError>;
    /// Lists every sending identity of the account, oldest first (an account
    /// has a handful).
    async fn list_sending_identities(&mut self) -> Result<Vec<SendingIdentityRow>, StoreError>;
    async fn update_sending_identity(
        &mut self,
        id: Uuid,
        changes: &SendingIdentityChanges,
    ) -> Result<Option<SendingIdentityRow>, StoreError>;
    async fn delete_sending_identity(&mut self, id: Uuid) -> Result<bool, StoreError>;

    // Consent: the latest record is the lead's lawful basis for contact.
    async fn record_consent(
        &mut self,
        lead: LeadId,
        basis: ConsentBasis,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Returns the lead's latest recorded basis, if any was recorded.
    async fn consent_of(&mut self, lead: LeadId) -> Result<Option<ConsentBasis>, StoreError>;

    // Suppressions: account-wide and global ones both apply.
    async fn suppressed_values(
        &mut self,
        kind: ContactKind,
        values: &[String],
    ) -> Result<Vec<String>, StoreError>;
    async fn add_suppression(
        &mut self,
        kind: ContactKind,
        value: &str,
        reason: SuppressionReason,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Lists this account's suppressions and the global ones, in id order.
    async fn list_suppressions(
        &mut self,
        kind: Option<ContactKind>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, StoreError>;
    /// Removes one of this account's suppressions (never a global one).
    async fn remove_suppression(&mut self, id: SuppressionId) -> Result<bool, StoreError>;

    // Imports.
    async fn create_import(
        &mut self,
        id: ImportId,
        file_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn update_import(
        &mut self,
        id: ImportId,
        status: ImportStatus,
        counts: &ImportCounts,
        details: &ImportDetails,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_import(&mut self, id: ImportId) -> Result<Option<Import>, StoreError>;
    async fn list_imports(&mut self, page: PageRequest) -> Result<Page<Import>, StoreError>;
    async fn insert_import_rows(
        &mut self,
        id: ImportId,
        rows: &[ImportRowReport],
    ) -> Result<(), StoreError>;
    /// Lists report rows in record order; the cursor is a record number.
    async fn list_import_rows(
        &mut self,
        id: ImportId,
        after_record: i64,
        limit: u32,
    ) -> Result<Vec<ImportRowReport>, StoreError>;

    // Campaigns.
    async fn create_campaign(
        &mut self,
        id: CampaignId,
        spec: &CampaignSpec,
        now: DateTime<Utc>,
    ) -> Result<(Campaign, Vec<Step>), StoreError>;
    async fn get_campaign(&mut self, id: CampaignId) -> Result<Option<Campaign>, StoreError>;
    async fn list_campaigns(&mut self, page: PageRequest) -> Result<Page<Campaign>, StoreError>;
    async fn update_campaign(
        &mut self,
        id: CampaignId,
        changes: &CampaignChanges,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError>;
    /// Deletes a campaign with its steps, enrollments and messages.
    async fn delete_campaign(&mut self, id: CampaignId) -> Result<bool, StoreError>;
    async fn list_steps(&mut self, campaign: CampaignId) -> Result<Vec<Step>, StoreError>;
    async fn set_campaign_status(
        &mut self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Enrolls leads (skipping ones already enrolled) and returns how many were added.
    /// Enrolls the account's leads that are not in the campaign yet and
    /// returns the new enrollments. Unknown leads are skipped.
    async fn enroll_new_leads(
        &mut self,
        campaign: CampaignId,
        leads: &[LeadId],
        now: DateTime<Utc>,
    ) -> Result<Vec<EnrollmentId>, StoreError>;
    /// Enrolls as [`enroll_new_leads`](Self::enroll_new_leads) does and
    /// returns how many were new.
    async fn enroll_leads(
        &mut self,
        campaign: CampaignId,
        leads: &[LeadId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(self.enroll_new_leads(campaign, leads, now).await?.len() as u64)
    }
    async fn list_enrollments(
        &mut self,
        campaign: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Enrollment>, StoreError>;
    async fn get_enrollment(&mut self, id: EnrollmentId) -> Result<Option<Enrollment>, StoreError>;
    async fn update_enrollment(
        &mut self,
        id: EnrollmentId,
        status: EnrollmentStatus,
        current_step: i32,
        next_run_at: Option<DateTime<Utc>>,
        stop_reason: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Applies several enrollment changes; fails when one does not exist.
    async fn update_enrollments(&mut self, updates: &[EnrollmentUpdate]) -> Result<(), StoreError>;
    async fn active_enrollments_of_lead(
        &mut self,
        lead: LeadId,
    ) -> Result<Vec<Enrollment>, StoreError>;
    /// Finds the enrollment of `lead` in `campaign`.
    async fn find_enrollment(
        &mut self,
        campaign: CampaignId,
        lead: LeadId,
    ) -> Result<Option<Enrollment>, StoreError>;
    /// Enrolls up to `limit` dormant leads into `campaign` and returns their
    /// new enrollments' ids, best ranked first. A lead qualifies when its
    /// status is `dormant` and its last activity falls within `window`. It
    /// must have no open (pending, active or paused) enrollment and never
    /// have been enrolled in `campaign`. Its last activity is the latest of
    /// the CRM's last contact (else its CRM creation, else its creation
    /// here), the messages sent to it and its replies.
    async fn enroll_dormant_leads(
        &mut self,
        campaign: CampaignId,
        window: &IdleWindow,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<EnrollmentId>, StoreError>;

    // Messages.
    async fn insert_message(
        &mut self,
        message: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Inserts several scheduled messages in as few statements as the
    /// backend allows.
    async fn insert_messages(
        &mut self,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_message(&mut self, id: MessageId) -> Result<Option<Message>, StoreError>;
    async fn find_message_by_rfc_id(
        &mut self,
        rfc_message_id: &str,
    ) -> Result<Option<Message>, StoreError>;
    /// Moves a message to `status` if the status vocabulary allows it (forward
    /// only, see `MessageStatus::can_advance_to`). Returns whether it moved.
    async fn advance_message(
        &mut self,
        id: MessageId,
        status: MessageStatus,
        update: &MessageUpdate,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Lists the account's sends on `channel` that count against the caps from
    /// `since` on: scheduled, in progress or sent, not cancelled, suppressed or
    /// failed. Locks the account's send schedule until the transaction ends,
    /// so concurrent placements never share a free slot.
    async fn planned_sends(
        &mut self,
        channel: Channel,
        since: DateTime<Utc>,
    ) -> Result<Vec<PlannedSend>, StoreError>;
    /// Cancels the enrollment's messages that are still scheduled. Returns how many.
    async fn cancel_scheduled_messages(
        &mut self,
        enrollment: EnrollmentId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    async fn list_messages(
        &mut self,
        campaign: Option<CampaignId>,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError>;
    async fn count_messages_by_step(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<StepCount>, StoreError>;
    async fn count_messages_by_variant(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<VariantCount>, StoreError>;

    // A/B decisions and the optimization and funnel reports.
    /// Counts sends and positive replies per step and variant of a campaign,
    /// ordered by position and variant.
    async fn count_ab_outcomes(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<AbVariantCount>, StoreError>;
    /// Stores a step's A/B decision unless the step already has one, and
    /// switches the step's still-scheduled messages of the other variant to
    /// the winner's subject and variant. Returns how many messages switched,
    /// or `None` when the step was already decided (nothing changes then).
    async fn record_ab_decision(
        &mut self,
        step: StepId,
        decision: &StepAbDecision,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError>;
    /// Lists the campaign's sent messages with their lead's time zone and
    /// whether they earned a positive reply, in send order.
    async fn sent_message_outcomes(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<SentMessageOutcome>, StoreError>;
    /// Counts the funnel per step and variant of a campaign with one grouped
    /// query, ordered by position and variant.
    async fn count_funnel_by_step_variant(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<StepVariantFunnel>, StoreError>;

    // Replies.
    async fn insert_reply(
        &mut self,
        reply: &NewReply,
        now: DateTime<Utc>,
    ) -> Result<ReplyId, StoreError>;
    async fn list_replies(&mut self, page: PageRequest) -> Result<Page<Reply>, StoreError>;

    // Jobs enqueued in the same transaction as the change that needs them.
    async fn enqueue_job(&mut self, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, StoreError>;
    /// Enqueues several jobs; one whose unique key is already queued or
    /// running is skipped.
    async fn enqueue_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>)
    -> Result<(), StoreError>;
    /// Lists this account's jobs, in id order.
    async fn list_jobs(
        &mut self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<Job>, StoreError>;
    /// Puts one of this account's dead jobs back in the queue.
    async fn retry_dead_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Marks one of this account's jobs succeeded, in the transaction of the
    /// work it did, so the work and its completion commit together.
    async fn complete_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Deletes one of this account's dead jobs for good. Returns false when no
    /// dead job has that id.
    async fn discard_dead_job(&mut self, id: JobId) -> Result<bool, StoreError>;

    // Meetings proposed to leads.
    async fn insert_meeting(
        &mut self,
        meeting: &NewMeeting,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lists the account's meetings in creation order.
    async fn list_meetings(&mut self, page: PageRequest) -> Result<Page<Meeting>, StoreError>;

    // Alerts and notifications for the account's users.
    async fn insert_alert(
        &mut self,
        severity: AlertSeverity,
        kind: &str,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lists the account's alerts in creation order.
    async fn list_alerts(&mut self, page: PageRequest) -> Result<Page<Alert>, StoreError>;

    // Crew runs.
    async fn insert_crew_run(&mut self, run: &NewCrewRun) -> Result<(), StoreError>;
    async fn finish_crew_run(
        &mut self,
        id: CrewRunId,
        status: RunStatus,
        leads_failed: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn insert_stage_runs(
        &mut self,
        runs: &[NewStageRun],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lists stage runs of a crew run in run order.
    async fn list_stage_runs(&mut self, run: CrewRunId) -> Result<Vec<StageRun>, StoreError>;
    /// Returns the outputs of the stages these leads passed in crew run `run`.
    async fn stage_outputs(
        &mut self,
        run: CrewRunId,
        leads: &[LeadId],
    ) -> Result<Vec<StageOutput>, StoreError>;
    /// Lists crew runs newest first, with their token and fallback totals.
    async fn list_crew_runs(
        &mut self,
        filter: &CrewRunFilter,
        page: PageRequest,
    ) -> Result<Page<CrewRun>, StoreError>;
    async fn get_crew_run(&mut self, id: CrewRunId) -> Result<Option<CrewRun>, StoreError>;

    // LLM budget: one row per UTC day, one usage row per request.
    /// Reserves `estimate_nano_usd` for `day` unless the day's cost, open
    /// reservations and the estimate together would pass `limit_nano_usd`.
    /// One conditional upsert decides, so concurrent reservations of the
    /// account, from any process, never pass the limit together.
    async fn reserve_ai_budget(
        &mut self,
        day: NaiveDate,
        estimate_nano_usd: i64,
        limit_nano_usd: i64,
        now: DateTime<Utc>,
    ) -> Result<AiReservation, StoreError>;
    /// Releases a reservation and records what the request used.
    async fn settle_ai_budget(
        &mut self,
        day: NaiveDate,
        reserved_nano_usd: i64,
        usage: &NewAiUsage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn ai_spend(&mut self, day: NaiveDate) -> Result<AiDailySpend, StoreError>;

    // Ideal customer profile.
    async fn get_icp_profile(&mut self) -> Result<Option<IcpProfileRow>, StoreError>;
    /// Stores the account's profile, replacing the previous one.
    async fn put_icp_profile(&mut self, profile: &IcpProfileRow) -> Result<(), StoreError>;
    /// Lists up to `limit` leads, other than won ones, not ranked against the
    /// profile since `derived_at`, in id order.
    async fn leads_to_rank(
        &mut self,
        derived_at: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Lead>, StoreError>;
    async fn set_icp_rankings(
        &mut self,
        rankings: &[IcpRanking],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    // Audit and reports.
    async fn append_audit(
        &mut self,
        record: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    async fn funnel(&mut self, campaign: Option<CampaignId>) -> Result<Funnel, StoreError>;
    /// Lists this account's audit entries after `after_seq`, oldest first.
    async fn list_audit(
        &mut self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    // Provider events. The receipts, the status changes, the history and the
    // counters of one batch commit together.
    /// Inserts receipts and returns the ids of those that were new; the others
    /// repeat an event already received.
    async fn insert_receipts(
        &mut self,
        receipts: &[NewReceipt],
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Locks the messages with these ids, in id order, and reads their
    /// counters. Ids of other accounts or of deleted messages are left out.
    async fn lock_event_targets(
        &mut self,
        ids: &[MessageId],
    ) -> Result<Vec<EventTarget>, StoreError>;
    /// Applies status changes, each only while its message is still in its
    /// `from` status. Returns how many messages moved.
    async fn apply_status_changes(
        &mut self,
        changes: &[StatusChange],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    async fn insert_message_events(&mut self, events: &[NewMessageEvent])
    -> Result<(), StoreError>;
    /// Writes the counters of each message, replacing the stored ones.
    async fn save_engagement(
        &mut self,
        rows: &[(MessageId, Engagement)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_engagement(
        &mut self,
        message: MessageId,
    ) -> Result<Option<Engagement>, StoreError>;
    /// Moves the account's queued job with `unique_key` to `run_at` when that
    /// is sooner than its current time. Returns whether a job moved.
    async fn bring_job_forward(
        &mut self,
        unique_key: &str,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Returns the message most recently sent to `lead` on `channel`.
    async fn latest_sent_to_lead(
        &mut self,
        lead: LeadId,
        channel: Channel,
    ) -> Result<Option<MessageId>, StoreError>;
    /// Returns the sent messages of these enrollments with their counters,
    /// ordered by enrollment and step position.
    async fn sent_activity(
        &mut self,
        enrollments: &[EnrollmentId],
    ) -> Result<Vec<SentActivity>, StoreError>;
    /// Stops the lead's pending, active and paused enrollments and cancels
    /// their scheduled messages. Returns how many enrollments stopped.
    async fn stop_lead_enrollments(
        &mut self,
        lead: LeadId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// Extra fields written with a message status change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageUpdate {
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub sent: bool,
}

/// Import metadata detected while parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportDetails {
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub error: Option<String>,
}

/// A transaction for work that crosses tenants.
#[async_trait]
pub trait SystemTx: Send {
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// Creates an account and appends its first audit entry.
    async fn create_account(
        &mut self,
        account: &NewAccount,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;
    async fn list_account_ids(&mut self) -> Result<Vec<AccountId>, StoreError>;
    /// Appends an audit entry to `account`'s chain, for system work done on
    /// its behalf (sign-up, login, webhooks).
    async fn append_audit(
        &mut self,
        account: AccountId,
        record: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    // Identity lookups that happen before the account is known.
    async fn insert_user(
        &mut self,
        account: AccountId,
        user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError>;
    async fn find_user_by_email(
        &mut self,
        email: &str,
    ) -> Result<Option<UserCredentials>, StoreError>;
    async fn get_user(
        &mut self,
        account: AccountId,
        id: UserId,
    ) -> Result<Option<User>, StoreError>;
    async fn find_user_by_external_subject(
        &mut self,
        subject: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Links a user to an external identity provider's subject.
    async fn set_external_subject(&mut self, user: UserId, subject: &str)
    -> Result<(), StoreError>;
    async fn insert_refresh_token(
        &mut self,
        token: &NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Finds a refresh token by its hash and locks it for the rotation.
    async fn find_refresh_token(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError>;
    async fn revoke_refresh_token(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Revokes every live token of a family; returns how many.
    async fn revoke_refresh_family_of(
        &mut self,
        account: AccountId,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Replaces a user's password hash and revokes the user's refresh tokens,
    /// so other sessions end. Returns how many tokens were revoked.
    async fn set_password(
        &mut self,
        account: AccountId,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Finds a live (not revoked) API key by its hash.
    async fn find_api_key(&mut self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;

    /// Claims up to `limit` due jobs of the given kinds (all kinds when empty),
    /// leasing them to `worker` until `now + lease`.
    async fn claim_jobs(
        &mut self,
        worker: &str,
        kinds: &[&str],
        limit: u32,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    async fn complete_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Puts a running job back in the queue for `run_at` without spending an
    /// attempt, for work that is not due yet (a send outside its window).
    async fn defer_job(
        &mut self,
        id: JobId,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn fail_job(
        &mut self,
        id: JobId,
        error: &str,
        class: ErrorClass,
        retry: JobRetry,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn enqueue_system_job(
        &mut self,
        account: Option<AccountId>,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<JobId, StoreError>;
    async fn list_jobs(
        &mut self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<Job>, StoreError>;
    /// Puts a dead job back in the queue with a fresh attempt budget.
    async fn retry_dead_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Deletes a dead job for good and returns it, or `None` when no dead job
    /// has that id.
    async fn discard_dead_job(&mut self, id: JobId) -> Result<Option<DiscardedJob>, StoreError>;
    /// Number of queued jobs that are due, and the earliest future `run_at`.
    async fn queue_state(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError>;

    /// Lists paused enrollments whose resume time (`next_run_at`) has come, in
    /// resume order, with their accounts.
    async fn due_paused_enrollments(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(AccountId, Enrollment)>, StoreError>;

    /// Lists the active campaigns that take dormant leads, with their accounts.
    async fn dormant_intake_campaigns(
        &mut self,
    ) -> Result<Vec<(AccountId, CampaignId)>, StoreError>;
    /// Lists the accounts with at least `min` leads of status `won`.
    async fn accounts_with_won_leads(&mut self, min: i64) -> Result<Vec<AccountId>, StoreError>;

    async fn audit_head(&mut self, account: AccountId) -> Result<AuditHead, StoreError>;
    async fn list_audit(
        &mut self,
        account: AccountId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    async fn insert_alert(
        &mut self,
        alert: &NewAlert,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lists the newest alerts first.
    async fn list_alerts(&mut self, limit: u32) -> Result<Vec<Alert>, StoreError>;

    // Provider webhooks: work done before the account of a request is known.
    /// Finds messages of any account by our id or by the provider's id.
    async fn locate_messages(
        &mut self,
        ids: &[MessageId],
        provider_ids: &[String],
    ) -> Result<Vec<MessageLocation>, StoreError>;
    /// Finds messages of any account by their RFC 5322 Message-ID.
    async fn locate_messages_by_rfc_ids(
        &mut self,
        rfc_ids: &[String],
    ) -> Result<Vec<MessageLocation>, StoreError>;
    /// Finds the message most recently sent to `address` on one of `channels`,
    /// in `accounts` when given.
    async fn latest_message_to(
        &mut self,
        address: &str,
        channels: &[Channel],
        accounts: Option<&[AccountId]>,
    ) -> Result<Option<MessageLocation>, StoreError>;
    /// Lists the accounts that send from `address` on `channel`.
    async fn accounts_with_identity(
        &mut self,
        channel: Channel,
        address: &str,
    ) -> Result<Vec<AccountId>, StoreError>;
    /// Inserts receipts of events that match no account; returns the new ones.
    async fn insert_system_receipts(
        &mut self,
        receipts: &[NewReceipt],
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn receipt_exists(
        &mut self,
        provider: WebhookProvider,
        dedup_key: &str,
    ) -> Result<bool, StoreError>;
    async fn insert_webhook_payload(
        &mut self,
        payload: &NewWebhookPayload,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_webhook_payload(&mut self, id: Uuid)
    -> Result<Option<WebhookPayload>, StoreError>;
    async fn mark_webhook_payload_processed(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Counts one rejected request in its provider, reason and hour.
    async fn record_webhook_rejection(
        &mut self,
        rejection: &WebhookRejection,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lists rejection counts, newest hour first.
    async fn list_webhook_rejections(
        &mut self,
        limit: u32,
    ) -> Result<Vec<RejectionCount>, StoreError>;
}
