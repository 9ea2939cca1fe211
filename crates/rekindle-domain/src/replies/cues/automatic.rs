//! Cues for machine-written replies: bounces, absence notices and other
//! automatic responses.

use super::{CueGroup, CueSpec};
use crate::ReplyLabel;

/// Delivery failures. Phrases that a delay warning shares with a failure
/// ("this is the mail system at host", "could not be delivered") are weak, so
/// that a warning's strong auto-reply cue ("warning only") outranks them.
pub const BOUNCE: CueGroup = CueGroup {
    label: ReplyLabel::Bounce,
    cues: &[
        CueSpec::strong(
            "bounce.subject",
            r"\b(?:undeliver(?:ed|able)|returned mail|returned to sender|delivery status notification \(failure\)|mail delivery (?:failed|failure)|delivery (?:failure|has failed|failed)|failure notice|non-?delivery|message not delivered|unzustellbar|non remis|no se puede entregar|no entregado)\b",
        )
        .in_subject(),
        CueSpec::strong(
            "bounce.unknown_recipient",
            r"\b(?:user|mailbox|recipient|address|account) (?:unknown|not found|unavailable|does not exist|doesn't exist|is inactive|is disabled|disabled)\b|\bno such (?:user|mailbox|recipient|address|account)\b",
        ),
        CueSpec::strong("bounce.address_not_found", r"\baddress (?:not found|couldn't be found|could not be found)\b"),
        CueSpec::strong("bounce.recipient_rejected", r"\brecipient address rejected\b"),
        CueSpec::strong(
            "bounce.permanent_error",
            r"\bpermanent (?:error|failure|fatal error)s?\b|\bfailed permanently\b|\bthe following address(?:\(es\)|es)? failed\b",
        ),
        CueSpec::strong(
            "bounce.delivery_failed_to",
            r"\bdelivery has failed to (?:these|the following) recipients\b|\bdelivery to the following recipients? failed\b",
        ),
        // An SMTP reply code 550 to 554 followed by an RFC 3463 enhanced status
        // code for a permanent failure (5.x.x).
        CueSpec::strong("bounce.smtp_status", r"\b55[0-4][ -]5\.\d{1,3}\.\d{1,3}\b"),
        CueSpec::strong("bounce.mailbox_full", r"\bmailbox (?:is )?full\b|\bover quota\b|\bquota exceeded\b"),
        CueSpec::strong(
            "bounce.foreign_failure",
            r"\bkonnte nicht zugestellt werden\b|\bn'a pas pu etre (?:remis|distribue)\b|\bno (?:se )?(?:pudo|ha podido) (?:ser )?entregar\b",
        ),
        CueSpec::weak("bounce.mail_system", r"\bthis is the mail system at host\b|\bmail delivery (?:subsystem|software|system)\b|\bmailer-daemon\b"),
        CueSpec::weak(
            "bounce.not_delivered",
            r"\b(?:could not|couldn't|cannot|can't|was not|wasn't|has not been) (?:be )?delivered\b",
        ),
    ],
};

/// Absence notices. Phrases that a person might also write in a normal reply
/// ("I'm on holiday next week") are weak; an automatic-reply subject makes
/// them strong (see the decision rules).
pub const OUT_OF_OFFICE: CueGroup = CueGroup {
    label: ReplyLabel::OutOfOffice,
    cues: &[
        CueSpec::strong(
            "out_of_office.subject",
            r"^(?:out of (?:the )?office|ooo|abwesenheitsnotiz|abwesend|abwesenheit|absent|absence|away|on vacation|on holiday|vacation|holiday|on leave|conge|ausente|fuera de la oficina|nicht im buro)\b",
        )
        .in_subject(),
        CueSpec::strong("out_of_office.out_of_office", r"\bout of (?:the )?office\b"),
        CueSpec::strong(
            "out_of_office.away_until",
            r"\b(?:i am|i'm|i will be|i'll be) (?:currently )?(?:away|out|off|travel(?:l)?ing|on leave|on (?:vacation|holiday|holidays)) (?:until|till|through|thru|from|between)\b",
        ),
        CueSpec::strong(
            "out_of_office.away_from_desk",
            r"\baway from (?:the|my) (?:office|desk|e-?mail|computer)\b",
        ),
        CueSpec::strong(
            "out_of_office.leave",
            r"\b(?:parental|maternity|paternity|sick|annual|medical|bereavement|study) leave\b|\bsabbatical\b",
        ),
        CueSpec::strong(
            "out_of_office.limited_access",
            r"\b(?:limited|no|intermittent|restricted|sporadic) (?:access to (?:my )?e-?mail|e-?mail access|connectivity|internet access|access to my inbox)\b",
        ),
        CueSpec::strong(
            "out_of_office.will_return",
            r"\b(?:will|i'll|shall) (?:be )?(?:return|returning|back)(?: to the office| in the office)? (?:on|from|in|after|at)\b|\bupon my return\b|\b(?:in|during) my absence\b",
        ),
        CueSpec::strong(
            "out_of_office.german",
            r"\b(?:nicht im (?:buro|haus)|ausser haus|abwesend|im urlaub|urlaubsbedingt|in elternzeit|krankheitsbedingt)\b|\bwieder (?:im buro|erreichbar|da)\b",
        ),
        CueSpec::strong(
            "out_of_office.french",
            r"\b(?:je suis|actuellement) (?:absente?|en conge|en vacances|hors du bureau|en deplacement)\b|\bde retour (?:le|au bureau)\b",
        ),
        CueSpec::strong(
            "out_of_office.spanish",
            r"\b(?:fuera de la oficina|de vacaciones|de baja (?:medica|por maternidad|por paternidad))\b|\b(?:estoy|estare) ausente\b|\bestare de (?:vuelta|regreso)\b|\bregreso el\b",
        ),
        CueSpec::weak(
            "out_of_office.on_holiday",
            r"\b(?:on|currently on) (?:vacation|holiday|holidays|leave|pto|a business trip)\b",
        ),
        CueSpec::weak("out_of_office.travelling", r"\btravel(?:l)?ing\b"),
        CueSpec::weak(
            "out_of_office.when_back",
            r"\bwhen i(?:'m| am) back\b|\bon my return\b|\b(?:available|reachable) again\b|\bback (?:in the office )?on (?:mon|tue|wed|thu|fri|sat|sun|the \d|\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
        ),
        CueSpec::weak("out_of_office.ooo", r"\booo\b"),
        CueSpec::weak(
            "out_of_office.urgent_matters",
            r"\bfor (?:urgent|immediate|pressing) (?:matters|requests|enquiries|inquiries|issues|questions)\b",
        ),
    ],
};

/// Other automatic responses: ticket systems, unmonitored mailboxes, driving
/// modes on phones, and delivery delay warnings (a delay is not a failure, so
/// the sequence goes on).
pub const AUTO_REPLY: CueGroup = CueGroup {
    label: ReplyLabel::AutoReply,
    cues: &[
        CueSpec::strong(
            "auto_reply.subject",
            r"^(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|auto:|autoreply|autoresponder|\[auto\]|automatische antwort|reponse automatique|respuesta automatica|risposta automatica)",
        )
        .in_subject(),
        CueSpec::strong(
            "auto_reply.delay_subject",
            r"\bdelivery status notification \(delay\)|\bdelayed mail\b|\bdelivery delayed\b",
        )
        .in_subject(),
        CueSpec::strong(
            "auto_reply.unmonitored",
            r"\b(?:mailbox|inbox|e-?mail address|address|account) is (?:no longer|not) (?:being )?(?:monitored|in use|active|checked|read)\b",
        ),
        CueSpec::strong(
            "auto_reply.received",
            r"\b(?:your|this) (?:message|e-?mail|request|enquiry|inquiry|ticket) has been (?:received|logged|forwarded|created)\b|\bwe(?: have|'ve)? received your (?:message|e-?mail|request|enquiry|inquiry)\b",
        ),
        CueSpec::strong("auto_reply.will_be_reviewed", r"\bwill be reviewed by\b"),
        CueSpec::strong("auto_reply.ticket", r"\b(?:ticket|case|request) (?:number|#|no\.|id)\b"),
        CueSpec::strong(
            "auto_reply.automated",
            r"\b(?:automated|automatic|auto-generated|automatically generated|computer generated) (?:response|reply|message|e-?mail|notification)\b|\bdo not reply to this (?:e-?mail|message)\b",
        ),
        CueSpec::strong(
            "auto_reply.will_respond",
            r"\bwe will (?:get back to you|respond|reply|be in touch) (?:as soon as|within|shortly)\b",
        ),
        CueSpec::strong(
            "auto_reply.driving",
            r"\bdo not disturb while driving\b|\bdriving with do not disturb\b|\bi'll see your message when i get where i'm going\b",
        ),
        CueSpec::strong(
            "auto_reply.delay_warning",
            r"\bwarning message only\b|\bthis is a warning only\b|\bdo not need to resend\b|\bdelivery (?:to the following recipients? )?(?:has been )?delayed\b",
        ),
        CueSpec::weak("auto_reply.no_reply_address", r"\bno-?reply\b"),
    ],
};
