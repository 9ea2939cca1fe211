//! The SMS outbox, checked by reading the written JSON files back.

use std::fs;
use std::path::Path;

use rekindle_channels::{
    MAX_SMS_CHARS, OUTBOX_PROVIDER, OutboundSms, OutboxSmsTransport, SmsRecord, SmsTransport,
};
use rekindle_domain::{AccountId, ErrorClass, LeadId, MessageId, Phone};

fn sms() -> OutboundSms {
    OutboundSms {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id: MessageId::new(),
        from: Phone::parse("+44 20 7946 0958", None).unwrap(),
        to: Phone::parse("+34 912 345 678", None).unwrap(),
        body: "Hola Lucía, ¿hablamos la semana que viene? Responde STOP para no recibir más."
            .into(),
    }
}

fn file_names(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_record(path: &Path) -> SmsRecord {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn record_reads_back() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxSmsTransport::new(directory.path());
    let sms = sms();

    let receipt = transport.send_sms(&sms).await.unwrap();
    let record = read_record(&transport.path_for(sms.message_id));

    assert_eq!(record.message_id, sms.message_id);
    assert_eq!(record.account_id, sms.account_id);
    assert_eq!(record.lead_id, sms.lead_id);
    assert_eq!(record.from.as_str(), "+442079460958");
    assert_eq!(record.to.as_str(), "+34912345678");
    assert_eq!(record.body, sms.body);
    assert_eq!(record.accepted_at, receipt.accepted_at);

    assert_eq!(receipt.provider, OUTBOX_PROVIDER);
    assert_eq!(receipt.provider_message_id, sms.message_id.to_string());
    assert_eq!(
        file_names(directory.path()),
        vec![format!("{}.sms.json", sms.message_id)]
    );
}

#[tokio::test]
async fn resend_overwrites_same_file() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxSmsTransport::new(directory.path());
    let mut sms = sms();

    transport.send_sms(&sms).await.unwrap();
    sms.body = "Second attempt".into();
    transport.send_sms(&sms).await.unwrap();

    assert_eq!(
        file_names(directory.path()),
        vec![format!("{}.sms.json", sms.message_id)]
    );
    let record = read_record(&transport.path_for(sms.message_id));
    assert_eq!(record.body, "Second attempt");
}

#[tokio::test]
async fn invalid_sms_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxSmsTransport::new(directory.path());

    let mut too_long = sms();
    too_long.body = "é".repeat(MAX_SMS_CHARS + 1);

    let mut empty = sms();
    empty.body = " \n ".into();

    let mut control = sms();
    control.body = "Hi\u{0}there".into();

    for (case, sms) in [
        ("too long", too_long),
        ("empty", empty),
        ("control", control),
    ] {
        let error = transport.send_sms(&sms).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::InvalidInput, "{case}: {error}");
    }
    assert!(file_names(directory.path()).is_empty());
}

#[tokio::test]
async fn longest_body_is_accepted() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxSmsTransport::new(directory.path());
    let mut sms = sms();
    sms.body = "é".repeat(MAX_SMS_CHARS);

    transport.send_sms(&sms).await.unwrap();
    let record = read_record(&transport.path_for(sms.message_id));
    assert_eq!(record.body.chars().count(), MAX_SMS_CHARS);
}

#[test]
fn debug_hides_content() {
    let sms = sms();
    let text = format!("{sms:?}");
    assert!(text.contains(&sms.message_id.to_string()), "{text}");
    assert!(!text.contains("Lucía"), "{text}");
    assert!(!text.contains("+34"), "{text}");
}
