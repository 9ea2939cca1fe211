//! Send throttling seen from the stored send times: a campaign of 2,000 leads
//! over several sending identities, launched through the API, keeps every
//! identity's hourly and daily caps and warm-up ramp, every recipient
//! domain's caps, and the sending window.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use common::{Session, TestServer};
use rekindle_domain::{AccountId, CampaignId};
use rekindle_services::worker::Worker;
use rekindle_store::{Message, PageRequest};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    campaign_keeps_every_cap => campaign_keeps_every_cap,
);

const LEADS: usize = 2_000;
/// Leads at one large mailbox provider, so the domain caps bind.
const GMAIL_LEADS: usize = 1_200;
/// The defaults of `sending.domain_hourly_cap` and `sending.domain_daily_cap`.
const DOMAIN_HOURLY_CAP: usize = 100;
const DOMAIN_DAILY_CAP: usize = 1_000;
/// The default `sending.warm_up_daily_caps`, week by week.
const WARM_UP: [usize; 5] = [20, 50, 100, 200, 500];
/// Campaign window, in the account's zone (no lead sets its own).
const WINDOW_START: u32 = 8;
const WINDOW_END: u32 = 18;

/// A sending identity as created, with the caps the test expects it to keep.
struct Sender {
    id: Uuid,
    hourly_cap: usize,
    daily_cap: usize,
    warm_up_start: NaiveDate,
}

impl Sender {
    fn cap_on(&self, date: NaiveDate) -> usize {
        let week = usize::try_from((date - self.warm_up_start).num_days().max(0) / 7).unwrap();
        WARM_UP
            .get(week)
            .map_or(self.daily_cap, |&ramp| ramp.min(self.daily_cap))
    }
}

async fn campaign_keeps_every_cap(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Throttle Works").await;
    let today = Utc::now().date_naive();

    let senders = vec![
        create_sender(
            &server,
            &owner,
            "old",
            40,
            10_000,
            today - chrono::Days::new(60),
        )
        .await,
        create_sender(
            &server,
            &owner,
            "newer",
            500,
            10_000,
            today - chrono::Days::new(10),
        )
        .await,
        create_sender(&server, &owner, "newest", 500, 10_000, today).await,
    ];
    let paused = create_sender(&server, &owner, "paused", 500, 10_000, today).await;
    let response = server
        .patch(
            &owner,
            &format!("/api/v1/sending-identities/{}", paused.id),
            json!({ "paused": true }),
        )
        .await;
    assert_eq!(response.status(), 200);

    import_leads(&server, &owner).await;
    let (account, campaign) = launch_campaign(&server, &owner).await;
    let messages = stored_messages(&server, account, campaign).await;
    assert_eq!(messages.len(), LEADS, "one message per lead");

    let mut per_identity_hour: HashMap<(Uuid, i64), usize> = HashMap::new();
    let mut per_identity_day: HashMap<(Uuid, NaiveDate), usize> = HashMap::new();
    let mut per_domain_hour: HashMap<(String, i64), usize> = HashMap::new();
    let mut per_domain_day: HashMap<(String, NaiveDate), usize> = HashMap::new();
    for message in &messages {
        let identity = message
            .sending_identity_id
            .expect("an account with identities sends from one of them");
        assert_ne!(identity, paused.id, "a paused identity gets no sends");
        assert!(
            in_window(message.scheduled_at),
            "{} is outside the window",
            message.scheduled_at
        );

        let hour = message.scheduled_at.timestamp().div_euclid(3_600);
        let day = message.scheduled_at.date_naive();
        let domain = message.to_address.rsplit('@').next().unwrap().to_owned();
        *per_identity_hour.entry((identity, hour)).or_default() += 1;
        *per_identity_day.entry((identity, day)).or_default() += 1;
        *per_domain_hour.entry((domain.clone(), hour)).or_default() += 1;
        *per_domain_day.entry((domain, day)).or_default() += 1;
    }

    for sender in &senders {
        for (&(identity, hour), &count) in &per_identity_hour {
            if identity == sender.id {
                assert!(count <= sender.hourly_cap, "{count} sends in hour {hour}");
            }
        }
        for (&(identity, day), &count) in &per_identity_day {
            if identity == sender.id {
                let cap = sender.cap_on(day);
                assert!(count <= cap, "{count} sends on {day}, cap {cap}");
            }
        }
    }
    for ((domain, hour), count) in &per_domain_hour {
        assert!(
            *count <= DOMAIN_HOURLY_CAP,
            "{count} sends to {domain} in hour {hour}"
        );
    }
    for ((domain, day), count) in &per_domain_day {
        assert!(
            *count <= DOMAIN_DAILY_CAP,
            "{count} sends to {domain} on {day}"
        );
    }

    // The caps are reached, not just kept: the newest identity fills its
    // first-week ramp on the first full day, and the large domain fills hours.
    let first_full_day = today + chrono::Days::new(2);
    let newest = &senders[2];
    assert_eq!(
        per_identity_day.get(&(newest.id, first_full_day)).copied(),
        Some(newest.cap_on(first_full_day))
    );
    let busiest_gmail_hour = per_domain_hour
        .iter()
        .filter(|((domain, _), _)| domain == "gmail.com")
        .map(|(_, count)| *count)
        .max();
    assert_eq!(busiest_gmail_hour, Some(DOMAIN_HOURLY_CAP));
    let days: BTreeMap<NaiveDate, usize> =
        messages.iter().fold(BTreeMap::new(), |mut days, message| {
            *days.entry(message.scheduled_at.date_naive()).or_default() += 1;
            days
        });
    assert!(days.len() >= 3, "the campaign spreads over days: {days:?}");
}

async fn create_sender(
    server: &TestServer,
    owner: &Session,
    name: &str,
    hourly_cap: usize,
    daily_cap: usize,
    warm_up_start: NaiveDate,
) -> Sender {
    let response = server
        .post(
            owner,
            "/api/v1/sending-identities",
            json!({ "channel": "email", "address": format!("{name}@throttle-works.example.com"),
                    "hourly_cap": hourly_cap, "daily_cap": daily_cap,
                    "warm_up_start": warm_up_start.to_string() }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    Sender {
        id: body["id"].as_str().unwrap().parse().unwrap(),
        hourly_cap,
        daily_cap,
        warm_up_start,
    }
}

/// Uploads a CSV of `LEADS` leads, most of them at gmail.com.
async fn import_leads(server: &TestServer, owner: &Session) {
    let mut csv = String::from("email,first_name,company,job_title,notes\n");
    for index in 0..LEADS {
        let domain = if index < GMAIL_LEADS {
            "gmail.com".to_owned()
        } else {
            format!("company{}.example.com", index % 40)
        };
        csv.push_str(&format!(
            "lead{index}@{domain},Dana,Acme {index} Ltd,Head of Sales,Asked for pricing last spring.\n"
        ));
    }
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("leads.csv"),
    );
    let response = server
        .client
        .post(server.url("/api/v1/imports"))
        .bearer_auth(&owner.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    run_due_now(server).await;
}

/// Creates a one-step email campaign a day after launch, enrolls every lead
/// and launches it, then lets the worker prepare every batch. The day's delay
/// keeps every send job in the future, so only the crew runs.
async fn launch_campaign(server: &TestServer, owner: &Session) -> (AccountId, CampaignId) {
    let campaign: Value = server
        .post(
            owner,
            "/api/v1/campaigns",
            json!({ "name": "Throttled win-back", "tone": "friendly",
                    "window": { "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start_hour": WINDOW_START, "end_hour": WINDOW_END },
                    "steps": [{ "channel": "email", "delay_days": 1 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = campaign["id"].as_str().unwrap().to_owned();

    let leads = lead_ids(server, owner).await;
    assert_eq!(leads.len(), LEADS);
    for chunk in leads.chunks(1_000) {
        let response = server
            .post(
                owner,
                &format!("/api/v1/campaigns/{id}/enrollments"),
                json!({ "lead_ids": chunk }),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    let launched = server
        .post(owner, &format!("/api/v1/campaigns/{id}/launch"), json!({}))
        .await;
    assert_eq!(launched.status(), 202);
    run_due_now(server).await;

    (
        AccountId(owner.account_id.parse().unwrap()),
        CampaignId(id.parse().unwrap()),
    )
}

async fn lead_ids(server: &TestServer, owner: &Session) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/api/v1/leads?limit=200".to_owned();
    loop {
        let page: Value = server.get(owner, &path).await.json().await.unwrap();
        for lead in page["items"].as_array().unwrap() {
            ids.push(lead["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/leads?limit=200&cursor={next}"),
            None => return ids,
        }
    }
}

/// Runs the jobs due now, as a worker process would.
async fn run_due_now(server: &TestServer) {
    let worker = Worker::new(server.app.clone(), "test-worker", Duration::from_millis(10));
    worker.run_due(Utc::now(), 1_000).await.unwrap();
}

async fn stored_messages(
    server: &TestServer,
    account: AccountId,
    campaign: CampaignId,
) -> Vec<Message> {
    let mut tx = server.store().begin(account).await.unwrap();
    let mut messages = Vec::new();
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let found = tx.list_messages(Some(campaign), page).await.unwrap();
        messages.extend(found.items);
        match found.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.commit().await.unwrap();
    messages
}

/// Checks that `at` is inside the window in the account's zone.
fn in_window(at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&chrono_tz::Europe::London);
    let minutes = local.hour() * 60 + local.minute();
    (WINDOW_START * 60..WINDOW_END * 60).contains(&minutes)
}
