//! The periodic jobs through the API: the dormant-lead scan on leads with
//! chosen last-contact dates, and the ideal customer profile derived from 25
//! won deals re-ranking the other leads. Outcomes are checked in the
//! database. Runs on SQLite and on PostgreSQL.

mod common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use common::{Session, TestServer};
use rekindle_domain::{CampaignId, LeadId};
use rekindle_services::scheduler::enqueue_periodic;
use rekindle_store::PageRequest;
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    dormant_scan_takes_30_to_365_days => dormant_scan_takes_30_to_365_days,
    icp_from_won_deals_reranks_leads => icp_from_won_deals_reranks_leads,
);

/// Runs one round of the periodic jobs, as the scheduler of `serve` does.
async fn run_periodic(server: &TestServer) {
    enqueue_periodic(&server.app).await.unwrap();
    server.run_jobs().await;
}

/// Creates a lead last contacted `days` ago.
async fn idle_lead(server: &TestServer, session: &Session, name: &str, days: i64) -> LeadId {
    let contacted = Utc::now() - Duration::days(days);
    let lead = server
        .post_expect(
            session,
            "/api/v1/leads",
            json!({
                "email": format!("{name}@idle.example.com"),
                "first_name": name,
                "company": "Idle Ltd",
                "job_title": "Head of Sales",
                "last_contacted_at": contacted,
            }),
            201,
        )
        .await;
    LeadId(lead["id"].as_str().unwrap().parse().unwrap())
}

async fn enrolled_leads(
    server: &TestServer,
    session: &Session,
    campaign: CampaignId,
) -> BTreeSet<LeadId> {
    let mut tx = server.store().begin(session.account()).await.unwrap();
    let enrollments = tx
        .list_enrollments(campaign, PageRequest::first(200))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    enrollments
        .items
        .iter()
        .map(|enrollment| enrollment.lead_id)
        .collect()
}

async fn dormant_scan_takes_30_to_365_days(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Dormant Ltd").await;
    let campaign = server
        .post_expect(
            &owner,
            "/api/v1/campaigns",
            json!({
                "name": "Dormant intake",
                "steps": [{ "channel": "email", "delay_days": 0 }],
                "takes_dormant_leads": true,
            }),
            201,
        )
        .await;
    assert_eq!(campaign["takes_dormant_leads"], true);
    let id = campaign["id"].as_str().unwrap().to_owned();
    let campaign_id = CampaignId(id.parse().unwrap());

    let day_29 = idle_lead(&server, &owner, "day29", 29).await;
    let day_30 = idle_lead(&server, &owner, "day30", 30).await;
    let day_365 = idle_lead(&server, &owner, "day365", 365).await;
    let day_366 = idle_lead(&server, &owner, "day366", 366).await;

    // A draft campaign takes no lead.
    run_periodic(&server).await;
    assert!(
        enrolled_leads(&server, &owner, campaign_id)
            .await
            .is_empty()
    );

    server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{id}/launch"),
            json!({}),
            202,
        )
        .await;
    run_periodic(&server).await;
    let enrolled = enrolled_leads(&server, &owner, campaign_id).await;
    assert_eq!(enrolled, BTreeSet::from([day_30, day_365]));
    assert!(!enrolled.contains(&day_29));
    assert!(!enrolled.contains(&day_366));

    // The crew wrote their messages.
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign_id), PageRequest::first(50))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let written: BTreeSet<LeadId> = messages
        .items
        .iter()
        .map(|message| message.lead_id)
        .collect();
    assert_eq!(written, enrolled);

    // A second scan enrolls no lead twice.
    run_periodic(&server).await;
    assert_eq!(enrolled_leads(&server, &owner, campaign_id).await, enrolled);

    // Turned off on the active campaign, the scan leaves new idle leads alone.
    let response = server
        .patch(
            &owner,
            &format!("/api/v1/campaigns/{id}"),
            json!({ "takes_dormant_leads": false }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let day_100 = idle_lead(&server, &owner, "day100", 100).await;
    run_periodic(&server).await;
    assert!(
        !enrolled_leads(&server, &owner, campaign_id)
            .await
            .contains(&day_100)
    );

    let response = server
        .patch(
            &owner,
            &format!("/api/v1/campaigns/{id}"),
            json!({ "takes_dormant_leads": true }),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["takes_dormant_leads"], true, "{body}");
    run_periodic(&server).await;
    assert!(
        enrolled_leads(&server, &owner, campaign_id)
            .await
            .contains(&day_100)
    );
}

/// Creates a lead with the ICP's four fields.
async fn profile_lead(
    server: &TestServer,
    session: &Session,
    email: &str,
    industry: &str,
    country: &str,
    employees: &str,
) -> String {
    let lead = server
        .post_expect(
            session,
            "/api/v1/leads",
            json!({
                "email": email,
                "first_name": "Robin",
                "company": "Example Ltd",
                "job_title": "Head of Sales",
                "industry": industry,
                "country": country,
                "notes": "Asked for pricing last spring.",
                "custom_fields": { "Employees": employees },
            }),
            201,
        )
        .await;
    lead["id"].as_str().unwrap().to_owned()
}

async fn mark_won(server: &TestServer, session: &Session, lead: &str) {
    let response = server
        .put(
            session,
            &format!("/api/v1/leads/{lead}/status"),
            json!({ "status": "won" }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn ranked_ids(server: &TestServer, session: &Session) -> Vec<String> {
    let page = server
        .get_json(session, "/api/v1/leads?status=dormant&sort=score")
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lead| lead["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn icp_from_won_deals_reranks_leads(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Profile Ltd").await;
    let mut won = Vec::new();
    for index in 0..25 {
        let email = format!("won{index}@customer.example.com");
        won.push(profile_lead(&server, &owner, &email, "Software", "United Kingdom", "120").await);
    }
    // A matches the won deals; B differs on industry, region and size.
    let a = profile_lead(
        &server,
        &owner,
        "a@prospect.example.com",
        "Software",
        "UK",
        "80",
    )
    .await;
    let b = profile_lead(
        &server,
        &owner,
        "b@prospect.example.com",
        "Retail",
        "Germany",
        "5000",
    )
    .await;
    let a_before = server.get_json(&owner, &format!("/api/v1/leads/{a}")).await;
    let b_before = server.get_json(&owner, &format!("/api/v1/leads/{b}")).await;
    assert_eq!(
        a_before["score"], b_before["score"],
        "the scorer sees the same facts"
    );
    assert_eq!(
        ranked_ids(&server, &owner).await[..2],
        [b.clone(), a.clone()],
        "equal scores: newest first"
    );

    // 24 won deals are not enough.
    for lead in &won[..24] {
        mark_won(&server, &owner, lead).await;
    }
    run_periodic(&server).await;
    let response = server.get(&owner, "/api/v1/icp").await;
    assert_eq!(response.status(), 404);

    mark_won(&server, &owner, &won[24]).await;
    run_periodic(&server).await;
    let icp = server.get_json(&owner, "/api/v1/icp").await;
    assert_eq!(icp["won_deals"], 25);
    assert_eq!(icp["industries"][0]["value"], "software");
    assert_eq!(icp["regions"][0]["value"], "united kingdom");
    assert_eq!(icp["company_sizes"][0]["value"], "51-200");
    assert_eq!(icp["title_levels"][0]["value"], "head");

    let a_after = server.get_json(&owner, &format!("/api/v1/leads/{a}")).await;
    let b_after = server.get_json(&owner, &format!("/api/v1/leads/{b}")).await;
    assert_eq!(a_after["icp_adjustment"], 20, "{a_after}");
    let reason = a_after["icp_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("matches the ideal customer profile of 25 won deals"),
        "{reason}"
    );
    // B matches on title level only: +5, and differs on three: -9.
    assert_eq!(b_after["icp_adjustment"], -4, "{b_after}");
    assert!(
        b_after["icp_reason"]
            .as_str()
            .unwrap()
            .contains("differs on")
    );
    assert_eq!(
        a_after["score"], a_before["score"],
        "the score itself stays the scorer's"
    );
    assert_eq!(
        ranked_ids(&server, &owner).await[..2],
        [a.clone(), b.clone()]
    );

    // In the database: the profile, and the adjustments on the leads.
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let profile = tx.get_icp_profile().await.unwrap().expect("profile stored");
    let lead_a = tx
        .get_lead(LeadId(a.parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let won_lead = tx
        .get_lead(LeadId(won[0].parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(profile.won_deals, 25);
    assert_eq!(lead_a.icp_adjustment, 20);
    assert!(lead_a.icp_reason.is_some());
    assert_eq!(
        won_lead.icp_reason, None,
        "won deals are not ranked against themselves"
    );
}
