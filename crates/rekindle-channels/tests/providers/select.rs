//! Picking a transport from the settings enums.

use rekindle_channels::{
    EmailTransportConfig, OUTBOX_PROVIDER, SecretString, SmsTransportConfig, SmtpConfig,
    SmtpSecurity, TransportConfigError, TwilioConfig, TwilioSender, build_email_transport,
    build_sms_transport,
};

use crate::support::fixtures;

#[tokio::test]
async fn outbox_config_writes_files() {
    let directory = tempfile::tempdir().unwrap();
    let config = EmailTransportConfig::Outbox {
        directory: directory.path().to_owned(),
    };
    assert_eq!(config.provider(), OUTBOX_PROVIDER);

    let transport = build_email_transport(config).unwrap();
    let email = fixtures::email();
    let receipt = transport.send_email(&email).await.unwrap();

    assert_eq!(receipt.provider, OUTBOX_PROVIDER);
    assert!(
        directory
            .path()
            .join(format!("{}.eml", email.message_id))
            .is_file()
    );

    let sms_directory = tempfile::tempdir().unwrap();
    let sms_transport = build_sms_transport(SmsTransportConfig::Outbox {
        directory: sms_directory.path().to_owned(),
    })
    .unwrap();
    let sms = fixtures::sms();
    sms_transport.send_sms(&sms).await.unwrap();
    assert!(
        sms_directory
            .path()
            .join(format!("{}.sms.json", sms.message_id))
            .is_file()
    );
}

#[test]
fn plaintext_smtp_to_remote_host_rejected() {
    let config = EmailTransportConfig::Smtp(SmtpConfig::new(
        "smtp.example.com",
        25,
        SmtpSecurity::Plaintext,
    ));
    let error = build_email_transport(config).err().unwrap();

    assert_eq!(
        error,
        TransportConfigError::PlaintextToRemoteHost {
            host: "smtp.example.com".into()
        }
    );
    assert!(
        error.to_string().contains("use STARTTLS or implicit TLS"),
        "{error}"
    );
}

#[test]
fn bad_twilio_sid_rejected() {
    let config = TwilioConfig::new(
        "not-a-sid",
        SecretString::from("token"),
        TwilioSender::MessageFrom,
    );
    let error = build_sms_transport(SmsTransportConfig::TwilioWhatsapp(config))
        .err()
        .unwrap();
    assert!(error.to_string().contains("account_sid"), "{error}");
}
