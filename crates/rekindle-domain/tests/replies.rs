//! Reply classification against the labelled fixture and our own cases.

use chrono::NaiveDate;
use rekindle_domain::replies::{Classification, classify, strip_quoted};
use rekindle_domain::{Channel, ObjectionKind, ReplyLabel};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/labelled_replies.jsonl");

#[derive(Debug, Deserialize)]
struct LabelledReply {
    id: String,
    channel: Channel,
    subject: Option<String>,
    text: String,
    label: ReplyLabel,
    objection: Option<ObjectionKind>,
    return_date: Option<NaiveDate>,
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

fn labelled_replies() -> Vec<LabelledReply> {
    FIXTURE
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("fixture line is valid JSON"))
        .collect()
}

#[test]
fn fixture_has_all_replies() {
    assert_eq!(labelled_replies().len(), 39);
}

#[test]
fn fixture_labels_match_exactly() {
    // The fixture's dates carry their year, so any date before them works.
    let received_on = date(2026, 12, 15);
    let mut failures = Vec::new();

    for reply in labelled_replies() {
        let result = classify(
            reply.channel,
            reply.subject.as_deref(),
            &reply.text,
            received_on,
        );
        let expected = (reply.label, reply.objection, reply.return_date);
        let actual = (result.label, result.objection, result.return_date);
        if expected != actual {
            failures.push(format!(
                "{}: expected {expected:?}, got {actual:?} from cues {:?}",
                reply.id, result.cues
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// One reply of our own with its expected result.
struct Case {
    name: &'static str,
    channel: Channel,
    subject: Option<&'static str>,
    text: &'static str,
    received_on: NaiveDate,
    label: ReplyLabel,
    objection: Option<ObjectionKind>,
    return_date: Option<NaiveDate>,
}

fn case(name: &'static str, channel: Channel, text: &'static str, label: ReplyLabel) -> Case {
    Case {
        name,
        channel,
        subject: None,
        text,
        received_on: date(2027, 1, 6),
        label,
        objection: None,
        return_date: None,
    }
}

impl Case {
    fn subject(self, subject: &'static str) -> Self {
        Self {
            subject: Some(subject),
            ..self
        }
    }

    fn received(self, received_on: NaiveDate) -> Self {
        Self {
            received_on,
            ..self
        }
    }

    fn objection(self, kind: ObjectionKind) -> Self {
        Self {
            objection: Some(kind),
            ..self
        }
    }

    fn returns(self, return_date: NaiveDate) -> Self {
        Self {
            return_date: Some(return_date),
            ..self
        }
    }
}

const POSTFIX_BOUNCE: &str = "This is the mail system at host mail.rekindle.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

                   The mail system

<maya.patel@brightlane.example>: host mx.brightlane.example said: 550 5.1.1
    <maya.patel@brightlane.example>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)";

const EXIM_BOUNCE: &str = "This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  tom.becker@fernweh-reisen.example
    host mx.fernweh-reisen.example
    SMTP error from remote mail server after RCPT TO:<tom.becker@fernweh-reisen.example>:
    550 No such user here

------ This is a copy of the message, including all the headers. ------

Subject: Quick question, Tom

Hi Tom, would a 15 min call next Tuesday work?
If you'd rather not hear from me, reply STOP or unsubscribe here.";

const GMAIL_BOUNCE: &str = "Address not found

Your message wasn't delivered to priya@kestrelhealth.example because the address couldn't be found, or is unable to receive mail.

The response from the remote server was:
550 5.1.1 The email account that you tried to reach does not exist.";

const DELAY_WARNING: &str = "This is the mail system at host mail.rekindle.example.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for 4.0 hours.
It will be retried until it is 5.0 days old.";

fn own_cases() -> Vec<Case> {
    use Channel::{Email, Sms};
    use ObjectionKind::{Competitor, Timing};
    use ReplyLabel::*;

    vec![
        // Opt-outs in other languages.
        case("german austragen", Email, "Bitte austragen.", OptOut),
        case(
            "german verteiler",
            Email,
            "Bitte nehmen Sie mich aus Ihrem Verteiler. Keine weiteren E-Mails.",
            OptOut,
        ),
        case(
            "french désinscrire",
            Email,
            "Merci de me désinscrire de cette liste.",
            OptOut,
        ),
        case(
            "french retirer",
            Email,
            "Pouvez-vous me retirer de votre liste ?",
            OptOut,
        ),
        case(
            "spanish darme de baja",
            Email,
            "Por favor, darme de baja de esta lista.",
            OptOut,
        ),
        case(
            "spanish no me contacten",
            Email,
            "No me contacten más, gracias.",
            OptOut,
        ),
        // Carrier keywords.
        case("sms unsubscribe", Sms, "UNSUBSCRIBE", OptOut),
        case("sms end", Sms, "End", OptOut),
        case("sms quit", Sms, "quit", OptOut),
        case("sms cancel", Sms, "Cancel", OptOut),
        case("sms stopall", Sms, "STOPALL", OptOut),
        case("sms stop with period", Sms, "Stop.", OptOut),
        case("sms stop with words", Sms, "STOP texting me", OptOut),
        case("email cancel is not a keyword", Email, "Cancel", Question),
        // Negations around meeting words.
        case("do not call me", Email, "Don't call me. Ever.", OptOut),
        case(
            "no need to book",
            Email,
            "No need to book anything.",
            NotInterested,
        ),
        case(
            "do not book, remove me",
            Email,
            "Please don't book a meeting, just remove me from your list.",
            OptOut,
        ),
        case(
            "stop emailing about calls",
            Email,
            "Stop emailing me about demos and calls next week.",
            OptOut,
        ),
        case(
            "no call then unsubscribe",
            Email,
            "I don't want a call. Unsubscribe me.",
            OptOut,
        ),
        case("spam complaint", Email, "This is spam. Remove me.", OptOut),
        case(
            "can't wait to chat",
            Email,
            "Can't wait to chat, Thursday at 2pm?",
            MeetingRequest,
        ),
        case(
            "don't hesitate",
            Email,
            "Don't hesitate to call me tomorrow morning.",
            MeetingRequest,
        ),
        // Bounces.
        case("postfix bounce", Email, POSTFIX_BOUNCE, Bounce)
            .subject("Undelivered Mail Returned to Sender"),
        case(
            "postfix bounce without subject",
            Email,
            POSTFIX_BOUNCE,
            Bounce,
        ),
        case("exim bounce with copy", Email, EXIM_BOUNCE, Bounce)
            .subject("Mail delivery failed: returning message to sender"),
        case("gmail bounce", Email, GMAIL_BOUNCE, Bounce)
            .subject("Delivery Status Notification (Failure)"),
        case("delay warning", Email, DELAY_WARNING, AutoReply)
            .subject("Delayed Mail (still being retried)"),
        // Absence notices with return dates in several formats.
        case(
            "german dotted date",
            Email,
            "Ich bin bis zum 14.03.2027 nicht im Büro.",
            OutOfOffice,
        )
        .received(date(2027, 3, 2))
        .returns(date(2027, 3, 14)),
        case(
            "english date without year",
            Email,
            "I am out of the office until January 5th and will respond on my return.",
            OutOfOffice,
        )
        .received(date(2026, 12, 20))
        .returns(date(2027, 1, 5)),
        case(
            "french date",
            Email,
            "Je suis absent jusqu'au 3 avril 2027.",
            OutOfOffice,
        )
        .returns(date(2027, 4, 3)),
        case(
            "spanish date",
            Email,
            "Estoy fuera de la oficina hasta el 15 de mayo.",
            OutOfOffice,
        )
        .received(date(2027, 5, 1))
        .returns(date(2027, 5, 15)),
        case(
            "iso date",
            Email,
            "Out of office: back on 2027-02-08.",
            OutOfOffice,
        )
        .returns(date(2027, 2, 8)),
        case(
            "weekday",
            Email,
            "I'm out of the office until Monday.",
            OutOfOffice,
        )
        .returns(date(2027, 1, 11)),
        case(
            "us slashed date",
            Email,
            "I'm away from my desk and will be back on 01/12/2027.",
            OutOfOffice,
        )
        .received(date(2027, 1, 5))
        .returns(date(2027, 1, 12)),
        case(
            "range",
            Email,
            "I'm on holiday from 3 to 14 March.",
            OutOfOffice,
        )
        .subject("Automatic reply: Quick question")
        .received(date(2027, 2, 20))
        .returns(date(2027, 3, 14)),
        case(
            "holiday with meeting ask",
            Email,
            "I'm on holiday next week, but let's talk when I return.",
            MeetingRequest,
        ),
        // Other automatic replies.
        case(
            "driving mode",
            Sms,
            "I'm driving with Do Not Disturb While Driving turned on. I'll see your message when I get where I'm going.",
            AutoReply,
        ),
        // Quoted text must not count.
        case(
            "quoted meeting ask",
            Email,
            "Not for us, thanks.\n\nOn Mon, 4 Jan 2027, Sam <sam@rekindle.example> wrote:\n> Would you be open to a quick call next Tuesday?\n> To unsubscribe, reply STOP.",
            NotInterested,
        ),
        case(
            "outlook quote",
            Email,
            "Thursday 2pm works for me.\n\n________________________________\nFrom: Sam <sam@rekindle.example>\nSent: Monday, January 4, 2027 9:00 AM\nTo: Maya\nSubject: Quick question\n\nUnsubscribe: https://rekindle.example/u/abc",
            MeetingRequest,
        ),
        case(
            "german outlook quote",
            Email,
            "Kein Interesse.\n\nVon: Sam <sam@rekindle.example>\nGesendet: Montag, 4. Januar 2027 09:00\nAn: Maya\nBetreff: Kurze Frage\n\nHätten Sie Zeit für einen kurzen Call?",
            NotInterested,
        ),
        // Objections, referrals and questions.
        case(
            "timing objection",
            Email,
            "Not the right time, maybe check back in Q3.",
            Objection,
        )
        .objection(Timing),
        case(
            "went with competitor",
            Email,
            "We went with HubSpot instead.",
            Objection,
        )
        .objection(Competitor),
        case(
            "left the company",
            Email,
            "Unfortunately I've left the company. Please contact jane.doe@acme.example.",
            Referral,
        ),
        case(
            "checks with boss",
            Email,
            "Let me check with my boss and get back to you.",
            Objection,
        )
        .objection(ObjectionKind::Authority),
        case(
            "plain question",
            Email,
            "Who else uses this in logistics?",
            Question,
        ),
        case(
            "asks for times",
            Email,
            "Sure, what times work for you?",
            MeetingRequest,
        ),
        case(
            "german call request",
            Email,
            "Gerne, rufen Sie mich morgen an.",
            MeetingRequest,
        ),
        case("sms wrong number", Sms, "Wrong number", OptOut),
        case("sms yes", Sms, "yes", Interested),
    ]
}

fn check(case: &Case) -> Result<Classification, String> {
    let result = classify(case.channel, case.subject, case.text, case.received_on);
    let expected = (case.label, case.objection, case.return_date);
    let actual = (result.label, result.objection, result.return_date);
    if expected == actual {
        Ok(result)
    } else {
        Err(format!(
            "{}: expected {expected:?}, got {actual:?} from cues {:?}",
            case.name, result.cues
        ))
    }
}

#[test]
fn own_cases_match_exactly() {
    let cases = own_cases();
    assert!(cases.len() >= 20);

    let failures: Vec<String> = cases.iter().filter_map(|case| check(case).err()).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn stop_request_never_meeting() {
    let stops = [
        "Please stop emailing me",
        "Don't call me",
        "Do not contact me again",
        "Take me off your list",
        "Unsubscribe",
        "Opt me out",
        "Bitte austragen",
        "Merci de me désinscrire",
        "Por favor, darme de baja",
        "Remove me from this list",
    ];
    let meeting_asks = [
        "let's talk on Tuesday",
        "no need to book anything",
        "call me tomorrow at 3pm",
        "how about a call next week?",
        "put something in my calendar",
        "happy to chat",
    ];

    for stop in stops {
        for ask in meeting_asks {
            for text in [format!("{stop}. {ask}"), format!("{ask}. {stop}")] {
                let result = classify(Channel::Email, None, &text, date(2027, 1, 6));
                assert_eq!(
                    result.label,
                    ReplyLabel::OptOut,
                    "{text:?}: {:?}",
                    result.cues
                );
            }
        }
    }
}

#[test]
fn negated_meeting_never_meeting() {
    let texts = [
        "No need to book a call, we're fine.",
        "Please don't book a meeting.",
        "I don't want a call next week.",
        "There's no need for a demo on Tuesday.",
        "We won't need a call.",
    ];
    for text in texts {
        let result = classify(Channel::Email, None, text, date(2027, 1, 6));
        assert_eq!(
            result.label,
            ReplyLabel::NotInterested,
            "{text:?}: {:?}",
            result.cues
        );
        assert!(
            result.cues.iter().any(|cue| cue.starts_with("negated:")),
            "{text:?}: {:?}",
            result.cues
        );
    }
}

#[test]
fn classification_explains_itself() {
    let result = classify(
        Channel::Email,
        None,
        "Please stop calling me, I don't want a demo.",
        date(2027, 1, 6),
    );
    assert_eq!(result.label, ReplyLabel::OptOut);
    assert_eq!(
        result.cues.first().map(String::as_str),
        Some("opt_out.stop_contact")
    );
    assert!(result.confidence > 0.0, "{}", result.confidence);
    assert!(result.confidence <= 1.0, "{}", result.confidence);
}

#[test]
fn fallback_has_low_confidence() {
    let result = classify(Channel::Email, None, "Hm.", date(2027, 1, 6));
    assert_eq!(result.label, ReplyLabel::Question);
    assert!(result.cues.is_empty());
    assert!(result.confidence < 0.5, "{}", result.confidence);
}

#[test]
fn return_date_only_for_absence() {
    let result = classify(
        Channel::Email,
        None,
        "Let's talk on 12 January 2027.",
        date(2027, 1, 6),
    );
    assert_eq!(result.label, ReplyLabel::MeetingRequest);
    assert_eq!(result.return_date, None);
}

#[test]
fn sms_text_is_not_stripped() {
    // An SMS has no quoting, so a leading ">" is part of the message.
    let result = classify(Channel::Sms, None, "> stop", date(2027, 1, 6));
    assert_eq!(result.label, ReplyLabel::OptOut);
    assert_eq!(strip_quoted("> stop"), "");
}
