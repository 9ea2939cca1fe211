//! Opt-out cues. Every one is strong and none is negatable, so a reply that may
//! be a request to stop is treated as one. A missed opt-out is a compliance
//! failure, while a wrong one only ends the outreach to one lead.

use super::{CueGroup, CueSpec};
use crate::ReplyLabel;

pub const OPT_OUT: CueGroup = CueGroup {
    label: ReplyLabel::OptOut,
    cues: &[
        // Carrier opt-out keywords as the whole message. STOP, STOPALL,
        // UNSUBSCRIBE, CANCEL, END and QUIT are the CTIA standard set that US
        // carriers and SMS providers honour; ALTO, PARAR, BAJA, ARRET and STOPP
        // are their Spanish, French and German counterparts.
        CueSpec::strong(
            "opt_out.keyword",
            r"^\W*(?:stop|stop ?all|unsubscribe|unsub|opt ?out|remove|remove me)\W*$",
        ),
        CueSpec::strong(
            "opt_out.carrier_keyword",
            r"^\W*(?:end|quit|cancel|revoke|alto|parar|baja|arret|stopp)\W*$",
        )
        .text_messages_only(),
        CueSpec::strong("opt_out.stop_first_word", r"^\W*stop\b\W").text_messages_only(),
        CueSpec::strong("opt_out.unsubscribe", r"\b(?:un-?subscribe|unsubscribed|unsub)\b"),
        CueSpec::strong("opt_out.opt_out", r"\bopt(?:ing)?[- ]?(?:me |us )?out\b"),
        CueSpec::strong(
            "opt_out.stop_contact",
            r"\b(?:stop|cease|quit) (?:e-?mailing|mailing|texting|messaging|calling|ringing|phoning|contacting|sending|writing|spamming|bothering|pestering|harassing|following up|reaching out|emails|messages|texts|calls|the emails|these emails|these messages)\b",
        ),
        CueSpec::strong(
            "opt_out.please_stop",
            r"\bplease stop(?:[.!,;]|$| it\b| now\b| this\b| that\b| all\b)|\bstop(?:,)? please\b",
        ),
        CueSpec::strong(
            "opt_out.do_not_contact",
            r"\b(?:do not|don't|dont|never|please don't|please do not) (?:ever )?(?:contact|e-?mail|text|message|call|ring|phone|write to|reach out to|bother|spam|follow up with) (?:me|us)\b",
        ),
        CueSpec::strong(
            "opt_out.do_not_follow_up",
            r"\b(?:do not|don't|dont|no need to|please stop) (?:follow(?:ing)? up|send (?:me |us )?(?:any )?(?:more|further))\b",
        ),
        CueSpec::strong(
            "opt_out.no_more_messages",
            r"\bno (?:more|further) (?:e-?mails|messages|texts|calls|contact|follow-?ups)\b",
        ),
        CueSpec::strong(
            "opt_out.remove_me",
            r"\b(?:remove|take|delete|drop|erase|strike|get) (?:me|us|my (?:e-?mail|address|number|name|details|contact details|data|info))(?: address)? (?:off|from|out of)\b",
        ),
        CueSpec::strong("opt_out.remove_me_alone", r"\b(?:remove|unlist) me\b"),
        CueSpec::strong(
            "opt_out.delete_my_data",
            r"\b(?:delete|erase|remove|wipe) (?:all )?(?:of )?my (?:data|details|information|info|personal data|personal information|contact details)\b",
        ),
        CueSpec::strong("opt_out.leave_me_alone", r"\bleave (?:me|us) alone\b"),
        CueSpec::strong("opt_out.never_signed_up", r"\bnever (?:signed up|subscribed|opted in|gave (?:you )?(?:my )?consent)\b"),
        CueSpec::strong("opt_out.withdraw_consent", r"\bwithdraw (?:my |our )?consent\b"),
        CueSpec::strong(
            "opt_out.spam_complaint",
            r"\b(?:this is|that's|reported (?:you |this )?(?:as|for)|report(?:ing)? (?:you|this) (?:as|for)) spam\b",
        ),
        // The number belongs to someone who never consented. Texting a
        // reassigned number again is what the US TCPA penalises, so the number
        // is suppressed rather than treated as a referral.
        CueSpec::strong("opt_out.wrong_number", r"\bwrong (?:number|phone number|mobile)\b"),
        CueSpec::strong("opt_out.do_not_call_list", r"\bdo not call list\b|\bdnc list\b"),
        // German: "bitte austragen", "abmelden", "keine weiteren E-Mails".
        CueSpec::strong("opt_out.de_unsubscribe", r"\b(?:austragen|abmelden|abbestellen|abmeldung|austragung)\b"),
        CueSpec::strong(
            "opt_out.de_no_more",
            r"\bkeine (?:weiteren |weitere )?(?:e-?mails|mails|nachrichten|werbung|anrufe|kontaktaufnahme)\b",
        ),
        CueSpec::strong(
            "opt_out.de_do_not_contact",
            r"\b(?:nicht mehr|nie wieder) (?:kontaktieren|anschreiben|anrufen|schreiben|kontaktiert)\b",
        ),
        CueSpec::strong(
            "opt_out.de_delete",
            r"\b(?:loschen|entfernen) sie (?:mich|meine (?:daten|adresse|e-?mail|nummer))\b|\bmeine daten (?:loschen|entfernen)\b|\baus (?:ihrem|dem) verteiler\b",
        ),
        CueSpec::strong("opt_out.de_objection", r"\bwiderspreche\b|\bwiderspruch gegen\b"),
        // French: "désinscrire", "désabonner", "ne plus me contacter".
        CueSpec::strong("opt_out.fr_unsubscribe", r"\b(?:desinscri\w*|desabonn\w*)\b"),
        CueSpec::strong(
            "opt_out.fr_do_not_contact",
            r"\bne (?:plus|jamais) (?:me |nous )?(?:contacter|ecrire|envoyer|appeler|recevoir)\b|\bne (?:me|nous) (?:contactez|ecrivez|envoyez|appelez) plus\b",
        ),
        CueSpec::strong(
            "opt_out.fr_remove_me",
            r"\b(?:retirez|supprimez|enlevez|effacez)[- ]moi\b|\bme (?:retirer|supprimer|enlever) de\b|\bsupprimez mes (?:donnees|coordonnees)\b",
        ),
        // Spanish: "darme de baja", "no me contacten".
        CueSpec::strong("opt_out.es_unsubscribe", r"\b(?:dar(?:me|nos)?|denme|den) de baja\b|\bdesuscribir\w*\b|\bcancelar (?:la |mi )?suscripcion\b"),
        CueSpec::strong(
            "opt_out.es_do_not_contact",
            r"\bno (?:me |nos )?(?:contacten|contactes|escriban|escribas|envien|mandes|manden|llamen|llames) mas\b|\bno (?:me |nos )?(?:vuelvan|vuelvas) a (?:contactar|escribir|llamar)\b|\bno (?:quiero|deseo|queremos) recibir\b",
        ),
        CueSpec::strong(
            "opt_out.es_delete",
            r"\b(?:eliminar|borrar|eliminen|borren|elimine|borre) mis datos\b|\b(?:eliminen|borren|quiten|saquen)me de\b",
        ),
        // Italian and Dutch.
        CueSpec::strong("opt_out.it_unsubscribe", r"\b(?:cancellami|disiscrivimi|disiscrivermi|non contattatemi)\b"),
        CueSpec::strong("opt_out.nl_unsubscribe", r"\b(?:afmelden|uitschrijven)\b"),
        // A mailto unsubscribe (RFC 2369 List-Unsubscribe) arrives with the
        // subject "unsubscribe" and often an empty body.
        CueSpec::strong(
            "opt_out.subject_unsubscribe",
            r"^(?:(?:re|aw|sv|antw): ?)*(?:unsubscribe|remove|remove me|stop|opt out|austragen|abmelden|desinscription|baja)\W*$",
        )
        .in_subject(),
    ],
};
