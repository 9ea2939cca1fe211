//! The storage conformance suite. Every check runs once on SQLite and once on
//! PostgreSQL (when `REKINDLE_TEST_DATABASE_URL` is set), with the same asserts.

use chrono::{Duration, Utc};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::*;
use rekindle_store::audit::verify_all;
use rekindle_store::*;
use rekindle_store_conformance::{Harness, create_account};
use serde_json::json;

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let harness = super::Harness::sqlite().await;
                super::$check(&harness).await;
                harness.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(harness) = super::Harness::postgres(concat!(stringify!($check), "::postgres")).await else {
                    return;
                };
                super::$check(&harness).await;
                harness.finish().await;
            }
        }
    )*};
}

conformance!(
    leads_round_trip,
    leads_paginate_by_cursor,
    tenants_are_isolated,
    suppressions_global_and_local,
    rollback_discards_every_write,
    audit_chain_detects_tampering,
    jobs_claim_retry_and_dead_letter,
    job_lease_expiry_reclaims,
    job_unique_key_deduplicates,
    messages_only_move_forward,
    campaigns_enrollments_and_funnel,
    vocabulary_checks_reject_unknown_values,
);

fn lead_fields(email: &str) -> LeadFields {
    LeadFields {
        email: Some(Email::parse(email).unwrap()),
        first_name: Some("Zoë".into()),
        company: Some("さくらロボティクス株式会社".into()),
        notes: Some("Met at SaaStr Europa.\nWants a case study.".into()),
        ..LeadFields::default()
    }
}

async fn insert_lead(store: &dyn Store, account: AccountId, email: &str) -> LeadId {
    let mut tx = store.begin(account).await.unwrap();
    let id = LeadId::new();
    tx.insert_lead(
        &NewLead {
            id,
            fields: lead_fields(email),
            import_id: None,
            import_ref: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn leads_round_trip(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let mut fields = lead_fields("zoe@nordpeak.example");
    fields.phone = Some(Phone::parse("+44 20 7946 0958", None).unwrap());
    fields.last_contacted_at = Some(Utc::now() - Duration::days(120));
    fields.custom_fields =
        CustomFields::new([("Umsatzpotenzial".to_owned(), "8.000,50".to_owned())].into()).unwrap();

    let id = LeadId::new();
    let mut tx = store.begin(account).await.unwrap();
    tx.insert_lead(
        &NewLead {
            id,
            fields: fields.clone(),
            import_id: None,
            import_ref: Some("5103".into()),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.set_lead_score(
        id,
        82,
        Tier::Hot,
        &json!([{"factor": "recency", "points": 30}]),
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin(account).await.unwrap();
    let lead = tx.get_lead(id).await.unwrap().expect("lead stored");
    assert_eq!(lead.fields.email, fields.email);
    assert_eq!(
        lead.fields.phone.as_ref().unwrap().as_str(),
        "+442079460958"
    );
    assert_eq!(lead.fields.notes, fields.notes);
    assert_eq!(lead.fields.company, fields.company);
    assert_eq!(
        lead.fields.custom_fields.get("Umsatzpotenzial"),
        Some("8.000,50")
    );
    assert_eq!(
        lead.fields.last_contacted_at.unwrap().timestamp_micros(),
        fields.last_contacted_at.unwrap().timestamp_micros()
    );
    assert_eq!(lead.score, Some(82));
    assert_eq!(lead.tier, Some(Tier::Hot));
    assert_eq!(lead.status, LeadStatus::Dormant);
    assert_eq!(lead.import_ref.as_deref(), Some("5103"));

    let found = tx
        .find_leads_by_emails(&["zoe@nordpeak.example".into(), "nobody@x.example".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let found = tx
        .find_leads_by_phones(&["+442079460958".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let duplicate = tx
        .insert_lead(
            &NewLead {
                id: LeadId::new(),
                fields,
                import_id: None,
                import_ref: None,
            },
            Utc::now(),
        )
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
}

async fn leads_paginate_by_cursor(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    for index in 0..7 {
        insert_lead(&*store, account, &format!("lead{index}@acme.example")).await;
    }

    let mut tx = store.begin(account).await.unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::new(None, Some(3));
    loop {
        let result = tx.list_leads(&LeadFilter::default(), page).await.unwrap();
        assert!(result.items.len() <= 3);
        seen.extend(result.items.iter().map(|lead| lead.id));
        match result.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(3)),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages come in a stable id order");
    assert_eq!(PageRequest::new(None, Some(10_000)).limit, 200);
}

async fn tenants_are_isolated(harness: &Harness) {
    let store = harness.store();
    let acme = create_account(&*store, "Acme").await;
    let globex = create_account(&*store, "Globex").await;
    let acme_lead = insert_lead(&*store, acme, "a@acme.example").await;
    let globex_lead = insert_lead(&*store, globex, "g@globex.example").await;

    let mut tx = store.begin(acme).await.unwrap();
    assert!(tx.get_lead(globex_lead).await.unwrap().is_none());
    assert!(tx.get_lead(acme_lead).await.unwrap().is_some());
    let listed = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![acme_lead]
    );
    assert!(
        tx.find_leads_by_emails(&["g@globex.example".into()])
            .await
            .unwrap()
            .is_empty()
    );
    let update = tx
        .set_lead_status(globex_lead, LeadStatus::Lost, Utc::now())
        .await;
    assert!(
        matches!(update, Err(StoreError::NotFound { .. })),
        "{update:?}"
    );
    assert_eq!(tx.account().await.unwrap().name, "Acme");

    // Enrolling another account's lead inserts nothing.
    let (campaign, _) = tx
        .create_campaign(CampaignId::new(), &spec(1), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        tx.enroll_leads(campaign.id, &[globex_lead], Utc::now())
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();

    let mut tx = store.begin(globex).await.unwrap();
    assert!(tx.get_campaign(campaign.id).await.unwrap().is_none());
    let lead = tx.get_lead(globex_lead).await.unwrap().unwrap();
    assert_eq!(lead.status, LeadStatus::Dormant);
}

async fn suppressions_global_and_local(harness: &Harness) {
    let store = harness.store();
    let acme = create_account(&*store, "Acme").await;
    let globex = create_account(&*store, "Globex").await;
    let global = harness.uuid_literal(uuid::Uuid::now_v7());
    harness
        .owner_execute(&format!(
            "INSERT INTO suppressions (id, account_id, kind, value, reason, created_at) VALUES \
             ({global}, NULL, 'email', 'global@block.example', 'spam_complaint', '2026-01-01T00:00:00+00:00')"
        ))
        .await;

    let mut tx = store.begin(acme).await.unwrap();
    assert!(
        tx.add_suppression(
            ContactKind::Email,
            "acme-only@block.example",
            SuppressionReason::Manual,
            Utc::now()
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.add_suppression(
            ContactKind::Email,
            "acme-only@block.example",
            SuppressionReason::Manual,
            Utc::now()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();

    let values = vec![
        "acme-only@block.example".to_owned(),
        "global@block.example".to_owned(),
        "free@ok.example".to_owned(),
    ];
    let mut tx = store.begin(acme).await.unwrap();
    let mut suppressed = tx
        .suppressed_values(ContactKind::Email, &values)
        .await
        .unwrap();
    suppressed.sort();
    assert_eq!(
        suppressed,
        vec!["acme-only@block.example", "global@block.example"]
    );
    drop(tx);
    let mut tx = store.begin(globex).await.unwrap();
    assert_eq!(
        tx.suppressed_values(ContactKind::Email, &values)
            .await
            .unwrap(),
        vec!["global@block.example"]
    );
}

async fn rollback_discards_every_write(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let first = LeadId::new();

    let mut tx = store.begin(account).await.unwrap();
    tx.insert_lead(
        &NewLead {
            id: first,
            fields: lead_fields("one@acme.example"),
            import_id: None,
            import_ref: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.enqueue_job(
        &NewJob::now("score_lead", json!({"lead": first})),
        Utc::now(),
    )
    .await
    .unwrap();
    tx.append_audit(
        &AuditRecord::new(
            Actor::system("test"),
            "lead.create",
            "lead",
            Some(first.to_string()),
        ),
        Utc::now(),
    )
    .await
    .unwrap();
    // The second write fails (same email), and the caller abandons the transaction.
    let failed = tx
        .insert_lead(
            &NewLead {
                id: LeadId::new(),
                fields: lead_fields("one@acme.example"),
                import_id: None,
                import_ref: None,
            },
            Utc::now(),
        )
        .await;
    assert!(failed.is_err());
    drop(tx);

    let mut tx = store.begin(account).await.unwrap();
    assert!(tx.get_lead(first).await.unwrap().is_none());
    drop(tx);
    let mut system = store.begin_system("test").await.unwrap();
    let jobs = system
        .list_jobs(None, PageRequest::default())
        .await
        .unwrap();
    assert!(jobs.items.is_empty());
    assert_eq!(
        system.audit_head(account).await.unwrap().seq,
        1,
        "only the account creation is audited"
    );
    drop(system);
    assert!(verify_all(&*store).await.unwrap().breaks.is_empty());
}

async fn audit_chain_detects_tampering(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    for index in 0..4 {
        let mut tx = store.begin(account).await.unwrap();
        tx.append_audit(
            &AuditRecord::new(
                Actor::system("test"),
                "lead.update",
                "lead",
                Some(format!("lead-{index}")),
            )
            .with_changes(json!({"status": "active"})),
            Utc::now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let report = verify_all(&*store).await.unwrap();
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert_eq!(report.entries, 5);

    let (disable, enable) = match harness {
        Harness::Sqlite { .. } => (
            "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;",
            "",
        ),
        Harness::Postgres { .. } => (
            "ALTER TABLE audit_log DISABLE TRIGGER USER;",
            "ALTER TABLE audit_log ENABLE TRIGGER USER;",
        ),
    };

    harness
        .owner_execute(&format!(
            "{disable} UPDATE audit_log SET target_id = 'lead-x' WHERE seq = 3; {enable}"
        ))
        .await;
    let report = verify_all(&*store).await.unwrap();
    assert!(
        matches!(
            report.breaks.as_slice(),
            [audit::ChainBreak::Modified { seq: 3, .. }]
        ),
        "{:?}",
        report.breaks
    );

    harness
        .owner_execute(&format!(
            "{disable} DELETE FROM audit_log WHERE seq = 3; {enable}"
        ))
        .await;
    let report = verify_all(&*store).await.unwrap();
    assert!(
        matches!(
            report.breaks.as_slice(),
            [audit::ChainBreak::Missing {
                expected: 3,
                found: 4,
                ..
            }]
        ),
        "{:?}",
        report.breaks
    );

    harness
        .owner_execute(&format!(
            "{disable} DELETE FROM audit_log WHERE seq >= 3; {enable}"
        ))
        .await;
    let report = verify_all(&*store).await.unwrap();
    assert!(
        matches!(
            report.breaks.as_slice(),
            [audit::ChainBreak::Truncated {
                last_seq: 2,
                head_seq: 5,
                ..
            }]
        ),
        "{:?}",
        report.breaks
    );
}

async fn jobs_claim_retry_and_dead_letter(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let now = Utc::now();
    let mut tx = store.begin(account).await.unwrap();
    let mut job = NewJob::now("send_message", json!({"message": "m1"}));
    job.max_attempts = 2;
    job.run_at = now;
    let id = tx.enqueue_job(&job, now).await.unwrap();
    let mut later = NewJob::now("send_message", json!({"message": "m2"}));
    later.run_at = now + Duration::hours(1);
    tx.enqueue_job(&later, now).await.unwrap();
    tx.commit().await.unwrap();

    let mut system = store.begin_system("worker").await.unwrap();
    let claimed = system
        .claim_jobs("w1", &[], 10, Duration::minutes(5), now)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].account_id, Some(account));
    assert!(
        system
            .claim_jobs("w2", &[], 10, Duration::minutes(5), now)
            .await
            .unwrap()
            .is_empty()
    );
    system
        .fail_job(
            id,
            "timeout",
            ErrorClass::Transient,
            JobRetry::At(now + Duration::seconds(30)),
            now,
        )
        .await
        .unwrap();
    assert!(
        system
            .claim_jobs("w1", &[], 10, Duration::minutes(5), now)
            .await
            .unwrap()
            .is_empty()
    );

    let retried = system
        .claim_jobs(
            "w1",
            &["send_message"],
            10,
            Duration::minutes(5),
            now + Duration::seconds(31),
        )
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 2);
    system
        .fail_job(
            id,
            "still failing",
            ErrorClass::Transient,
            JobRetry::Dead,
            now,
        )
        .await
        .unwrap();

    let dead = system
        .list_jobs(Some(JobStatus::Dead), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(dead.items.len(), 1);
    assert_eq!(dead.items[0].last_error.as_deref(), Some("still failing"));
    assert_eq!(dead.items[0].error_class, Some(ErrorClass::Transient));
    assert!(system.retry_dead_job(id, now).await.unwrap());
    let (due, next) = system.queue_state(now).await.unwrap();
    assert_eq!(due, 1);
    assert!(next.is_some());
    assert!(
        system
            .claim_jobs("w1", &["other_kind"], 10, Duration::minutes(5), now)
            .await
            .unwrap()
            .is_empty()
    );
    system.commit().await.unwrap();
}

async fn job_lease_expiry_reclaims(harness: &Harness) {
    let store = harness.store();
    let now = Utc::now();
    let mut system = store.begin_system("worker").await.unwrap();
    let mut job = NewJob::now("dormant_scan", json!({}));
    job.run_at = now;
    let id = system.enqueue_system_job(None, &job, now).await.unwrap();
    let first = system
        .claim_jobs("crashed", &[], 1, Duration::seconds(60), now)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        system
            .claim_jobs(
                "w2",
                &[],
                1,
                Duration::seconds(60),
                now + Duration::seconds(30)
            )
            .await
            .unwrap()
            .is_empty()
    );
    let again = system
        .claim_jobs(
            "w2",
            &[],
            1,
            Duration::seconds(60),
            now + Duration::seconds(61),
        )
        .await
        .unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(again[0].attempts, 2);
    system.complete_job(id, now).await.unwrap();
    assert!(
        system
            .claim_jobs(
                "w3",
                &[],
                1,
                Duration::seconds(60),
                now + Duration::hours(1)
            )
            .await
            .unwrap()
            .is_empty()
    );
    system.commit().await.unwrap();
}

async fn job_unique_key_deduplicates(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let now = Utc::now();
    let mut job = NewJob::now("launch_campaign", json!({}));
    job.run_at = now;
    job.unique_key = Some(format!("{account}:launch:c1"));

    let mut tx = store.begin(account).await.unwrap();
    let first = tx.enqueue_job(&job, now).await.unwrap();
    let second = tx.enqueue_job(&job, now).await.unwrap();
    assert_eq!(first, second);
    tx.commit().await.unwrap();

    let mut system = store.begin_system("worker").await.unwrap();
    let claimed = system
        .claim_jobs("w1", &[], 10, Duration::minutes(5), now)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    system.complete_job(first, now).await.unwrap();
    system.commit().await.unwrap();

    // Once the first job finished, the same key may be enqueued again.
    let mut tx = store.begin(account).await.unwrap();
    assert_ne!(tx.enqueue_job(&job, now).await.unwrap(), first);
}

fn spec(steps: usize) -> CampaignSpec {
    CampaignSpec {
        name: "Q1 revival".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: (0..steps)
            .map(|i| StepSpec {
                channel: if i == 1 { Channel::Sms } else { Channel::Email },
                delay_days: 3 * i as u32,
            })
            .collect(),
    }
}

async fn scheduled_message(
    store: &dyn Store,
    account: AccountId,
) -> (CampaignId, MessageId, LeadId) {
    let lead = insert_lead(
        store,
        account,
        &format!("{}@acme.example", uuid::Uuid::now_v7().simple()),
    )
    .await;
    let mut tx = store.begin(account).await.unwrap();
    let (campaign, steps) = tx
        .create_campaign(CampaignId::new(), &spec(3), Utc::now())
        .await
        .unwrap();
    tx.enroll_leads(campaign.id, &[lead], Utc::now())
        .await
        .unwrap();
    let enrollment = tx
        .list_enrollments(campaign.id, PageRequest::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let id = MessageId::new();
    tx.insert_message(
        &NewMessage {
            id,
            campaign_id: campaign.id,
            step_id: steps[0].id,
            enrollment_id: enrollment.id,
            lead_id: lead,
            channel: Channel::Email,
            variant: "A".into(),
            subject: Some("Picking up where we left off in March".into()),
            alternate_subject: Some("Still looking at pricing?".into()),
            personalisation_elements: vec!["hook:timing".into(), "fact:first_name".into()],
            body: "Hi Zoë, ...".into(),
            to_address: "zoe@nordpeak.example".into(),
            rfc_message_id: format!("{id}@rekindle.example"),
            scheduled_at: Utc::now(),
            sending_identity_id: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (campaign.id, id, lead)
}

async fn messages_only_move_forward(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let (_, id, _) = scheduled_message(&*store, account).await;

    let mut tx = store.begin(account).await.unwrap();
    let sent = MessageUpdate {
        provider_message_id: Some("outbox-1".into()),
        sent: true,
        ..Default::default()
    };
    assert!(
        tx.advance_message(
            id,
            MessageStatus::Sending,
            &MessageUpdate::default(),
            Utc::now()
        )
        .await
        .unwrap()
    );
    assert!(
        tx.advance_message(id, MessageStatus::Sent, &sent, Utc::now())
            .await
            .unwrap()
    );
    assert!(
        tx.advance_message(
            id,
            MessageStatus::Opened,
            &MessageUpdate::default(),
            Utc::now()
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.advance_message(
            id,
            MessageStatus::Delivered,
            &MessageUpdate::default(),
            Utc::now()
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.advance_message(
            id,
            MessageStatus::Cancelled,
            &MessageUpdate::default(),
            Utc::now()
        )
        .await
        .unwrap()
    );
    let message = tx.get_message(id).await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Opened);
    assert_eq!(message.provider_message_id.as_deref(), Some("outbox-1"));
    assert!(message.sent_at.is_some());
    let by_rfc = tx
        .find_message_by_rfc_id(&message.rfc_message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_rfc.id, id);
}

async fn campaigns_enrollments_and_funnel(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let (campaign, message, lead) = scheduled_message(&*store, account).await;

    let mut tx = store.begin(account).await.unwrap();
    let steps = tx.list_steps(campaign).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.position).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(steps[1].spec.channel, Channel::Sms);
    assert_eq!(
        tx.enroll_leads(campaign, &[lead], Utc::now())
            .await
            .unwrap(),
        0,
        "enrolling twice adds nothing"
    );
    let too_many = tx
        .create_campaign(CampaignId::new(), &spec(11), Utc::now())
        .await;
    assert!(matches!(too_many, Err(StoreError::Invalid(_))));

    tx.advance_message(
        message,
        MessageStatus::Sent,
        &MessageUpdate {
            sent: true,
            ..Default::default()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.insert_reply(
        &NewReply {
            lead_id: lead,
            message_id: Some(message),
            channel: Channel::Email,
            from_address: "zoe@nordpeak.example".into(),
            subject: None,
            body: "Happy to chat on Tuesday.".into(),
            label: ReplyLabel::MeetingRequest,
            objection: None,
            return_date: None,
            received_at: Utc::now(),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.set_campaign_status(campaign, CampaignStatus::Active, Utc::now())
        .await
        .unwrap();

    let funnel = tx.funnel(Some(campaign)).await.unwrap();
    assert_eq!(funnel.enrolled, 1);
    assert_eq!(funnel.sent, 1);
    assert_eq!(funnel.delivered, 0);
    assert_eq!(funnel.replied, 1);
    assert_eq!(funnel.positive, 1);
    let counts = tx.count_messages_by_step(campaign).await.unwrap();
    assert_eq!(
        counts,
        vec![StepCount {
            position: 1,
            channel: Channel::Email,
            status: MessageStatus::Sent,
            count: 1
        }]
    );
    let stored = tx.get_campaign(campaign).await.unwrap().unwrap();
    assert_eq!(stored.status, CampaignStatus::Active);
    assert!(stored.launched_at.is_some());
}

async fn vocabulary_checks_reject_unknown_values(harness: &Harness) {
    let store = harness.store();
    let account = create_account(&*store, "Acme").await;
    let lead = insert_lead(&*store, account, "v@acme.example").await;

    // Every value the domain defines passes the CHECK constraint.
    for status in LeadStatus::ALL {
        let mut tx = store.begin(account).await.unwrap();
        tx.set_lead_status(lead, *status, Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
    }
    for tier in Tier::ALL {
        let mut tx = store.begin(account).await.unwrap();
        tx.set_lead_score(lead, 50, *tier, &json!([]), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut system = store.begin_system("test").await.unwrap();
    let id = system
        .enqueue_system_job(None, &NewJob::now("x", json!({})), Utc::now())
        .await
        .unwrap();
    for class in ErrorClass::ALL {
        system
            .fail_job(id, "e", *class, JobRetry::Dead, Utc::now())
            .await
            .unwrap();
    }
    system.commit().await.unwrap();

    for sql in [
        "UPDATE leads SET status = 'zombie'",
        "UPDATE leads SET tier = 'lukewarm'",
        "UPDATE jobs SET status = 'paused'",
        "UPDATE accounts SET plan = 'free'",
    ] {
        assert!(
            harness.owner_try_execute(sql).await.is_err(),
            "{sql} was accepted"
        );
    }
}
