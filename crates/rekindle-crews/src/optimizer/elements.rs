//! The personalisation elements of a written message and its local send
//! time: the row keys of the positive-reply report.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::lead_text::SafeLead;
use crate::researcher::Hook;
use crate::writer::{Draft, WriterRequest};

/// The lead's first name appears in the message.
pub const FACT_FIRST_NAME: &str = "fact:first_name";
/// The lead's company appears in the message.
pub const FACT_COMPANY: &str = "fact:company";
/// The lead's job title appears in the message.
pub const FACT_JOB_TITLE: &str = "fact:job_title";
/// The month of the last contact ("back in March") appears in the message.
pub const FACT_LAST_CONTACT_MONTH: &str = "fact:last_contact_month";

/// Lists the personalisation elements of one message, as report keys.
///
/// `hook:<kind>` is the researcher's hook that the writer was given to open
/// with, with `signal:<kind>` for a trigger event and `cue:<cue>` for a cue
/// from the notes. The `fact:` keys are the lead's facts found in the
/// subject or body, compared without case, so they hold for any writer.
pub fn personalisation_elements(request: &WriterRequest, draft: &Draft) -> Vec<String> {
    let mut elements = hook_elements(&request.research.hook);

    let text = format!("{}\n{}", draft.subject.as_deref().unwrap_or(""), draft.body).to_lowercase();
    let safe = SafeLead::from_fields(&request.lead);
    let facts = [
        (FACT_FIRST_NAME, safe.first_name),
        (FACT_COMPANY, safe.company),
        (FACT_JOB_TITLE, safe.job_title),
        (FACT_LAST_CONTACT_MONTH, last_contact_month(request)),
    ];
    for (key, value) in facts {
        if value.is_some_and(|value| contains_words(&text, &value.to_lowercase())) {
            elements.push(key.to_owned());
        }
    }
    elements
}

fn hook_elements(hook: &Hook) -> Vec<String> {
    match hook {
        Hook::Trigger { signal_kind, .. } => {
            vec!["hook:trigger".into(), format!("signal:{signal_kind}")]
        }
        Hook::NoteCue { cue, .. } => {
            let cue = serde_json::to_value(cue)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            vec!["hook:note_cue".into(), format!("cue:{cue}")]
        }
        Hook::Timing => vec!["hook:timing".into()],
        Hook::LostDeal => vec!["hook:lost_deal".into()],
        Hook::StalledOpportunity => vec!["hook:stalled_opportunity".into()],
        Hook::Role { .. } => vec!["hook:role".into()],
        Hook::General => vec!["hook:general".into()],
    }
}

/// Returns the month name of the last contact, when it lies before `now`.
fn last_contact_month(request: &WriterRequest) -> Option<String> {
    let last = request
        .lead
        .last_contacted_at
        .filter(|at| *at <= request.now)?;
    Some(crate::text::month_name(last.month()).to_owned())
}

/// Checks that `needle` occurs in `text` between word boundaries, so that
/// the name "Ann" is not found in "annual".
fn contains_words(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    text.match_indices(needle).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Hour of day and weekday of a send in the lead's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocalSendTime {
    /// 0 to 23, on the lead's local clock.
    pub hour: u8,
    pub weekday: Weekday,
}

impl LocalSendTime {
    /// Converts a send instant to the lead's local hour and weekday.
    pub fn at(sent_at: DateTime<Utc>, zone: Tz) -> Self {
        let local = sent_at.with_timezone(&zone);
        Self {
            // `hour()` is below 24, so the conversion cannot fail.
            hour: u8::try_from(local.hour()).unwrap_or(0),
            weekday: local.weekday(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rekindle_domain::lead::LeadFields;
    use rekindle_domain::{Channel, LeadId, Tone};

    use super::*;
    use crate::cues::NoteCue;
    use crate::researcher::Research;
    use crate::sender::SenderIdentity;

    fn request(hook: Hook) -> WriterRequest {
        WriterRequest {
            lead_id: LeadId::new(),
            lead: LeadFields {
                first_name: Some("Ann".into()),
                company: Some("Acme Ltd".into()),
                job_title: Some("Head of Sales".into()),
                last_contacted_at: Some(Utc.with_ymd_and_hms(2025, 3, 12, 10, 0, 0).unwrap()),
                ..LeadFields::default()
            },
            research: Research {
                signals: Vec::new(),
                hook,
                opt_out_noted: false,
            },
            channel: Channel::Email,
            tone: Tone::Friendly,
            step_index: 0,
            sender: SenderIdentity {
                name: "Sam".into(),
                company: "Brightpath".into(),
                postal_address: "1 High Street, Leeds".into(),
            },
            now: Utc.with_ymd_and_hms(2025, 9, 1, 10, 0, 0).unwrap(),
            engagement: None,
        }
    }

    fn draft(subject: &str, body: &str) -> Draft {
        Draft {
            channel: Channel::Email,
            subject: Some(subject.into()),
            body: body.into(),
        }
    }

    #[test]
    fn elements_found_in_text() {
        let request = request(Hook::Trigger {
            signal_kind: "funding".into(),
            summary: "Raised a Series B".into(),
        });
        let draft = draft(
            "Saw the recent news about Acme Ltd",
            "Hi Ann, it has been a while since we spoke back in March.",
        );

        let elements = personalisation_elements(&request, &draft);
        assert_eq!(
            elements,
            [
                "hook:trigger",
                "signal:funding",
                FACT_FIRST_NAME,
                FACT_COMPANY,
                FACT_LAST_CONTACT_MONTH,
            ]
        );
    }

    #[test]
    fn facts_absent_from_text_not_listed() {
        let request = request(Hook::NoteCue {
            cue: NoteCue::AskedForPricing,
            period: None,
        });
        // "annual" contains "ann" but not the name.
        let draft = draft(
            "Updated pricing options since we last spoke",
            "Hello, our annual plans have changed.",
        );

        let elements = personalisation_elements(&request, &draft);
        assert_eq!(elements, ["hook:note_cue", "cue:asked_for_pricing"]);
    }

    #[test]
    fn job_title_found_without_case() {
        let request = request(Hook::General);
        let draft = draft("A subject", "As head of sales, you know the drill.");

        let elements = personalisation_elements(&request, &draft);
        assert_eq!(elements, ["hook:general", FACT_JOB_TITLE]);
    }

    #[test]
    fn local_send_time_uses_lead_zone() {
        // 2025-03-31 is a Monday. 06:30 UTC is 08:30 in Berlin (CEST) and
        // still Sunday 23:30 in Los Angeles (PDT).
        let sent_at = Utc.with_ymd_and_hms(2025, 3, 31, 6, 30, 0).unwrap();

        let berlin = LocalSendTime::at(sent_at, chrono_tz::Europe::Berlin);
        assert_eq!(berlin.hour, 8);
        assert_eq!(berlin.weekday, Weekday::Mon);

        let los_angeles = LocalSendTime::at(sent_at, chrono_tz::America::Los_Angeles);
        assert_eq!(los_angeles.hour, 23);
        assert_eq!(los_angeles.weekday, Weekday::Sun);
    }
}
