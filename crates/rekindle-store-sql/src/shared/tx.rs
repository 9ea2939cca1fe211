// The transaction handles, shared by both backends. Every tenant method passes
// the handle's own account id to the query, so no caller can reach another
// account's rows through it.

pub struct SqlTenantTx {
    tx: DbTx,
    account: AccountId,
}

impl SqlTenantTx {
    pub fn new(tx: DbTx, account: AccountId) -> Self {
        Self { tx, account }
    }
}

#[async_trait]
impl TenantTx for SqlTenantTx {
    fn account_id(&self) -> AccountId {
        self.account
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_error)
    }

    async fn account(&mut self) -> Result<Account, StoreError> {
        get_account(&mut self.tx, self.account).await
    }

    async fn insert_leads(&mut self, leads: &[NewLead], now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_leads(&mut self.tx, self.account, leads, now).await
    }

    async fn update_lead_fields(
        &mut self,
        id: LeadId,
        fields: &LeadFields,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        update_lead_fields(&mut self.tx, self.account, id, fields, now).await
    }

    async fn get_lead(&mut self, id: LeadId) -> Result<Option<Lead>, StoreError> {
        get_lead(&mut self.tx, self.account, id).await
    }

    async fn find_leads_by_emails(&mut self, emails: &[String]) -> Result<Vec<Lead>, StoreError> {
        find_leads_by(&mut self.tx, self.account, "email", emails).await
    }

    async fn find_leads_by_phones(&mut self, phones: &[String]) -> Result<Vec<Lead>, StoreError> {
        find_leads_by(&mut self.tx, self.account, "phone", phones).await
    }

    async fn list_leads(
        &mut self,
        filter: &LeadFilter,
        page: PageRequest,
    ) -> Result<Page<Lead>, StoreError> {
        list_leads(&mut self.tx, self.account, filter, page).await
    }

    async fn set_lead_score(
        &mut self,
        id: LeadId,
        score: u8,
        tier: Tier,
        reasons: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        set_lead_score(&mut self.tx, self.account, id, score, tier, reasons, now).await
    }

    async fn set_lead_status(
        &mut self,
        id: LeadId,
        status: LeadStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        set_lead_status(&mut self.tx, self.account, id, status, now).await
    }

    async fn count_leads_by_tier(&mut self) -> Result<Vec<(Option<Tier>, i64)>, StoreError> {
        count_leads_by_tier(&mut self.tx, self.account).await
    }

    async fn set_lead_scores(&mut self, scores: &[LeadScoreUpdate], now: DateTime<Utc>) -> Result<(), StoreError> {
        set_lead_scores(&mut self.tx, self.account, scores, now).await
    }

    async fn update_enrollments(&mut self, updates: &[EnrollmentUpdate]) -> Result<(), StoreError> {
        update_enrollments(&mut self.tx, self.account, updates).await
    }

    async fn insert_messages(&mut self, messages: &[NewMessage], now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_messages(&mut self.tx, self.account, messages, now).await
    }

    async fn enqueue_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>) -> Result<(), StoreError> {
        enqueue_jobs(&mut self.tx, self.account, jobs, now).await
    }

    async fn get_leads(&mut self, ids: &[LeadId]) -> Result<Vec<Lead>, StoreError> {
        get_leads(&mut self.tx, self.account, ids).await
    }

    async fn get_enrollments(&mut self, ids: &[EnrollmentId]) -> Result<Vec<Enrollment>, StoreError> {
        get_enrollments(&mut self.tx, self.account, ids).await
    }

    async fn list_signals_of(&mut self, leads: &[LeadId]) -> Result<Vec<Signal>, StoreError> {
        list_signals_of(&mut self.tx, self.account, leads).await
    }

    async fn latest_consents(&mut self, leads: &[LeadId]) -> Result<Vec<(LeadId, ConsentBasis)>, StoreError> {
        latest_consents(&mut self.tx, self.account, leads).await
    }

    async fn count_leads_with_status(&mut self, status: LeadStatus) -> Result<i64, StoreError> {
        count_leads_with_status(&mut self.tx, self.account, status).await
    }

    async fn insert_signals(
        &mut self,
        signals: &[(LeadId, SignalInput)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        insert_signals(&mut self.tx, self.account, signals, now).await
    }

    async fn list_signals(&mut self, lead: LeadId) -> Result<Vec<Signal>, StoreError> {
        list_signals(&mut self.tx, self.account, lead).await
    }

    async fn insert_sending_identity(&mut self, identity: &SendingIdentityRow) -> Result<(), StoreError> {
        insert_sending_identity(&mut self.tx, self.account, identity).await
    }

    async fn list_sending_identities(&mut self) -> Result<Vec<SendingIdentityRow>, StoreError> {
        list_sending_identities(&mut self.tx, self.account).await
    }

    async fn update_sending_identity(
        &mut self,
        id: Uuid,
        changes: &SendingIdentityChanges,
    ) -> Result<Option<SendingIdentityRow>, StoreError> {
        update_sending_identity(&mut self.tx, self.account, id, changes).await
    }

    async fn delete_sending_identity(&mut self, id: Uuid) -> Result<bool, StoreError> {
        delete_sending_identity(&mut self.tx, self.account, id).await
    }

    async fn record_consent(
        &mut self,
        lead: LeadId,
        basis: ConsentBasis,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        record_consent(&mut self.tx, self.account, lead, basis, source, now).await
    }

    async fn consent_of(&mut self, lead: LeadId) -> Result<Option<ConsentBasis>, StoreError> {
        consent_of(&mut self.tx, self.account, lead).await
    }

    async fn suppressed_values(
        &mut self,
        kind: ContactKind,
        values: &[String],
    ) -> Result<Vec<String>, StoreError> {
        suppressed_values(&mut self.tx, self.account, kind, values).await
    }

    async fn add_suppression(
        &mut self,
        kind: ContactKind,
        value: &str,
        reason: SuppressionReason,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        add_suppression(&mut self.tx, self.account, kind, value, reason, now).await
    }

    async fn create_import(
        &mut self,
        id: ImportId,
        file_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        create_import(&mut self.tx, self.account, id, file_name, now).await
    }

    async fn update_import(
        &mut self,
        id: ImportId,
        status: ImportStatus,
        counts: &ImportCounts,
        details: &ImportDetails,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        update_import(&mut self.tx, self.account, id, status, counts, details, now).await
    }

    async fn get_import(&mut self, id: ImportId) -> Result<Option<Import>, StoreError> {
        get_import(&mut self.tx, self.account, id).await
    }

    async fn insert_import_rows(
        &mut self,
        id: ImportId,
        rows: &[ImportRowReport],
    ) -> Result<(), StoreError> {
        insert_import_rows(&mut self.tx, self.account, id, rows).await
    }

    async fn list_import_rows(
        &mut self,
        id: ImportId,
        after_record: i64,
        limit: u32,
    ) -> Result<Vec<ImportRowReport>, StoreError> {
        list_import_rows(&mut self.tx, self.account, id, after_record, limit).await
    }

    async fn create_campaign(
        &mut self,
        id: CampaignId,
        spec: &CampaignSpec,
        now: DateTime<Utc>,
    ) -> Result<(Campaign, Vec<Step>), StoreError> {
        create_campaign(&mut self.tx, self.account, id, spec, now).await
    }

    async fn get_campaign(&mut self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        get_campaign(&mut self.tx, self.account, id).await
    }

    async fn list_steps(&mut self, campaign: CampaignId) -> Result<Vec<Step>, StoreError> {
        list_steps(&mut self.tx, self.account, campaign).await
    }

    async fn set_campaign_status(
        &mut self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        set_campaign_status(&mut self.tx, self.account, id, status, now).await
    }

    async fn enroll_new_leads(
        &mut self,
        campaign: CampaignId,
        leads: &[LeadId],
        now: DateTime<Utc>,
    ) -> Result<Vec<EnrollmentId>, StoreError> {
        enroll_new_leads(&mut self.tx, self.account, campaign, leads, now).await
    }

    async fn list_enrollments(
        &mut self,
        campaign: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Enrollment>, StoreError> {
        list_enrollments(&mut self.tx, self.account, campaign, page).await
    }

    async fn get_enrollment(&mut self, id: EnrollmentId) -> Result<Option<Enrollment>, StoreError> {
        get_enrollment(&mut self.tx, self.account, id).await
    }

    async fn update_enrollment(
        &mut self,
        id: EnrollmentId,
        status: EnrollmentStatus,
        current_step: i32,
        next_run_at: Option<DateTime<Utc>>,
        stop_reason: Option<&str>,
    ) -> Result<(), StoreError> {
        update_enrollment(&mut self.tx, self.account, id, status, current_step, next_run_at, stop_reason)
            .await
    }

    async fn active_enrollments_of_lead(&mut self, lead: LeadId) -> Result<Vec<Enrollment>, StoreError> {
        active_enrollments_of_lead(&mut self.tx, self.account, lead).await
    }

    async fn find_enrollment(
        &mut self,
        campaign: CampaignId,
        lead: LeadId,
    ) -> Result<Option<Enrollment>, StoreError> {
        find_enrollment(&mut self.tx, self.account, campaign, lead).await
    }

    async fn enroll_dormant_leads(
        &mut self,
        campaign: CampaignId,
        window: &IdleWindow,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<EnrollmentId>, StoreError> {
        enroll_dormant_leads(&mut self.tx, self.account, campaign, window, limit, now).await
    }

    async fn insert_message(&mut self, message: &NewMessage, now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_message(&mut self.tx, self.account, message, now).await
    }

    async fn get_message(&mut self, id: MessageId) -> Result<Option<Message>, StoreError> {
        get_message_by(&mut self.tx, self.account, MessageKey::Id(id)).await
    }

    async fn find_message_by_rfc_id(&mut self, rfc_message_id: &str) -> Result<Option<Message>, StoreError> {
        get_message_by(&mut self.tx, self.account, MessageKey::RfcMessageId(rfc_message_id)).await
    }

    async fn advance_message(
        &mut self,
        id: MessageId,
        status: MessageStatus,
        update: &MessageUpdate,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        advance_message(&mut self.tx, self.account, id, status, update, now).await
    }

    async fn planned_sends(
        &mut self,
        channel: Channel,
        since: DateTime<Utc>,
    ) -> Result<Vec<PlannedSend>, StoreError> {
        planned_sends(&mut self.tx, self.account, channel, since).await
    }

    async fn cancel_scheduled_messages(
        &mut self,
        enrollment: EnrollmentId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        cancel_scheduled_messages(&mut self.tx, self.account, enrollment, now).await
    }

    async fn list_messages(
        &mut self,
        campaign: Option<CampaignId>,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        list_messages(&mut self.tx, self.account, campaign, page).await
    }

    async fn count_messages_by_step(&mut self, campaign: CampaignId) -> Result<Vec<StepCount>, StoreError> {
        count_messages_by_step(&mut self.tx, self.account, campaign).await
    }

    async fn count_ab_outcomes(&mut self, campaign: CampaignId) -> Result<Vec<AbVariantCount>, StoreError> {
        count_ab_outcomes(&mut self.tx, self.account, campaign).await
    }

    async fn record_ab_decision(
        &mut self,
        step: StepId,
        decision: &StepAbDecision,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        record_ab_decision(&mut self.tx, self.account, step, decision, now).await
    }

    async fn sent_message_outcomes(&mut self, campaign: CampaignId) -> Result<Vec<SentMessageOutcome>, StoreError> {
        sent_message_outcomes(&mut self.tx, self.account, campaign).await
    }

    async fn count_funnel_by_step_variant(
        &mut self,
        campaign: CampaignId,
    ) -> Result<Vec<StepVariantFunnel>, StoreError> {
        count_funnel_by_step_variant(&mut self.tx, self.account, campaign).await
    }

    async fn insert_reply(&mut self, reply: &NewReply, now: DateTime<Utc>) -> Result<ReplyId, StoreError> {
        insert_reply(&mut self.tx, self.account, reply, now).await
    }

    async fn list_replies(&mut self, page: PageRequest) -> Result<Page<Reply>, StoreError> {
        list_replies(&mut self.tx, self.account, page).await
    }

    async fn enqueue_job(&mut self, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, StoreError> {
        enqueue_job(&mut self.tx, Some(self.account), job, now).await
    }

    async fn insert_crew_run(&mut self, run: &NewCrewRun) -> Result<(), StoreError> {
        insert_crew_run(&mut self.tx, self.account, run).await
    }

    async fn finish_crew_run(
        &mut self,
        id: CrewRunId,
        status: RunStatus,
        leads_failed: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        finish_crew_run(&mut self.tx, self.account, id, status, leads_failed, now).await
    }

    async fn insert_stage_runs(&mut self, runs: &[NewStageRun], now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_stage_runs(&mut self.tx, self.account, runs, now).await
    }

    async fn list_stage_runs(&mut self, run: CrewRunId) -> Result<Vec<StageRun>, StoreError> {
        list_stage_runs(&mut self.tx, self.account, run).await
    }

    async fn stage_outputs(&mut self, run: CrewRunId, leads: &[LeadId]) -> Result<Vec<StageOutput>, StoreError> {
        stage_outputs(&mut self.tx, self.account, run, leads).await
    }

    async fn list_crew_runs(
        &mut self,
        filter: &CrewRunFilter,
        page: PageRequest,
    ) -> Result<Page<CrewRun>, StoreError> {
        list_crew_runs(&mut self.tx, self.account, filter, page).await
    }

    async fn get_crew_run(&mut self, id: CrewRunId) -> Result<Option<CrewRun>, StoreError> {
        get_crew_run(&mut self.tx, self.account, id).await
    }

    async fn reserve_ai_budget(
        &mut self,
        day: NaiveDate,
        estimate_nano_usd: i64,
        limit_nano_usd: i64,
        now: DateTime<Utc>,
    ) -> Result<AiReservation, StoreError> {
        reserve_ai_budget(&mut self.tx, self.account, day, estimate_nano_usd, limit_nano_usd, now).await
    }

    async fn settle_ai_budget(
        &mut self,
        day: NaiveDate,
        reserved_nano_usd: i64,
        usage: &NewAiUsage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        settle_ai_budget(&mut self.tx, self.account, day, reserved_nano_usd, usage, now).await
    }

    async fn ai_spend(&mut self, day: NaiveDate) -> Result<AiDailySpend, StoreError> {
        ai_spend(&mut self.tx, self.account, day).await
    }

    async fn get_icp_profile(&mut self) -> Result<Option<IcpProfileRow>, StoreError> {
        get_icp_profile(&mut self.tx, self.account).await
    }

    async fn put_icp_profile(&mut self, profile: &IcpProfileRow) -> Result<(), StoreError> {
        put_icp_profile(&mut self.tx, self.account, profile).await
    }

    async fn leads_to_rank(&mut self, derived_at: DateTime<Utc>, limit: u32) -> Result<Vec<Lead>, StoreError> {
        leads_to_rank(&mut self.tx, self.account, derived_at, limit).await
    }

    async fn set_icp_rankings(&mut self, rankings: &[IcpRanking], now: DateTime<Utc>) -> Result<(), StoreError> {
        set_icp_rankings(&mut self.tx, self.account, rankings, now).await
    }

    async fn append_audit(&mut self, record: &AuditRecord, now: DateTime<Utc>) -> Result<i64, StoreError> {
        append_audit(&mut self.tx, self.account, record, now).await
    }

    async fn funnel(&mut self, campaign: Option<CampaignId>) -> Result<Funnel, StoreError> {
        funnel(&mut self.tx, self.account, campaign).await
    }

    async fn update_account(&mut self, changes: &AccountChanges, now: DateTime<Utc>) -> Result<Account, StoreError> {
        update_account(&mut self.tx, self.account, changes, now).await
    }

    async fn insert_user(&mut self, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        insert_user(&mut self.tx, self.account, user, now).await
    }

    async fn get_user(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        get_user(&mut self.tx, self.account, id).await
    }

    async fn list_users(&mut self, page: PageRequest) -> Result<Page<User>, StoreError> {
        list_users(&mut self.tx, self.account, page).await
    }

    async fn insert_api_key(&mut self, key: &NewApiKey, now: DateTime<Utc>) -> Result<ApiKey, StoreError> {
        insert_api_key(&mut self.tx, self.account, key, now).await
    }

    async fn list_api_keys(&mut self, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
        list_api_keys(&mut self.tx, self.account, page).await
    }

    async fn revoke_api_key(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        revoke_api_key(&mut self.tx, self.account, id, now).await
    }

    async fn revoke_refresh_family(&mut self, family: Uuid, now: DateTime<Utc>) -> Result<u64, StoreError> {
        revoke_refresh_family(&mut self.tx, self.account, family, now).await
    }

    async fn delete_lead(&mut self, id: LeadId) -> Result<bool, StoreError> {
        delete_lead(&mut self.tx, self.account, id).await
    }

    async fn list_suppressions(
        &mut self,
        kind: Option<ContactKind>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, StoreError> {
        list_suppressions(&mut self.tx, self.account, kind, page).await
    }

    async fn remove_suppression(&mut self, id: SuppressionId) -> Result<bool, StoreError> {
        remove_suppression(&mut self.tx, self.account, id).await
    }

    async fn list_imports(&mut self, page: PageRequest) -> Result<Page<Import>, StoreError> {
        list_imports(&mut self.tx, self.account, page).await
    }

    async fn list_campaigns(&mut self, page: PageRequest) -> Result<Page<Campaign>, StoreError> {
        list_campaigns(&mut self.tx, self.account, page).await
    }

    async fn update_campaign(
        &mut self,
        id: CampaignId,
        changes: &CampaignChanges,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        update_campaign(&mut self.tx, self.account, id, changes, now).await
    }

    async fn delete_campaign(&mut self, id: CampaignId) -> Result<bool, StoreError> {
        delete_campaign(&mut self.tx, self.account, id).await
    }

    async fn count_messages_by_variant(&mut self, campaign: CampaignId) -> Result<Vec<VariantCount>, StoreError> {
        count_messages_by_variant(&mut self.tx, self.account, campaign).await
    }

    async fn list_audit(&mut self, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        list_audit(&mut self.tx, self.account, after_seq, limit).await
    }

    async fn list_jobs(&mut self, status: Option<JobStatus>, page: PageRequest) -> Result<Page<Job>, StoreError> {
        list_account_jobs(&mut self.tx, self.account, status, page).await
    }

    async fn retry_dead_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        retry_account_job(&mut self.tx, self.account, id, now).await
    }

    async fn insert_alert(&mut self, severity: AlertSeverity, kind: &str, message: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let alert = NewAlert {
            account_id: Some(self.account),
            severity,
            kind: kind.to_owned(),
            message: message.to_owned(),
        };
        insert_alert(&mut self.tx, &alert, now).await
    }

    async fn list_alerts(&mut self, page: PageRequest) -> Result<Page<Alert>, StoreError> {
        list_account_alerts(&mut self.tx, self.account, page).await
    }

    async fn insert_meeting(&mut self, meeting: &NewMeeting, now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_meeting(&mut self.tx, self.account, meeting, now).await
    }

    async fn list_meetings(&mut self, page: PageRequest) -> Result<Page<Meeting>, StoreError> {
        list_meetings(&mut self.tx, self.account, page).await
    }

    async fn complete_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError> {
        complete_account_job(&mut self.tx, self.account, id, now).await
    }

    async fn discard_dead_job(&mut self, id: JobId) -> Result<bool, StoreError> {
        let discarded = discard_dead_job(&mut self.tx, Some(self.account), id).await?;
        Ok(discarded.is_some())
    }

    async fn insert_receipts(&mut self, receipts: &[NewReceipt], now: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        insert_receipts(&mut self.tx, Some(self.account), receipts, now).await
    }

    async fn lock_event_targets(&mut self, ids: &[MessageId]) -> Result<Vec<EventTarget>, StoreError> {
        lock_event_targets(&mut self.tx, self.account, ids).await
    }

    async fn apply_status_changes(&mut self, changes: &[StatusChange], now: DateTime<Utc>) -> Result<u64, StoreError> {
        apply_status_changes(&mut self.tx, self.account, changes, now).await
    }

    async fn insert_message_events(&mut self, events: &[NewMessageEvent]) -> Result<(), StoreError> {
        insert_message_events(&mut self.tx, self.account, events).await
    }

    async fn save_engagement(&mut self, rows: &[(MessageId, Engagement)], now: DateTime<Utc>) -> Result<(), StoreError> {
        save_engagement(&mut self.tx, self.account, rows, now).await
    }

    async fn get_engagement(&mut self, message: MessageId) -> Result<Option<Engagement>, StoreError> {
        get_engagement(&mut self.tx, self.account, message).await
    }

    async fn bring_job_forward(&mut self, unique_key: &str, run_at: DateTime<Utc>) -> Result<bool, StoreError> {
        bring_job_forward(&mut self.tx, self.account, unique_key, run_at).await
    }

    async fn latest_sent_to_lead(&mut self, lead: LeadId, channel: Channel) -> Result<Option<MessageId>, StoreError> {
        latest_sent_to_lead(&mut self.tx, self.account, lead, channel).await
    }

    async fn sent_activity(&mut self, enrollments: &[EnrollmentId]) -> Result<Vec<SentActivity>, StoreError> {
        sent_activity(&mut self.tx, self.account, enrollments).await
    }

    async fn stop_lead_enrollments(&mut self, lead: LeadId, reason: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        stop_lead_enrollments(&mut self.tx, self.account, lead, reason, now).await
    }
}

pub struct SqlSystemTx {
    tx: DbTx,
}

impl SqlSystemTx {
    pub fn new(tx: DbTx) -> Self {
        Self { tx }
    }
}

#[async_trait]
impl SystemTx for SqlSystemTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_error)
    }

    async fn create_account(
        &mut self,
        account: &NewAccount,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        create_account(&mut self.tx, account, actor, now).await
    }

    async fn list_account_ids(&mut self) -> Result<Vec<AccountId>, StoreError> {
        list_account_ids(&mut self.tx).await
    }

    async fn append_audit(&mut self, account: AccountId, record: &AuditRecord, now: DateTime<Utc>) -> Result<i64, StoreError> {
        append_audit(&mut self.tx, account, record, now).await
    }

    async fn insert_user(&mut self, account: AccountId, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        insert_user(&mut self.tx, account, user, now).await
    }

    async fn find_user_by_email(&mut self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        find_user_by_email(&mut self.tx, email).await
    }

    async fn get_user(&mut self, account: AccountId, id: UserId) -> Result<Option<User>, StoreError> {
        get_user(&mut self.tx, account, id).await
    }

    async fn find_user_by_external_subject(&mut self, subject: &str) -> Result<Option<User>, StoreError> {
        find_user_by_external_subject(&mut self.tx, subject).await
    }

    async fn set_external_subject(&mut self, user: UserId, subject: &str) -> Result<(), StoreError> {
        set_external_subject(&mut self.tx, user, subject).await
    }

    async fn insert_refresh_token(&mut self, token: &NewRefreshToken, now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_refresh_token(&mut self.tx, token, now).await
    }

    async fn find_refresh_token(&mut self, token_hash: &str) -> Result<Option<RefreshTokenRow>, StoreError> {
        find_refresh_token(&mut self.tx, token_hash).await
    }

    async fn revoke_refresh_token(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        revoke_refresh_token(&mut self.tx, id, now).await
    }

    async fn revoke_refresh_family_of(
        &mut self,
        account: AccountId,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        revoke_refresh_family(&mut self.tx, account, family, now).await
    }

    async fn set_password(
        &mut self,
        account: AccountId,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        set_password(&mut self.tx, account, user, password_hash, now).await
    }

    async fn find_api_key(&mut self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        find_api_key(&mut self.tx, key_hash).await
    }

    async fn claim_jobs(
        &mut self,
        worker: &str,
        kinds: &[&str],
        limit: u32,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        claim_jobs(&mut self.tx, worker, kinds, limit, lease, now).await
    }

    async fn defer_job(&mut self, id: JobId, run_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
        defer_job(&mut self.tx, id, run_at, now).await
    }

    async fn complete_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError> {
        complete_job(&mut self.tx, id, now).await
    }

    async fn fail_job(
        &mut self,
        id: JobId,
        error: &str,
        class: ErrorClass,
        retry: JobRetry,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        fail_job(&mut self.tx, id, error, class, retry, now).await
    }

    async fn enqueue_system_job(
        &mut self,
        account: Option<AccountId>,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<JobId, StoreError> {
        enqueue_job(&mut self.tx, account, job, now).await
    }

    async fn list_jobs(&mut self, status: Option<JobStatus>, page: PageRequest) -> Result<Page<Job>, StoreError> {
        list_jobs(&mut self.tx, status, page).await
    }

    async fn retry_dead_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        retry_dead_job(&mut self.tx, id, now).await
    }

    async fn discard_dead_job(&mut self, id: JobId) -> Result<Option<DiscardedJob>, StoreError> {
        discard_dead_job(&mut self.tx, None, id).await
    }

    async fn queue_state(&mut self, now: DateTime<Utc>) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        queue_state(&mut self.tx, now).await
    }

    async fn due_paused_enrollments(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(AccountId, Enrollment)>, StoreError> {
        due_paused_enrollments(&mut self.tx, now, limit).await
    }

    async fn dormant_intake_campaigns(&mut self) -> Result<Vec<(AccountId, CampaignId)>, StoreError> {
        dormant_intake_campaigns(&mut self.tx).await
    }

    async fn accounts_with_won_leads(&mut self, min: i64) -> Result<Vec<AccountId>, StoreError> {
        accounts_with_won_leads(&mut self.tx, min).await
    }

    async fn audit_head(&mut self, account: AccountId) -> Result<AuditHead, StoreError> {
        audit_head(&mut self.tx, account).await
    }

    async fn list_audit(
        &mut self,
        account: AccountId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        list_audit(&mut self.tx, account, after_seq, limit).await
    }

    async fn list_alerts(&mut self, limit: u32) -> Result<Vec<Alert>, StoreError> {
        list_alerts(&mut self.tx, limit).await
    }

    async fn insert_alert(&mut self, alert: &NewAlert, now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_alert(&mut self.tx, alert, now).await
    }

    async fn locate_messages(
        &mut self,
        ids: &[MessageId],
        provider_ids: &[String],
    ) -> Result<Vec<MessageLocation>, StoreError> {
        locate_messages(&mut self.tx, ids, provider_ids).await
    }

    async fn locate_messages_by_rfc_ids(&mut self, rfc_ids: &[String]) -> Result<Vec<MessageLocation>, StoreError> {
        locate_messages_by_rfc_ids(&mut self.tx, rfc_ids).await
    }

    async fn latest_message_to(
        &mut self,
        address: &str,
        channels: &[Channel],
        accounts: Option<&[AccountId]>,
    ) -> Result<Option<MessageLocation>, StoreError> {
        latest_message_to(&mut self.tx, address, channels, accounts).await
    }

    async fn accounts_with_identity(&mut self, channel: Channel, address: &str) -> Result<Vec<AccountId>, StoreError> {
        accounts_with_identity(&mut self.tx, channel, address).await
    }

    async fn insert_system_receipts(&mut self, receipts: &[NewReceipt], now: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        insert_receipts(&mut self.tx, None, receipts, now).await
    }

    async fn receipt_exists(&mut self, provider: WebhookProvider, dedup_key: &str) -> Result<bool, StoreError> {
        receipt_exists(&mut self.tx, provider, dedup_key).await
    }

    async fn insert_webhook_payload(&mut self, payload: &NewWebhookPayload, now: DateTime<Utc>) -> Result<(), StoreError> {
        insert_webhook_payload(&mut self.tx, payload, now).await
    }

    async fn get_webhook_payload(&mut self, id: Uuid) -> Result<Option<WebhookPayload>, StoreError> {
        get_webhook_payload(&mut self.tx, id).await
    }

    async fn mark_webhook_payload_processed(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        mark_webhook_payload_processed(&mut self.tx, id, now).await
    }

    async fn record_webhook_rejection(&mut self, rejection: &WebhookRejection, now: DateTime<Utc>) -> Result<(), StoreError> {
        record_webhook_rejection(&mut self.tx, rejection, now).await
    }

    async fn list_webhook_rejections(&mut self, limit: u32) -> Result<Vec<RejectionCount>, StoreError> {
        list_webhook_rejections(&mut self.tx, limit).await
    }
}
