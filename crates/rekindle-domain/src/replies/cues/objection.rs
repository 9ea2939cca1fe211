//! Objection cues: a reason not to buy now, with its kind.

use super::{CueGroup, CueSpec};
use crate::{ObjectionKind, ReplyLabel};

const PRICE: ObjectionKind = ObjectionKind::Price;
const TIMING: ObjectionKind = ObjectionKind::Timing;
const COMPETITOR: ObjectionKind = ObjectionKind::Competitor;
const AUTHORITY: ObjectionKind = ObjectionKind::Authority;
const NEED: ObjectionKind = ObjectionKind::Need;

/// A later time at which the lead requests contact ("next quarter", "in Q3").
macro_rules! later_time {
    () => {
        r"(?:q[1-4]|the new year|new year|next (?:year|quarter|month)|a (?:few|couple of) (?:months|weeks)|\d+ (?:months|weeks)|(?:six|three|two|few) months|(?:the )?(?:summer|autumn|fall|winter|spring)|january|february|march|april|may|june|july|august|september|october|november|december|the (?:year|quarter))\b"
    };
}

pub const OBJECTION: CueGroup = CueGroup {
    label: ReplyLabel::Objection,
    cues: &[
        CueSpec::strong("objection.too_expensive", r"\btoo (?:expensive|pricey|costly)\b|\bcosts? too much\b")
            .objection(PRICE),
        CueSpec::strong(
            "objection.cannot_afford",
            r"\b(?:can't|cannot|can not|couldn't) afford\b|\bjustify the (?:cost|price|spend|investment|expense|fee)\b",
        )
        .objection(PRICE),
        CueSpec::strong(
            "objection.budget",
            r"\b(?:no|not enough|don't have (?:the |a |any )?|out of|tight|limited|zero|lack of|without (?:a )?|frozen) budget\b|\bbudget(?:-wise| is (?:tight|frozen|gone|spent|limited|an issue|the issue)| was (?:tight|cut|frozen)| cuts?\b| constraints?\b| freeze\b)",
        )
        .objection(PRICE),
        CueSpec::strong(
            "objection.price_blocker",
            r"\b(?:price|pricing|cost|costs|fee|fees) (?:is|are|was|were) (?:still )?(?:the |a |an )?(?:blocker|problem|issue|too high|steep|prohibitive|out of (?:our|my) range)\b|\bout of (?:our|my) (?:price range|budget)\b",
        )
        .objection(PRICE),
        CueSpec::strong(
            "objection.cheaper_plan",
            r"\b(?:cheaper|smaller|lower|lighter|more affordable) (?:plan|option|tier|package|version)\b",
        )
        .objection(PRICE),
        CueSpec::strong(
            "objection.price_foreign",
            r"\bzu teuer\b|\bkein budget\b|\btrop cher\b|\bpas de budget\b|\bdemasiado caro\b|\bsin presupuesto\b",
        )
        .objection(PRICE),
        CueSpec::strong(
            "objection.not_right_time",
            r"\bnot (?:the )?right (?:time|now|moment)\b|\bnot (?:a )?(?:good|great) time\b|\bnot (?:right )?now\b",
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.bad_timing",
            r"\b(?:bad|poor|terrible|awkward) timing\b|\btiming (?:isn't|is not|'s not|not) (?:right|great|ideal|good)\b",
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.later",
            concat!(
                r"\b(?:maybe|perhaps|possibly|try|check back|circle back|reach out|follow up|ask|ping me|come back|get back|revisit|reconnect|talk) (?:again |with me |to me |with us |this |in touch )?(?:in|next|after|later in|around|towards|at the end of|early|late) ",
                later_time!(),
            ),
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.later_this_year",
            r"\blater (?:this|in the|next) year\b|\b(?:next|in the new) (?:quarter|fiscal year|financial year)\b|\b(?:after|once) (?:the )?(?:summer|holidays|new year|q[1-4]|quarter end|year end|budget cycle|our (?:launch|migration|busy season))\b",
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.busy",
            r"\btoo busy\b|\bswamped\b|\bslammed\b|\b(?:hiring|spending) freeze\b|\b(?:in the middle of|going through) (?:a |an )?(?:re-?org\w*|restructur\w*|merger|migration|acquisition)\b",
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.timing_foreign",
            r"\b(?:derzeit|zurzeit|momentan|aktuell) nicht\b|\bpas (?:le bon moment|maintenant|pour le moment)\b|\bno es (?:el )?buen momento\b|\bahora no\b|\bmas adelante\b",
        )
        .objection(TIMING),
        CueSpec::strong(
            "objection.already_use",
            r"\balready (?:use|using|work with|working with|signed with|went with|chose|partnered with|bought|pay for|paying for)\b|\balready have (?:a |an )?(?:solution|tool|vendor|provider|system|platform|partner|agency|contract)\b",
        )
        .objection(COMPETITOR),
        CueSpec::strong(
            "objection.went_with",
            r"\b(?:went|gone|decided to go|signed|ended up going|decided to stay|sticking|staying) with\b|\b(?:switched|migrated) (?:over )?to\b",
        )
        .objection(COMPETITOR),
        CueSpec::strong(
            "objection.happy_with_current",
            r"\b(?:happy|satisfied|content) with (?:our|the) (?:current|existing) (?:provider|vendor|tool|solution|setup|system|partner|agency)\b|\b(?:under|in a|locked into a|signed a) contract with\b",
        )
        .objection(COMPETITOR),
        CueSpec::strong(
            "objection.decision_for",
            r"\bdecision for (?:our|my|the)\b|\bnot (?:my|me) (?:decision|call|choice)\b|\bnot up to me\b|\bnot (?:the|a) decision[- ]?maker\b|\babove my pay ?grade\b|\bout of my hands\b",
        )
        .objection(AUTHORITY),
        CueSpec::strong(
            "objection.needs_approval",
            r"\b(?:need|have|would need|'d need) to (?:run (?:it|this) (?:by|past)|check with|ask|get (?:approval|sign-off|sign off|buy-in) from|talk to) (?:my|our|the) (?:boss|manager|team|ceo|cfo|cto|coo|founder|director|head|vp|board|partner|leadership|management)\b",
        )
        .objection(AUTHORITY),
        CueSpec::strong(
            "objection.checks_with_boss",
            r"\b(?:check|confirm|discuss (?:it|this)|run (?:it|this) (?:by|past)|talk (?:it |this )?(?:over )?(?:with|to)) (?:with )?(?:my|our) (?:boss|manager|ceo|cfo|cto|coo|founder|co-founder|director|head of [a-z]+|vp|board|business partner|leadership|management)\b",
        )
        .objection(AUTHORITY),
        CueSpec::strong(
            "objection.boss_decides",
            r"\b(?:my|our) (?:boss|manager|ceo|cfo|cto|founder|director|head of [a-z]+|vp|board|leadership|management) (?:decides|makes (?:the|that|those) decisions?|would (?:have|need) to|has the final say|signs off)\b|\bi (?:don't|do not) (?:make|own) (?:the|that|these|those) (?:decision|call)s?\b",
        )
        .objection(AUTHORITY),
        CueSpec::strong(
            "objection.no_problem",
            r"\b(?:don't|do not|doesn't|no longer) (?:really )?(?:have|see|face) (?:that|this|the|a|any|much of a) (?:problem|need|issue|use case|pain|challenge)\b",
        )
        .objection(NEED),
        CueSpec::strong(
            "objection.do_not_need",
            r"\b(?:don't|do not|doesn't) (?:really )?need (?:it|this|that|a (?:tool|solution|service)|something like this|anything like this|your (?:product|service|tool))\b|\bno (?:real |longer a |longer any )?need for (?:it|this|that|a (?:tool|solution|service)|something like this|your)\b",
        )
        .objection(NEED),
        CueSpec::strong(
            "objection.too_small",
            r"\b(?:volume|team|usage|list|pipeline|business|company|database) is (?:too|far too|way too) (?:low|small)\b|\btoo (?:small|low) for (?:this|it|us|that)\b",
        )
        .objection(NEED),
        CueSpec::strong(
            "objection.in_house",
            r"\b(?:moved|brought|took|do|handle|handling|handled|build|built|solved|fixed|manage|managing) (?:it |this |that |everything |all of (?:it|this|that) |the (?:work|process) |things )?(?:in-house|in house|internally|ourselves)\b|\bbuilt our own\b|\bwe have our own\b",
        )
        .objection(NEED),
        CueSpec::strong(
            "objection.not_a_priority",
            r"\bno longer (?:relevant|a priority|an issue|a problem|needed|applicable)\b|\bnot (?:a |really a )?(?:priority|problem|pain point|need) for us\b|\bnot (?:something|what) we need\b|\bdon't see the (?:value|need|point)\b|\bnot worth it\b",
        )
        .objection(NEED),
        CueSpec::strong(
            "objection.need_foreign",
            r"\bbrauchen (?:wir|ich) nicht\b|\bkein bedarf\b|\bpas besoin\b|\bno (?:lo )?necesitamos\b",
        )
        .objection(NEED),
    ],
};
