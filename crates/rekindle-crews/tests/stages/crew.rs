//! Reactivation crew: whole batches, per-lead isolation, timeouts and budgets.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rekindle_crews::crew::CREW_STAGE_NAME;
use rekindle_crews::text::{char_count, word_count};
use rekindle_crews::{
    CrewConfig, Draft, LeadOutcome, LeadRun, MessageWriter, OfflineWriter, PreparedMessage,
    ReactivationCrew, StageError, TEXT_OPT_OUT, WriterRequest,
};
use rekindle_domain::{Channel, ConsentBasis, ErrorClass, LeadId, LeadStatus, Tone};

use crate::common::{UNSUBSCRIBE_URL, campaign_step, consented_task, lead_id};

/// Fails for one lead, writes offline for the others.
struct FailingWriter {
    fails_for: LeadId,
}

#[async_trait]
impl MessageWriter for FailingWriter {
    fn name(&self) -> &'static str {
        "failing"
    }

    async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError> {
        if request.lead_id == self.fails_for {
            return Err(StageError::new(
                ErrorClass::RateLimited,
                "provider returned 429",
            ));
        }
        OfflineWriter.write_draft(request)
    }
}

/// Sleeps before writing, for one lead or for all.
struct SlowWriter {
    delay: Duration,
    only_for: Option<LeadId>,
}

#[async_trait]
impl MessageWriter for SlowWriter {
    fn name(&self) -> &'static str {
        "slow"
    }

    async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError> {
        if self.only_for.is_none_or(|id| id == request.lead_id) {
            tokio::time::sleep(self.delay).await;
        }
        OfflineWriter.write_draft(request)
    }
}

fn prepared(run: &LeadRun) -> &PreparedMessage {
    match &run.outcome {
        LeadOutcome::Prepared(message) => message,
        LeadOutcome::Failed { stage, error } => {
            panic!("lead {} failed at {stage}: {error}", run.lead_id)
        }
    }
}

fn stage_names(run: &LeadRun) -> Vec<&'static str> {
    run.stages.iter().map(|record| record.stage).collect()
}

const ALL_EMAIL_STAGES: [&str; 7] = [
    "scorer",
    "researcher",
    "writer",
    "subject_optimizer",
    "scheduler",
    "compliance",
    "quality",
];

/// Notes of the generated leads that ask not to be contacted.
fn notes_opt_out(run: &LeadRun, index: u32) -> bool {
    let fields = crate::common::generated_fields(index);
    run.lead_id == lead_id(index)
        && fields
            .notes
            .as_deref()
            .is_some_and(|notes| notes.contains("unsubscribe"))
}

#[tokio::test]
async fn email_batch_of_200() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let tasks = (0..200).map(consented_task).collect();
    let report = crew
        .run(&campaign_step(Channel::Email, Tone::Friendly, 0), tasks)
        .await;
    assert_eq!(report.leads.len(), 200);

    let mut bodies = HashSet::new();
    for (index, run) in (0..200).zip(&report.leads) {
        if notes_opt_out(run, index) {
            let LeadOutcome::Failed { stage, error } = &run.outcome else {
                panic!("lead {index} asked to unsubscribe but was prepared");
            };
            assert_eq!(*stage, "compliance");
            assert_eq!(error.class, ErrorClass::Permanent);
            continue;
        }

        let message = prepared(run);
        assert_eq!(stage_names(run), ALL_EMAIL_STAGES, "lead {index}");
        let words = word_count(&message.message.body);
        assert!((80..=150).contains(&words), "lead {index}: {words} words");
        let subject = message.message.subject.as_deref().expect("subject");
        assert!(
            (40..=60).contains(&char_count(subject)),
            "lead {index}: {subject}"
        );
        let variants = message
            .subject_variants
            .as_ref()
            .expect("email has variants");
        assert_eq!(subject, variants.subject());
        let elements = &message.personalisation_elements;
        assert!(
            elements.first().is_some_and(|key| key.starts_with("hook:")),
            "lead {index}: {elements:?}"
        );
        assert!(
            message
                .message
                .footer
                .contains(&format!("{UNSUBSCRIBE_URL}{index}"))
        );
        assert!(message.message.footer.contains("1 Market Street"));
        bodies.insert(message.message.body.clone());
    }
    assert_eq!(
        report.prepared_count(),
        bodies.len(),
        "every prepared body is distinct"
    );
    assert!(
        report.prepared_count() >= 180,
        "only {} of 200 prepared",
        report.prepared_count()
    );
}

#[tokio::test]
async fn sms_batch_respects_limits() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let tasks = (0..200).map(consented_task).collect();
    let report = crew
        .run(&campaign_step(Channel::Sms, Tone::Direct, 1), tasks)
        .await;

    for (index, run) in (0..200).zip(&report.leads) {
        if notes_opt_out(run, index) {
            continue;
        }
        let message = prepared(run);
        assert!(
            !stage_names(run).contains(&"subject_optimizer"),
            "lead {index}"
        );
        let text = message.message.full_text();
        assert!(
            char_count(&text) <= 320,
            "lead {index}: {} chars",
            char_count(&text)
        );
        assert!(text.ends_with(TEXT_OPT_OUT), "lead {index}: {text}");
        assert!(message.subject_variants.is_none());
    }
}

#[tokio::test]
async fn failing_lead_is_isolated() {
    let writer = FailingWriter {
        fails_for: lead_id(2),
    };
    let crew = ReactivationCrew::new(Arc::new(writer), CrewConfig::default());
    let tasks = [1, 2, 3].map(consented_task).to_vec();
    let report = crew
        .run(&campaign_step(Channel::Email, Tone::Professional, 0), tasks)
        .await;

    assert_eq!(report.prepared_count(), 2);
    assert_eq!(report.failed_count(), 1);
    let failed = &report.leads[1];
    assert_eq!(failed.lead_id, lead_id(2));
    let LeadOutcome::Failed { stage, error } = &failed.outcome else {
        panic!("lead 2 should fail");
    };
    assert_eq!(*stage, "writer");
    assert_eq!(error.class, ErrorClass::RateLimited);
    assert_eq!(stage_names(failed), ["scorer", "researcher", "writer"]);
    assert_eq!(failed.stages[2].error.as_ref(), Some(error));
    assert!(
        failed.stages[2].input_summary.contains("writer failing"),
        "{}",
        failed.stages[2].input_summary
    );

    assert_eq!(report.stage_records().count(), 7 + 3 + 7);
    assert!(
        report
            .stage_records()
            .all(|(id, _)| [lead_id(1), lead_id(2), lead_id(3)].contains(&id))
    );
}

#[tokio::test]
async fn failed_lead_keeps_stagger_dense() {
    let writer = FailingWriter {
        fails_for: lead_id(2),
    };
    let crew = ReactivationCrew::new(Arc::new(writer), CrewConfig::default());
    let mut step = campaign_step(Channel::Email, Tone::Friendly, 0);
    step.first_send_index = 10;
    let tasks = [1, 2, 3]
        .map(|index| {
            let mut task = consented_task(index);
            task.lead.fields.time_zone = Some("Europe/London".into());
            task
        })
        .to_vec();
    let report = crew.run(&step, tasks).await;

    let first = prepared(&report.leads[0]).schedule.send_at;
    let third = prepared(&report.leads[2]).schedule.send_at;
    // The failed lead consumed no slot: the next lead is one spacing later.
    assert_eq!((third - first).num_seconds(), 120);
}

#[tokio::test(start_paused = true)]
async fn slow_stage_times_out() {
    let writer = SlowWriter {
        delay: Duration::from_secs(120),
        only_for: Some(lead_id(5)),
    };
    let config = CrewConfig {
        stage_timeout: Duration::from_secs(30),
        run_budget: Duration::from_secs(600),
        ..CrewConfig::default()
    };
    let crew = ReactivationCrew::new(Arc::new(writer), config);
    let tasks = [4, 5, 6].map(consented_task).to_vec();
    let report = crew
        .run(&campaign_step(Channel::Email, Tone::Friendly, 0), tasks)
        .await;

    let LeadOutcome::Failed { stage, error } = &report.leads[1].outcome else {
        panic!("lead 5 should time out");
    };
    assert_eq!(*stage, "writer");
    assert_eq!(error.class, ErrorClass::Transient);
    assert!(
        error.message.contains("timed out after 30000 ms"),
        "{error}"
    );
    assert_eq!(report.leads[1].stages[2].duration, Duration::from_secs(30));
    prepared(&report.leads[0]);
    prepared(&report.leads[2]);
}

#[tokio::test(start_paused = true)]
async fn run_budget_stops_new_leads() {
    let writer = SlowWriter {
        delay: Duration::from_secs(20),
        only_for: None,
    };
    // One lead at a time, so each lead starts when the previous one ends.
    let config = CrewConfig {
        stage_timeout: Duration::from_secs(30),
        run_budget: Duration::from_secs(50),
        lead_concurrency: 1,
    };
    let crew = ReactivationCrew::new(Arc::new(writer), config);
    let tasks = (0..5).map(consented_task).collect();
    let report = crew
        .run(&campaign_step(Channel::Email, Tone::Friendly, 0), tasks)
        .await;

    // Leads 0, 1 and 2 start at 0 s, 20 s and 40 s; lead 3 would start at 60 s.
    let outcomes: Vec<Option<&'static str>> = report
        .leads
        .iter()
        .map(|run| match &run.outcome {
            LeadOutcome::Prepared(_) => None,
            LeadOutcome::Failed { stage, .. } => Some(*stage),
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            None,
            None,
            None,
            Some(CREW_STAGE_NAME),
            Some(CREW_STAGE_NAME)
        ]
    );
    let LeadOutcome::Failed { error, .. } = &report.leads[4].outcome else {
        unreachable!("checked above");
    };
    assert_eq!(error.class, ErrorClass::Transient);
    assert!(report.leads[4].stages.is_empty());
}

#[tokio::test]
async fn suppression_and_consent_block() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let mut suppressed = consented_task(1);
    suppressed.suppressed = true;
    let mut status_suppressed = consented_task(2);
    status_suppressed.lead.status = LeadStatus::Suppressed;
    let mut withdrawn = consented_task(3);
    withdrawn.consent = Some(ConsentBasis::Withdrawn);
    let ok = consented_task(7);

    let report = crew
        .run(
            &campaign_step(Channel::Email, Tone::Direct, 0),
            vec![suppressed, status_suppressed, withdrawn, ok],
        )
        .await;
    for run in &report.leads[..3] {
        let LeadOutcome::Failed { stage, error } = &run.outcome else {
            panic!("lead {} should be blocked", run.lead_id);
        };
        assert_eq!(*stage, "compliance");
        assert_eq!(error.class, ErrorClass::Permanent);
    }
    prepared(&report.leads[3]);
}

#[tokio::test]
async fn step_delay_and_window_apply() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let mut step = campaign_step(Channel::Email, Tone::Friendly, 1);
    step.delay_days = 3;
    let mut task = consented_task(7);
    task.lead.fields.time_zone = Some("America/New_York".into());
    let report = crew.run(&step, vec![task]).await;

    let schedule = &prepared(&report.leads[0]).schedule;
    // Wednesday 06:00 EDT plus 3 days is Saturday; the window opens Monday 09:00 EDT.
    assert_eq!(schedule.local_time, "2024-06-17T09:00:00-04:00");
    assert_eq!(schedule.time_zone, "America/New_York");
}

#[tokio::test]
async fn follow_up_delay_counts_from_previous_send() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let mut step = campaign_step(Channel::Email, Tone::Friendly, 1);
    step.delay_days = 7;
    let mut task = consented_task(7);
    task.lead.fields.time_zone = Some("Europe/London".into());
    task.previous_sent_at = Some(crate::common::now() - chrono::TimeDelta::days(2));
    let report = crew.run(&step, vec![task]).await;

    // Sent Monday 11:00 BST; 7 days later is Monday 2024-06-17 11:00 BST.
    let schedule = &prepared(&report.leads[0]).schedule;
    assert_eq!(schedule.local_time, "2024-06-17T11:00:00+01:00");
}

#[tokio::test]
async fn records_serialise_outputs() {
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let report = crew
        .run(
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![consented_task(7)],
        )
        .await;
    let run = &report.leads[0];
    prepared(run);
    for record in &run.stages {
        assert!(
            record.error.is_none(),
            "{}: {:?}",
            record.stage,
            record.error
        );
        assert!(!record.output.is_null(), "{} has no output", record.stage);
        assert!(record.input_summary.chars().count() <= 200);
        assert!(
            !record.input_summary.contains("Smith"),
            "{}",
            record.input_summary
        );
    }
    let json = serde_json::to_value(&report).expect("report serialises");
    assert_eq!(json["leads"][0]["outcome"]["outcome"], "prepared");
}

#[tokio::test(start_paused = true)]
async fn leads_draft_concurrently_up_to_the_cap() {
    let writer = Arc::new(SlowWriter {
        delay: Duration::from_millis(200),
        only_for: None,
    });
    let tasks = || (0..32).map(consented_task).collect::<Vec<_>>();
    let step = campaign_step(Channel::Email, Tone::Friendly, 0);

    let wide = ReactivationCrew::new(
        writer.clone(),
        CrewConfig {
            lead_concurrency: 32,
            ..CrewConfig::default()
        },
    );
    let report = wide.run(&step, tasks()).await;
    assert_eq!(report.leads.len(), 32);
    // Some generated leads asked not to be contacted and stop at compliance.
    let prepared = report.prepared_count();
    assert!(prepared >= 28, "{prepared} of 32 prepared");
    // All 32 writers wait at the same time: one delay in all.
    assert_eq!(report.duration, Duration::from_millis(200));

    let narrow = ReactivationCrew::new(
        writer,
        CrewConfig {
            lead_concurrency: 4,
            ..CrewConfig::default()
        },
    );
    let report = narrow.run(&step, tasks()).await;
    assert_eq!(report.prepared_count(), prepared);
    // Four at a time: eight rounds of one delay.
    assert_eq!(report.duration, Duration::from_millis(1_600));
}

#[tokio::test(start_paused = true)]
async fn concurrent_drafts_keep_input_order() {
    // Earlier leads write slower, so they finish drafting last.
    struct SlowerFirst;

    #[async_trait]
    impl MessageWriter for SlowerFirst {
        fn name(&self) -> &'static str {
            "slower-first"
        }

        async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError> {
            let index = (0..8)
                .find(|index| lead_id(*index) == request.lead_id)
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(100 * (8 - u64::from(index)))).await;
            OfflineWriter.write_draft(request)
        }
    }

    let crew = ReactivationCrew::new(
        Arc::new(SlowerFirst),
        CrewConfig {
            lead_concurrency: 8,
            ..CrewConfig::default()
        },
    );
    let tasks = (0..8)
        .map(|index| {
            let mut task = consented_task(index);
            task.lead.fields.time_zone = Some("Europe/London".into());
            task
        })
        .collect();
    let report = crew
        .run(&campaign_step(Channel::Email, Tone::Friendly, 0), tasks)
        .await;

    let ids: Vec<LeadId> = report.leads.iter().map(|run| run.lead_id).collect();
    let expected: Vec<LeadId> = (0..8).map(lead_id).collect();
    assert_eq!(ids, expected);
    let send_times: Vec<_> = report
        .leads
        .iter()
        .map(|run| prepared(run).schedule.send_at)
        .collect();
    for pair in send_times.windows(2) {
        assert!(
            pair[0] < pair[1],
            "stagger out of input order: {send_times:?}"
        );
    }
}
