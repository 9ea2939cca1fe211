//! Cues for replies written by a person: declines, referrals, meeting requests,
//! interest and questions.

use super::{CueGroup, CueSpec};
use crate::ReplyLabel;

/// A day or time that someone proposes for a meeting: a weekday, "tomorrow",
/// "next week", a clock time, or a day of the month ("the 14th").
macro_rules! time_reference {
    () => {
        r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|tomorrow|tmrw|tmr|tomorow|today|tonight|this (?:week|afternoon|morning|evening)|next (?:week|monday|tuesday|wednesday|thursday|friday)|early next week|\d{1,2}(?::|\.)\d{2}|\d{1,2} ?(?:am|pm)|(?:after|before|at|around) \d{1,2}|the \d{1,2}(?:st|nd|rd|th)|mornings?|afternoons?)\b"
    };
}

/// Words that name a meeting, or accept a proposed time.
macro_rules! meeting_word {
    () => {
        r"(?:call|chat|demo|meeting|meet|zoom|teams call|walkthrough|walk-through|catch up|catch-up|coffee|works for (?:me|us)|suits (?:me|us))\b"
    };
}

pub const NOT_INTERESTED: CueGroup = CueGroup {
    label: ReplyLabel::NotInterested,
    cues: &[
        CueSpec::strong(
            "not_interested.whole_message",
            r"^\W*(?:no|n|nope|nah|no thanks|no thank you|not interested|pass|no interest|non merci|nein danke|no gracias)\W*$",
        ),
        CueSpec::strong(
            "not_interested.not_interested",
            r"\b(?:not|no longer|never been) (?:really |very |at all )?interested\b",
        ),
        CueSpec::strong("not_interested.no_thanks", r"\bno,? thank(?:s| you)\b"),
        CueSpec::strong(
            "not_interested.not_a_fit",
            r"\b(?:isn't|is not|wasn't|not|won't be|will not be) (?:a |the )?(?:good |great |right )?fit\b|\bnot (?:really )?(?:for us|for me)\b",
        ),
        CueSpec::strong(
            "not_interested.different_direction",
            r"\b(?:moved|moving|gone|going|went|headed|decided to go) (?:in )?(?:a )?(?:different|another) direction\b",
        ),
        CueSpec::strong(
            "not_interested.pass",
            r"\b(?:we'll|i'll|we will|i will|going to|gonna|have to|will have to) pass\b|\bpass on this\b",
        ),
        CueSpec::strong(
            "not_interested.not_looking",
            r"\bnot (?:currently )?looking (?:for|to|at|into)\b",
        ),
        CueSpec::strong(
            "not_interested.decided_against",
            r"\bdecided (?:not to|against)\b",
        ),
        CueSpec::strong(
            "not_interested.foreign",
            r"\bkein interesse\b|\bpas interesse(?:e|s|es)?\b|\bno (?:me|nos) interesa\b|\bno estamos interesados\b",
        ),
        CueSpec::weak(
            "not_interested.no_need_to_meet",
            r"\bno need (?:to|for) (?:a |an |any )?(?:book|schedule|meet|call|talk|chat|demo|meeting)",
        ),
        CueSpec::weak(
            "not_interested.all_set",
            r"\bwe're (?:all )?(?:set|good|fine)\b|\bwe are (?:all )?(?:set|fine)\b",
        ),
    ],
};

pub const REFERRAL: CueGroup = CueGroup {
    label: ReplyLabel::Referral,
    cues: &[
        CueSpec::strong(
            "referral.wrong_person",
            r"\bwrong (?:person|contact|e-?mail|address|guy|department|team)\b|\bnot the (?:right|best|correct) (?:person|contact)\b",
        ),
        CueSpec::strong(
            "referral.left_company",
            r"\bi(?:'ve| have)? left (?:the company|the business|the firm|the organi[sz]ation|the team|my (?:role|job|position)|[a-z0-9&.'-]+ (?:in|last|back|earlier|a while|some|a few|over|at the))\b|\b(?:has|have|had) left (?:the company|the business|the firm|the organi[sz]ation|the team|us)\b|\bretired\b",
        ),
        CueSpec::strong(
            "referral.no_longer_there",
            r"\bno longer (?:with|at|works? (?:at|for|with|here)|working (?:at|for|with|here)|employed|part of|in (?:this|that|the) role|responsible for|handling|the (?:right|best) (?:person|contact))\b",
        ),
        CueSpec::strong(
            "referral.changed_role",
            r"\b(?:moved|changed|switched) (?:to |over to )?(?:a )?(?:different|new|another) (?:role|team|position|department|company|job)\b|\bchanged (?:roles|jobs|companies|teams)\b",
        ),
        CueSpec::strong(
            "referral.owner_now",
            r"\b(?:looks after|is responsible for|is in charge of|took over|has taken over|have taken over|now handles|owns) (?:this|that|it|these|the account|the relationship|procurement|purchasing|marketing|sales)\b",
        ),
        CueSpec::strong(
            "referral.contact_address",
            r"\b(?:reach out to|contact|e-?mail|write to|speak (?:to|with)|talk to|get in touch with|try|ask|ping|send (?:it|this|them) to)\b[^.!?]{0,60}?[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+",
        ),
        CueSpec::strong(
            "referral.try_instead",
            r"\b(?:try|contact|ask|reach out to|speak to|talk to|e-?mail|get in touch with) [^.!?]{1,60}? instead\b",
        ),
        CueSpec::strong(
            "referral.colleague",
            r"\b(?:reach out to|contact|get in touch with|speak (?:to|with)|e-?mail|try|ask) (?:my colleague|my replacement|my successor|our (?:head|director|vp|manager|team|procurement|purchasing|marketing|sales|ops|operations|it|finance|cto|ceo|cfo|coo|cmo))\b",
        ),
        CueSpec::strong(
            "referral.forwarded",
            r"\bforward(?:ed|ing)? (?:this|it|your (?:e-?mail|message|note)) (?:on )?to\b|\b(?:cc'?d|copied in|copying in|looping in|looped in)\b",
        ),
        CueSpec::strong(
            "referral.foreign",
            r"\bnicht mehr (?:im unternehmen|bei [a-z]+|zustandig|fur [a-z]+ zustandig)\b|\bwenden sie sich (?:bitte )?an\b|\bne (?:travaille|suis) plus\b|\bne fait plus partie\b|\badressez-vous a\b|\bya no (?:trabajo|trabaja|estoy|esta) (?:en|con)\b",
        ),
    ],
};

pub const MEETING_REQUEST: CueGroup = CueGroup {
    label: ReplyLabel::MeetingRequest,
    cues: &[
        CueSpec::strong(
            "meeting_request.happy_to_meet",
            r"\b(?:happy|glad|keen|open|up|love|like|want|willing) (?:to|for) (?:a |an )?(?:quick |short |brief |proper )?(?:chat|call|talk|meet|meeting|demo|catch up|catch-up|conversation|connect|hop on a call|jump on a call)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.lets_meet",
            r"\blet's (?:talk|chat|meet|connect|catch up|set up|schedule|book|find a time|grab|jump on|hop on|do a (?:call|demo|meeting))\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.how_about_a_call",
            r"\b(?:how about|what about|shall we|can we|could we|should we|why don't we) (?:a |do a |have a |set up a |schedule a |book a |hop on a |jump on a )?(?:quick |short )?(?:call|chat|meeting|demo|zoom|talk)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.could_you_demo",
            r"\b(?:could|can|would) you (?:do|give|show|run|set up|arrange|schedule|book) (?:us |me |the team |a few of us )?(?:a |an )?(?:quick |short |brief )?(?:demo|call|walkthrough|meeting|presentation)\b",
        )
        .negatable(),
        CueSpec::strong("meeting_request.call_me", r"\b(?:call|ring|phone) me\b|\bgive me a (?:call|ring|shout)\b")
            .negatable(),
        CueSpec::strong(
            "meeting_request.book_something",
            r"\bbook (?:something|a (?:call|meeting|slot|time|demo|session)|me in|us in|some time|time|it in)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.pick_a_time",
            r"\b(?:grab|find|pick|suggest|propose|send(?: me| us)?) (?:a |some )?(?:time|slot|times|slots)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.calendar",
            r"\b(?:put|pop|stick|throw|send|set up|schedule) (?:me |us )?(?:something|a (?:call|meeting|invite|slot|time|calendar invite)|an invite)\b|\b(?:in|on|into|to) my (?:calendar|diary|agenda)\b|\bcalendar invite\b|\bcalendly\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.free_at",
            r"\b(?:i'm|i am|we're|we are) (?:free|available) (?:on|at|most|this|next|tomorrow|any|after|before|monday|tuesday|wednesday|thursday|friday)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.minutes",
            r"\b\d{1,2} ?-? ?min(?:ute)?s?\.? (?:call|chat|meeting|demo|zoom|slot)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.asks_for_times",
            r"\bwhat (?:times?|days?|slots?) (?:works?|suits?|are good|would work|is good)\b|\bwhen (?:are|would) you (?:be )?(?:free|available)\b|\bwhen works\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.proposes_time",
            concat!(
                r"\b(?:can we do|could we do|how about|what about|shall we say|let's say|are you free|you free) (?:[a-z0-9:']+ ){0,2}",
                time_reference!(),
            ),
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.does_time_work",
            concat!(
                r"\b(?:does|would|will|is) ",
                time_reference!(),
                r" (?:[a-z0-9:']+ ){0,3}(?:work|suit|ok|okay|good|fine)\b",
            ),
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.foreign",
            r"\b(?:rufen sie mich|ruf mich) (?:[a-z]+ ){0,3}an\b|\b(?:einen )?termin (?:vereinbaren|ausmachen)\b|\bappele[sz]?-moi\b|\bappelez-moi\b|\bprenons (?:un )?rendez-vous\b|\bllam(?:a|e)me\b|\b(?:agendar|agendemos|programar) una (?:llamada|reunion)\b",
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.word_then_time",
            concat!(r"\b", meeting_word!(), r"[^.!?]*?\b", time_reference!()),
        )
        .negatable(),
        CueSpec::strong(
            "meeting_request.time_then_word",
            concat!(r"\b", time_reference!(), r"[^.!?]*?\b", meeting_word!()),
        )
        .negatable(),
        CueSpec::weak("meeting_request.meeting_word", r"\b(?:call|demo|meeting|zoom|walkthrough)\b").negatable(),
    ],
};

pub const INTERESTED: CueGroup = CueGroup {
    label: ReplyLabel::Interested,
    cues: &[
        CueSpec::strong(
            "interested.whole_message",
            r"^\W*(?:yes|y|yes please|yeah|yep|sure|ok|okay|sounds good|great|interested|i'm interested|absolutely|definitely|why not|go ahead|tell me more)\W*$",
        ),
        CueSpec::strong("interested.yes_please", r"\byes,? please\b").negatable(),
        CueSpec::strong(
            "interested.sounds_good",
            r"\b(?:sounds|looks) (?:good|great|interesting|promising)\b",
        )
        .negatable(),
        CueSpec::strong(
            "interested.interested",
            r"\b(?:i'm|i am|we're|we are|i'd be|we'd be|would be|i would be|we would be) (?:very |definitely |still |genuinely |quite |actually )?(?:interested|keen)\b",
        )
        .negatable(),
        CueSpec::strong("interested.tell_me_more", r"\b(?:tell|show) (?:me|us) more\b").negatable(),
        CueSpec::strong(
            "interested.send_material",
            r"\b(?:send|share|forward) (?:me |us )?(?:over |across |through )?(?:the |some |more |your |a )?(?:info|information|details|case stud(?:y|ies)|deck|pricing|brochure|proposal|one-pager|overview|examples?|materials?)\b",
        )
        .negatable(),
        CueSpec::strong("interested.keep_talking", r"\b(?:keep|continue) (?:talking|the conversation)\b").negatable(),
        CueSpec::strong(
            "interested.makes_sense_now",
            r"\b(?:might|could|may|would|does|should) (?:actually |now |finally )?make sense\b",
        )
        .negatable(),
        CueSpec::strong(
            "interested.better_timing",
            r"\b(?:timing|time) is (?:better|right) now\b|\b(?:good|perfect|great) timing\b",
        )
        .negatable(),
        CueSpec::strong(
            "interested.learn_more",
            r"\b(?:i'd|we'd|i would|we would) (?:like|love) to (?:learn|hear|know|see|find out) more\b",
        )
        .negatable(),
        CueSpec::strong("interested.lets_do_it", r"\blet's do (?:it|this)\b|\bcount (?:me|us) in\b").negatable(),
        CueSpec::strong("interested.back_on_radar", r"\bback on (?:the|our|my) (?:radar|agenda|roadmap)\b").negatable(),
        CueSpec::weak(
            "interested.evaluating",
            r"\b(?:re-?evaluating|looking at|looking into|reviewing|exploring) (?:tools|options|vendors|solutions|providers)\b",
        )
        .negatable(),
        CueSpec::weak(
            "interested.good_to_hear",
            r"\bgood to hear from you\b|\bappreciate the (?:nudge|follow-?up|reminder)\b|\bthanks for (?:reaching out|following up|the nudge|checking in)\b",
        ),
        CueSpec::weak("interested.interesting", r"\binteresting\b").negatable(),
    ],
};

pub const QUESTION: CueGroup = CueGroup {
    label: ReplyLabel::Question,
    cues: &[
        CueSpec::weak("question.question_mark", r"\?"),
        CueSpec::weak(
            "question.asks",
            r"\b(?:i was wondering|i'm wondering|curious (?:whether|if|how|what|about)|(?:could|can) you (?:tell|explain|clarify|confirm|let me know)|do you (?:have|offer|support|integrate|work with)|does it|how much|what (?:is|are|does) (?:the )?(?:price|pricing|cost))\b",
        ),
    ],
};
