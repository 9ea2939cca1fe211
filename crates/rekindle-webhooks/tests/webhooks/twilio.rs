//! Twilio form parsing and the failure paths of the signature checks.

use rekindle_domain::Channel;
use rekindle_webhooks::twilio::{
    TwilioChannel, TwilioMessageStatus, parse_form, parse_inbound_message, parse_status_callback,
    rank, verify_json_request, verify_request,
};
use rekindle_webhooks::{ParseError, VerifyError};

const STATUS_CALLBACK: &str = "SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&SmsStatus=undelivered\
&MessageStatus=undelivered&To=%2B15558675310&MessagingServiceSid=MG5b6a5f1c0b2b4e3d9e3f8a7b6c5d4e3f\
&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&AccountSid=AC6f0e7b2a9c3d4e5f8a1b2c3d4e5f6a7b\
&From=%2B15017122661&ErrorCode=30003&ApiVersion=2010-04-01";

const INBOUND_SMS: &str = "ToCountry=US&ToState=CA&SmsMessageSid=SM2b9cfb4c7a0d6e1f3a5b7c9d0e2f4a6b\
&NumMedia=0&ToCity=&FromZip=94105&SmsSid=SM2b9cfb4c7a0d6e1f3a5b7c9d0e2f4a6b&FromState=CA\
&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Sounds+good%2C+can+we+talk+Tuesday+at+3%3F\
&FromCountry=US&To=%2B15017122661&ToZip=&NumSegments=1&MessageSid=SM2b9cfb4c7a0d6e1f3a5b7c9d0e2f4a6b\
&AccountSid=AC6f0e7b2a9c3d4e5f8a1b2c3d4e5f6a7b&From=%2B14155550123&ApiVersion=2010-04-01";

const INBOUND_WHATSAPP: &str = "SmsMessageSid=SM3c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f&NumMedia=0\
&ProfileName=Ana&MessageType=text&SmsSid=SM3c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f&WaId=14155550123\
&SmsStatus=received&Body=Please+stop+messaging+me&To=whatsapp%3A%2B14155238886&NumSegments=1\
&ReferralNumMedia=0&MessageSid=SM3c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f\
&AccountSid=AC6f0e7b2a9c3d4e5f8a1b2c3d4e5f6a7b&From=whatsapp%3A%2B14155550123&ApiVersion=2010-04-01";

#[test]
fn status_callback_with_error_code() {
    let params = parse_form(STATUS_CALLBACK.as_bytes());

    let callback = parse_status_callback(&params).expect("valid callback");

    assert_eq!(callback.message_sid, "SM1f0e8ae6ade43cb3c0ce4525424e404f");
    assert_eq!(callback.account_sid, "AC6f0e7b2a9c3d4e5f8a1b2c3d4e5f6a7b");
    assert_eq!(callback.message_status, TwilioMessageStatus::Undelivered);
    assert_eq!(callback.error_code, Some(30003));
    assert_eq!(callback.to, "+15558675310");
    assert_eq!(callback.from, "+15017122661");
    assert_eq!(callback.channel, TwilioChannel::Sms);
}

#[test]
fn status_callback_falls_back_to_sms_status() {
    let body = STATUS_CALLBACK.replace("&MessageStatus=undelivered", "");
    let params = parse_form(body.as_bytes());

    let callback = parse_status_callback(&params).expect("valid callback");

    assert_eq!(callback.message_status, TwilioMessageStatus::Undelivered);
}

#[test]
fn status_callback_missing_sid() {
    let body = STATUS_CALLBACK.replace("&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f", "");
    let params = parse_form(body.as_bytes());

    let error = parse_status_callback(&params).expect_err("missing MessageSid");

    assert_eq!(
        error,
        ParseError::MissingField {
            field: "MessageSid"
        }
    );
}

#[test]
fn status_callback_invalid_error_code() {
    let body = STATUS_CALLBACK.replace("ErrorCode=30003", "ErrorCode=thirty");
    let params = parse_form(body.as_bytes());

    let error = parse_status_callback(&params).expect_err("invalid ErrorCode");

    assert_eq!(error.code(), "invalid_field");
    assert!(error.to_string().contains("ErrorCode"), "{error}");
}

#[test]
fn status_callback_duplicate_status() {
    let body = format!("{STATUS_CALLBACK}&MessageStatus=delivered");
    let params = parse_form(body.as_bytes());

    let error = parse_status_callback(&params).expect_err("duplicate MessageStatus");

    assert_eq!(
        error,
        ParseError::DuplicateField {
            field: "MessageStatus".to_owned()
        }
    );
}

#[test]
fn status_callback_ranks_order_updates() {
    let sent = parse_status_callback(&parse_form(
        STATUS_CALLBACK.replace("=undelivered", "=sent").as_bytes(),
    ))
    .expect("valid callback");
    let delivered = parse_status_callback(&parse_form(
        STATUS_CALLBACK
            .replace("=undelivered", "=delivered")
            .as_bytes(),
    ))
    .expect("valid callback");

    assert!(rank(&sent.message_status) < rank(&delivered.message_status));
    assert!(rank(&TwilioMessageStatus::Queued) < rank(&TwilioMessageStatus::Sending));
    assert!(rank(&TwilioMessageStatus::Delivered) < rank(&TwilioMessageStatus::Read));
}

#[test]
fn inbound_sms() {
    let params = parse_form(INBOUND_SMS.as_bytes());

    let message = parse_inbound_message(&params).expect("valid message");

    assert_eq!(message.message_sid, "SM2b9cfb4c7a0d6e1f3a5b7c9d0e2f4a6b");
    assert_eq!(message.account_sid, "AC6f0e7b2a9c3d4e5f8a1b2c3d4e5f6a7b");
    assert_eq!(message.from, "+14155550123");
    assert_eq!(message.to, "+15017122661");
    assert_eq!(message.body, "Sounds good, can we talk Tuesday at 3?");
    assert_eq!(message.num_segments, Some(1));
    assert_eq!(message.channel, TwilioChannel::Sms);
    assert_eq!(Channel::from(message.channel), Channel::Sms);
}

#[test]
fn inbound_whatsapp() {
    let params = parse_form(INBOUND_WHATSAPP.as_bytes());

    let message = parse_inbound_message(&params).expect("valid message");

    assert_eq!(message.channel, TwilioChannel::WhatsApp);
    assert_eq!(Channel::from(message.channel), Channel::Whatsapp);
    assert_eq!(message.from, "+14155550123");
    assert_eq!(message.to, "+14155238886");
    assert_eq!(message.body, "Please stop messaging me");
}

#[test]
fn inbound_without_body_fails() {
    let body = INBOUND_SMS.replace("&Body=Sounds+good%2C+can+we+talk+Tuesday+at+3%3F", "");
    let params = parse_form(body.as_bytes());

    let error = parse_inbound_message(&params).expect_err("missing Body");

    assert_eq!(error, ParseError::MissingField { field: "Body" });
}

#[test]
fn form_keeps_repeated_names_in_order() {
    let params = parse_form(b"Digits=5678&Sid=CA123&Digits=1234&Empty=&Plus=a+b");

    assert_eq!(
        params,
        vec![
            ("Digits".to_owned(), "5678".to_owned()),
            ("Sid".to_owned(), "CA123".to_owned()),
            ("Digits".to_owned(), "1234".to_owned()),
            ("Empty".to_owned(), String::new()),
            ("Plus".to_owned(), "a b".to_owned()),
        ]
    );
}

#[test]
fn empty_auth_token_is_rejected() {
    let params = parse_form(INBOUND_SMS.as_bytes());

    let error = verify_request(
        "",
        "https://example.com/sms",
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )
    .expect_err("no token");

    assert_eq!(error.code(), "not_configured");
}

#[test]
fn missing_signature_header() {
    let params = parse_form(INBOUND_SMS.as_bytes());

    let error =
        verify_request("12345", "https://example.com/sms", &params, "").expect_err("missing");

    assert_eq!(
        error,
        VerifyError::Missing {
            item: "X-Twilio-Signature header"
        }
    );
}

#[test]
fn json_request_without_body_hash() {
    let error = verify_json_request(
        "12345",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        b"{}",
        "a9nBmqA0ju/hNViExpshrM61xv4=",
    )
    .expect_err("no bodySHA256");

    assert_eq!(error.code(), "missing_header");
    assert!(error.to_string().contains("bodySHA256"), "{error}");
}

#[test]
fn json_request_with_empty_token() {
    let error = verify_json_request(
        "",
        "https://mycompany.com/myapp.php?bodySHA256=00",
        b"{}",
        "a9nBmqA0ju/hNViExpshrM61xv4=",
    )
    .expect_err("no token");

    assert_eq!(error.code(), "not_configured");
}
