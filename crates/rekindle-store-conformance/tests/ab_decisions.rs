//! A/B counts, decisions and the funnel per step and variant, on both
//! backends with the same asserts.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::*;
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
                let Some(harness) = super::Harness::postgres(concat!("ab_", stringify!($check))).await else {
                    return;
                };
                super::$check(&harness).await;
                harness.finish().await;
            }
        }
    )*};
}

conformance!(
    ab_counts_and_funnel_by_variant,
    ab_decision_switches_scheduled_losers,
);

/// A one-step email campaign with three enrolled leads, the second in
/// Berlin's time zone.
struct Fixture {
    account: AccountId,
    campaign: CampaignId,
    step: StepId,
    leads: Vec<LeadId>,
    enrollments: Vec<EnrollmentId>,
}

async fn fixture(store: &dyn Store) -> Fixture {
    let account = create_account(store, "Variant Labs").await;
    let mut tx = store.begin(account).await.unwrap();
    let mut leads = Vec::new();
    for (index, zone) in [None, Some("Europe/Berlin"), None].into_iter().enumerate() {
        let id = LeadId::new();
        let fields = LeadFields {
            email: Some(Email::parse(&format!("lead{index}@variant.example")).unwrap()),
            time_zone: zone.map(str::to_owned),
            ..LeadFields::default()
        };
        let lead = NewLead {
            id,
            fields,
            import_id: None,
            import_ref: None,
        };
        tx.insert_lead(&lead, Utc::now()).await.unwrap();
        leads.push(id);
    }
    let spec = CampaignSpec {
        name: "Subject test".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, steps) = tx
        .create_campaign(CampaignId::new(), &spec, Utc::now())
        .await
        .unwrap();
    tx.enroll_leads(campaign.id, &leads, Utc::now())
        .await
        .unwrap();
    let enrolled = tx
        .list_enrollments(campaign.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    tx.commit().await.unwrap();

    let enrollments = leads
        .iter()
        .map(|lead| {
            enrolled
                .iter()
                .find(|enrollment| enrollment.lead_id == *lead)
                .unwrap()
                .id
        })
        .collect();
    Fixture {
        account,
        campaign: campaign.id,
        step: steps[0].id,
        leads,
        enrollments,
    }
}

/// Inserts the scheduled message of lead `index` with `variant`, whose
/// subject is `Subject <variant>` and whose alternate is the other one.
async fn insert_message(
    tx: &mut dyn TenantTx,
    fixture: &Fixture,
    index: usize,
    variant: &str,
) -> MessageId {
    let other = if variant == "A" { "B" } else { "A" };
    let id = MessageId::new();
    let message = NewMessage {
        id,
        campaign_id: fixture.campaign,
        step_id: fixture.step,
        enrollment_id: fixture.enrollments[index],
        lead_id: fixture.leads[index],
        channel: Channel::Email,
        variant: variant.into(),
        subject: Some(format!("Subject {variant}")),
        alternate_subject: Some(format!("Subject {other}")),
        personalisation_elements: vec!["hook:timing".into(), format!("lead:{index}")],
        body: "Hello".into(),
        to_address: format!("lead{index}@variant.example"),
        rfc_message_id: format!("{id}@variant.example"),
        scheduled_at: Utc::now() + Duration::hours(1),
        sending_identity_id: None,
    };
    tx.insert_messages(&[message], Utc::now()).await.unwrap();
    id
}

async fn send(tx: &mut dyn TenantTx, id: MessageId, at: DateTime<Utc>) {
    let sent = MessageUpdate {
        sent: true,
        ..MessageUpdate::default()
    };
    assert!(
        tx.advance_message(id, MessageStatus::Sent, &sent, at)
            .await
            .unwrap()
    );
}

async fn reply(
    tx: &mut dyn TenantTx,
    fixture: &Fixture,
    index: usize,
    id: MessageId,
    label: ReplyLabel,
) {
    let reply = NewReply {
        lead_id: fixture.leads[index],
        message_id: Some(id),
        channel: Channel::Email,
        from_address: format!("lead{index}@variant.example"),
        subject: None,
        body: "Thanks".into(),
        label,
        objection: None,
        return_date: None,
        received_at: Utc::now(),
    };
    tx.insert_reply(&reply, Utc::now()).await.unwrap();
    // As the reply service does, an automatic reply leaves the status.
    if label == ReplyLabel::AutoReply {
        return;
    }
    assert!(
        tx.advance_message(
            id,
            MessageStatus::Replied,
            &MessageUpdate::default(),
            Utc::now()
        )
        .await
        .unwrap()
    );
}

async fn ab_counts_and_funnel_by_variant(harness: &Harness) {
    let store = harness.store();
    let fixture = fixture(&*store).await;
    let sent_at = Utc::now().trunc_subsecs(6);
    let mut tx = store.begin(fixture.account).await.unwrap();
    let first = insert_message(&mut *tx, &fixture, 0, "A").await;
    let second = insert_message(&mut *tx, &fixture, 1, "B").await;
    insert_message(&mut *tx, &fixture, 2, "A").await;
    send(&mut *tx, first, sent_at).await;
    send(&mut *tx, second, sent_at + Duration::seconds(1)).await;
    reply(&mut *tx, &fixture, 0, first, ReplyLabel::NotInterested).await;
    reply(&mut *tx, &fixture, 1, second, ReplyLabel::Interested).await;
    // An automatic reply counts as no reply at all.
    reply(&mut *tx, &fixture, 1, second, ReplyLabel::AutoReply).await;
    tx.commit().await.unwrap();

    let mut tx = store.begin(fixture.account).await.unwrap();
    let counts = tx.count_ab_outcomes(fixture.campaign).await.unwrap();
    let outcomes = tx.sent_message_outcomes(fixture.campaign).await.unwrap();
    let funnel = tx
        .count_funnel_by_step_variant(fixture.campaign)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let counts: Vec<(&str, i64, i64)> = counts
        .iter()
        .map(|row| (row.variant.as_str(), row.sends, row.positive_replies))
        .collect();
    assert_eq!(
        counts,
        [("A", 1, 0), ("B", 1, 1)],
        "scheduled sends are not counted"
    );

    assert_eq!(outcomes.len(), 2);
    assert_eq!(
        outcomes[0].personalisation_elements,
        ["hook:timing", "lead:0"]
    );
    assert_eq!(outcomes[0].sent_at, sent_at);
    assert_eq!(outcomes[0].lead_time_zone, None);
    assert!(!outcomes[0].positive);
    assert_eq!(outcomes[1].lead_time_zone.as_deref(), Some("Europe/Berlin"));
    assert!(outcomes[1].positive);

    let expected_a = StepVariantFunnel {
        position: 1,
        variant: "A".into(),
        sent: 1,
        delivered: 1,
        replied: 1,
        ..StepVariantFunnel::default()
    };
    let expected_b = StepVariantFunnel {
        variant: "B".into(),
        positive: 1,
        ..expected_a.clone()
    };
    assert_eq!(funnel, [expected_a, expected_b]);

    let other = create_account(&*store, "Elsewhere").await;
    let mut tx = store.begin(other).await.unwrap();
    assert!(
        tx.count_ab_outcomes(fixture.campaign)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.count_funnel_by_step_variant(fixture.campaign)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn ab_decision_switches_scheduled_losers(harness: &Harness) {
    let store = harness.store();
    let fixture = fixture(&*store).await;
    let mut tx = store.begin(fixture.account).await.unwrap();
    let sent_loser = insert_message(&mut *tx, &fixture, 0, "A").await;
    let scheduled_winner = insert_message(&mut *tx, &fixture, 1, "B").await;
    let scheduled_loser = insert_message(&mut *tx, &fixture, 2, "A").await;
    send(&mut *tx, sent_loser, Utc::now()).await;

    let decided_at = Utc::now().trunc_subsecs(6);
    let decision = StepAbDecision {
        winner: "B".into(),
        decided_at,
        figures: json!({ "p_value": 0.001 }),
    };
    let switched = tx
        .record_ab_decision(fixture.step, &decision, Utc::now())
        .await
        .unwrap();
    assert_eq!(switched, Some(1), "only the scheduled loser switches");
    let again = StepAbDecision {
        winner: "A".into(),
        ..decision.clone()
    };
    assert_eq!(
        tx.record_ab_decision(fixture.step, &again, Utc::now())
            .await
            .unwrap(),
        None,
        "a decided step stays decided"
    );
    let missing = tx
        .record_ab_decision(StepId::new(), &decision, Utc::now())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    tx.commit().await.unwrap();

    let mut tx = store.begin(fixture.account).await.unwrap();
    let steps = tx.list_steps(fixture.campaign).await.unwrap();
    assert_eq!(steps[0].ab_decision.as_ref(), Some(&decision));
    let subject_and_variant = |message: Message| (message.subject.unwrap(), message.variant);
    let switched = tx.get_message(scheduled_loser).await.unwrap().unwrap();
    assert_eq!(switched.alternate_subject.as_deref(), Some("Subject A"));
    assert_eq!(switched.personalisation_elements, ["hook:timing", "lead:2"]);
    assert_eq!(
        subject_and_variant(switched),
        ("Subject B".to_owned(), "B".to_owned())
    );
    let sent = tx.get_message(sent_loser).await.unwrap().unwrap();
    assert_eq!(
        subject_and_variant(sent),
        ("Subject A".to_owned(), "A".to_owned()),
        "a sent message keeps its subject"
    );
    let winner = tx.get_message(scheduled_winner).await.unwrap().unwrap();
    assert_eq!(
        subject_and_variant(winner),
        ("Subject B".to_owned(), "B".to_owned())
    );
}
