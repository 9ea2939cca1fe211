//! Seniority read from a job title, in English, German, French and Spanish.

use serde::{Deserialize, Serialize};

use crate::text::{contains_phrase, normalise_for_matching};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    Other,
    Manager,
    /// Vice presidents, heads of a function and directors.
    Head,
    /// Chief officers, founders, owners and managing directors.
    Executive,
}

/// Titles that contain an executive word but rank lower, checked first.
const BELOW_EXECUTIVE: &[(&str, Seniority)] = &[
    ("vice president", Seniority::Head),
    ("vicepresidente", Seniority::Head),
    ("vicepresidenta", Seniority::Head),
    ("vizepräsident", Seniority::Head),
    ("vizepräsidentin", Seniority::Head),
    ("product owner", Seniority::Manager),
];

const EXECUTIVE_PHRASES: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cro",
    "cio",
    "ciso",
    "cpo",
    "chief",
    "founder",
    "co-founder",
    "cofounder",
    "owner",
    "president",
    "managing director",
    "general manager",
    // German
    "geschäftsführer",
    "geschäftsführerin",
    "geschaeftsfuehrer",
    "geschaeftsfuehrerin",
    "inhaber",
    "inhaberin",
    "vorstand",
    "vorstandsvorsitzender",
    "gründer",
    "gründerin",
    // French
    "pdg",
    "président",
    "présidente",
    "directeur général",
    "directrice générale",
    "fondateur",
    "fondatrice",
    "gérant",
    "gérante",
    // Spanish
    "director general",
    "directora general",
    "director ejecutivo",
    "directora ejecutiva",
    "gerente general",
    "fundador",
    "fundadora",
    "presidente",
    "presidenta",
    "propietario",
    "propietaria",
];

const HEAD_PHRASES: &[&str] = &[
    "vp",
    "svp",
    "evp",
    "avp",
    "vice president",
    "head",
    "director",
    "directors",
    // German: compound titles ending in "leiter" are handled by suffix below.
    "direktor",
    "direktorin",
    "leiter",
    "leiterin",
    "bereichsleiter",
    "abteilungsleiter",
    // French
    "directeur",
    "directrice",
    "chef de service",
    // Spanish
    "directora",
    "jefe",
    "jefa",
];

const MANAGER_PHRASES: &[&str] = &[
    "manager",
    "managerin",
    "supervisor",
    "team lead",
    "teamleiter",
    "teamleiterin",
    "projektleiter",
    "projektleiterin",
    "gruppenleiter",
    "gruppenleiterin",
    "responsable",
    "chef de projet",
    "gerente",
    "coordinador",
    "coordinadora",
];

/// German compound titles: "Vertriebsleiterin" heads sales, but "Teamleiter"
/// leads a team, so team, project and group prefixes rank as manager.
const GERMAN_MANAGER_PREFIXES: &[&str] = &["team", "projekt", "gruppen"];
const GERMAN_HEAD_SUFFIXES: &[&str] = &["leiter", "leiterin", "direktor", "direktorin"];

/// Reads the seniority of a job title.
pub fn seniority_of(title: &str) -> Seniority {
    let normalised = normalise_for_matching(title);
    let has_any = |phrases: &[&str]| {
        phrases
            .iter()
            .any(|phrase| contains_phrase(&normalised, phrase))
    };

    let below = BELOW_EXECUTIVE
        .iter()
        .find(|(phrase, _)| contains_phrase(&normalised, phrase));
    if let Some((_, seniority)) = below {
        return *seniority;
    }
    if has_any(EXECUTIVE_PHRASES) {
        return Seniority::Executive;
    }
    if has_any(HEAD_PHRASES) {
        return Seniority::Head;
    }
    if let Some(seniority) = german_compound(&normalised) {
        return seniority;
    }
    if has_any(MANAGER_PHRASES) {
        return Seniority::Manager;
    }
    Seniority::Other
}

fn german_compound(normalised: &str) -> Option<Seniority> {
    normalised.split(' ').find_map(|word| {
        let suffix = GERMAN_HEAD_SUFFIXES
            .iter()
            .find(|suffix| word.ends_with(*suffix))?;
        let prefix = &word[..word.len() - suffix.len()];
        if GERMAN_MANAGER_PREFIXES
            .iter()
            .any(|manager| prefix.ends_with(manager))
        {
            Some(Seniority::Manager)
        } else {
            Some(Seniority::Head)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_titles() {
        assert_eq!(seniority_of("CEO"), Seniority::Executive);
        assert_eq!(seniority_of("Co-Founder & CTO"), Seniority::Executive);
        assert_eq!(seniority_of("Managing Director"), Seniority::Executive);
        assert_eq!(seniority_of("VP Sales"), Seniority::Head);
        assert_eq!(seniority_of("Vice President, Marketing"), Seniority::Head);
        assert_eq!(seniority_of("Head of Growth"), Seniority::Head);
        assert_eq!(seniority_of("Director of Operations"), Seniority::Head);
        assert_eq!(seniority_of("Account Manager"), Seniority::Manager);
        assert_eq!(seniority_of("Sales Analyst"), Seniority::Other);
        assert_eq!(seniority_of("Product Owner"), Seniority::Manager);
    }

    #[test]
    fn director_is_not_cto() {
        assert_eq!(seniority_of("Director"), Seniority::Head);
    }

    #[test]
    fn german_titles() {
        assert_eq!(seniority_of("Geschäftsführer"), Seniority::Executive);
        assert_eq!(seniority_of("GESCHÄFTSFÜHRERIN"), Seniority::Executive);
        assert_eq!(seniority_of("Leiterin Marketing"), Seniority::Head);
        assert_eq!(seniority_of("Vertriebsleiterin"), Seniority::Head);
        assert_eq!(seniority_of("Teamleiter Einkauf"), Seniority::Manager);
        assert_eq!(seniority_of("Projektleiterin"), Seniority::Manager);
    }

    #[test]
    fn french_titles() {
        assert_eq!(seniority_of("Directrice commerciale"), Seniority::Head);
        assert_eq!(seniority_of("Directeur Général"), Seniority::Executive);
        assert_eq!(seniority_of("PDG"), Seniority::Executive);
        assert_eq!(seniority_of("Responsable achats"), Seniority::Manager);
    }

    #[test]
    fn spanish_titles() {
        assert_eq!(seniority_of("Director Comercial"), Seniority::Head);
        assert_eq!(seniority_of("Directora de Ventas"), Seniority::Head);
        assert_eq!(seniority_of("Directora General"), Seniority::Executive);
        assert_eq!(seniority_of("Gerente de Compras"), Seniority::Manager);
        assert_eq!(seniority_of("Jefa de Marketing"), Seniority::Head);
    }
}
